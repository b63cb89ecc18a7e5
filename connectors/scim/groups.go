package scim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

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
		c.groups.put(str(g["displayName"]), g.id())
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

// group finds the group named name, creating it when create is set and it is missing. cached
// says the ID came from the group cache without asking the app: a 404 on it means the group
// is gone or was remade, and the caller forgets it and asks again.
func (c *Connector) group(ctx context.Context, name string, create bool) (id string, found, cached bool, err error) {
	if id, ok := c.groups.get(name); ok {
		return id, true, true, nil
	}
	id, found, err = c.lookupGroup(ctx, name, create)
	if found {
		c.groups.put(name, id)
	}
	return id, found, false, err
}

func (c *Connector) lookupGroup(ctx context.Context, name string, create bool) (string, bool, error) {
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
	if c.p.GroupExternalID {
		body["externalId"] = name
	}
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
	patch := map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": op.AccountID}}}
	if !add {
		patch = map[string]any{"op": "remove", "path": "members[value eq " + quote(op.AccountID) + "]"}
	}
	for {
		gid, found, cached, err := c.group(ctx, name, add && c.p.CreateGroups)
		if err != nil {
			return connector.Account{}, err
		}
		if !found && add {
			return connector.Account{}, &connector.Error{Kind: connector.ErrNotFound,
				Detail: fmt.Sprintf("group %q does not exist in the app and create_groups is off", name)}
		}
		if !found {
			break // no group, no membership to remove
		}
		_, err = c.Do(ctx, http.MethodPatch, c.p.GroupPath+"/"+url.PathEscape(gid), nil, patchBody(patch), nil, nil)
		if cached && errors.Is(err, connector.ErrNotFound) {
			// The cached ID is stale (the group was deleted, or deleted and made again): ask
			// the app once more.
			c.groups.forget(name, gid)
			continue
		}
		var ce *connector.Error
		if !add && errors.As(err, &ce) && (ce.Kind == connector.ErrNotFound || strings.HasPrefix(ce.Detail, "noTarget") ||
			strings.Contains(ce.Detail, ": noTarget:")) {
			err = nil // the membership (or the group) is already gone
		}
		if err != nil {
			return connector.Account{}, err
		}
		break
	}
	if user == nil {
		a := op.Account
		a.ID = op.AccountID
		return a, nil
	}
	return c.toAccount(user), nil
}

// groupCache maps group displayNames (case-insensitively, as the app matches them) to IDs, so
// that membership changes do not look their group up each time. An entry goes when a request
// on its ID answers 404.
type groupCache struct {
	mu  sync.Mutex
	ids map[string]string
}

func (g *groupCache) get(name string) (string, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	id, ok := g.ids[strings.ToLower(name)]
	return id, ok
}

func (g *groupCache) put(name, id string) {
	if name == "" || id == "" {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ids == nil {
		g.ids = map[string]string{}
	}
	g.ids[strings.ToLower(name)] = id
}

// forget drops name's entry if it still holds id (another worker may have renewed it).
func (g *groupCache) forget(name, id string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ids[strings.ToLower(name)] == id {
		delete(g.ids, strings.ToLower(name))
	}
}
