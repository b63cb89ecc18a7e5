package scim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/tenure-id/tenure/pkg/connector"
)

// memberships reads every group with its members once: user ID → entitlement keys, sorted.
func (c *Connector) memberships(ctx context.Context) (map[string][]string, error) {
	if c.p.GroupPath == "" {
		return nil, nil
	}
	groups, err := c.pages(ctx, c.p.GroupPath, "")
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, g := range groups {
		key := c.p.GroupKind + ":" + str(g["displayName"])
		members, _ := getFold(g, "members").([]any)
		for _, m := range members {
			mm, _ := m.(map[string]any)
			if id := str(getFold(mm, "value")); id != "" && !slices.Contains(out[id], key) {
				out[id] = append(out[id], key)
			}
		}
	}
	for _, keys := range out {
		slices.Sort(keys)
	}
	return out, nil
}

// membershipsOf returns one user's entitlement keys, sorted.
func (c *Connector) membershipsOf(ctx context.Context, id string) ([]string, error) {
	if c.p.GroupPath == "" {
		return nil, nil
	}
	if !c.p.MemberFilter {
		all, err := c.memberships(ctx)
		return all[id], err
	}
	groups, err := c.pages(ctx, c.p.GroupPath, "members[value eq "+quote(id)+"]")
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, g := range groups {
		if key := c.p.GroupKind + ":" + str(g["displayName"]); !slices.Contains(keys, key) {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// group finds the group named name, creating it when create is set and it is missing.
func (c *Connector) group(ctx context.Context, name string, create bool) (string, bool, error) {
	find := func() (string, bool, error) {
		found, err := c.pages(ctx, c.p.GroupPath, "displayName eq "+quote(name))
		if err != nil {
			return "", false, err
		}
		for _, g := range found {
			if strings.EqualFold(str(g["displayName"]), name) {
				return g.id(), true, nil
			}
		}
		return "", false, nil
	}
	id, ok, err := find()
	if err != nil || ok || !create {
		return id, ok, err
	}
	var out resource
	body := map[string]any{"schemas": []string{GroupSchema}, "displayName": name}
	_, err = c.Do(ctx, http.MethodPost, c.p.GroupPath, nil, body, nil, &out)
	if errors.Is(err, connector.ErrConflict) {
		return find() // created meanwhile by another worker
	}
	if err != nil {
		return "", false, err
	}
	c.log.Info("scim: created group", "app", c.app, "group", name)
	return out.id(), out.id() != "", nil
}

func (c *Connector) membership(ctx context.Context, op connector.Op) (connector.Account, error) {
	kind, name, ok := strings.Cut(op.Entitlement, ":")
	if !ok || name == "" || kind != c.p.GroupKind || c.p.GroupPath == "" {
		return connector.Account{}, invalid("entitlement %q is not a %s this app manages", op.Entitlement, c.p.GroupKind)
	}
	add := op.Kind == connector.OpAddMember
	var user resource
	if add {
		u, _, err := c.getUser(ctx, op.AccountID)
		if err != nil {
			return connector.Account{}, err
		}
		user = u
	}
	gid, found, err := c.group(ctx, name, add && c.p.CreateGroups)
	if err != nil {
		return connector.Account{}, err
	}
	if !found && add {
		return connector.Account{}, &connector.Error{Kind: connector.ErrNotFound,
			Detail: fmt.Sprintf("group %q does not exist in the app and create_groups is off", name)}
	}
	if found {
		patch := map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": op.AccountID}}}
		if !add {
			patch = map[string]any{"op": "remove", "path": "members[value eq " + quote(op.AccountID) + "]"}
		}
		_, err = c.Do(ctx, http.MethodPatch, c.p.GroupPath+"/"+url.PathEscape(gid), nil, patchBody(patch), nil, nil)
		var ce *connector.Error
		if !add && errors.As(err, &ce) && (ce.Kind == connector.ErrNotFound || strings.HasPrefix(ce.Detail, "noTarget") ||
			strings.Contains(ce.Detail, ": noTarget:")) {
			err = nil // the membership (or the group) is already gone
		}
		if err != nil {
			return connector.Account{}, err
		}
	}
	if user == nil {
		a := op.Account
		a.ID = op.AccountID
		return a, nil
	}
	return c.toAccount(user), nil
}
