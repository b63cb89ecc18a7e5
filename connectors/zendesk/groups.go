package zendesk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tenure-id/tenure/connectors/internal/jsonapi"
	"github.com/tenure-id/tenure/pkg/connector"
)

type groupMembership struct {
	ID      int64 `json:"id"`
	UserID  int64 `json:"user_id"`
	GroupID int64 `json:"group_id"`
}

// groupID resolves entitlement group:SLUG, reading the groups again when the slug is unknown
// (someone may have just made the group).
func (c *Connector) groupID(ctx context.Context, entitlement string) (int64, error) {
	kind, name, ok := strings.Cut(entitlement, ":")
	if !ok || kind != "group" || name == "" {
		return 0, &connector.Error{Kind: connector.ErrInvalid, Detail: fmt.Sprintf("entitlement %q is not group:NAME", entitlement)}
	}
	c.mu.Lock()
	id, ok := c.groups[jsonapi.Slug(name)]
	c.mu.Unlock()
	if ok {
		return id, nil
	}
	groups, err := c.readGroups(ctx)
	if err != nil {
		return 0, err
	}
	for s, gid := range groups {
		if s == jsonapi.Slug(name) {
			return gid, nil
		}
	}
	return 0, &connector.Error{Kind: connector.ErrNotFound, Detail: fmt.Sprintf("Zendesk has no group named like %q", name)}
}

// readGroups reads every group (slug → id) and caches the answer.
func (c *Connector) readGroups(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	err := c.pages(ctx, "/api/v2/groups", func(raw pageBody) error {
		for _, g := range raw.Groups {
			out[jsonapi.Slug(g.Name)] = g.ID
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.groups = out
	c.mu.Unlock()
	return out, nil
}

func (c *Connector) addMember(ctx context.Context, op connector.Op) (connector.Account, error) {
	uid, err := userID(op.AccountID)
	if err != nil {
		return connector.Account{}, err
	}
	gid, err := c.groupID(ctx, op.Entitlement)
	if err != nil {
		return connector.Account{}, err
	}
	body := map[string]groupMembership{"group_membership": {UserID: uid, GroupID: gid}}
	err = c.do(ctx, http.MethodPost, "/api/v2/group_memberships", body, nil)
	if err != nil && !errors.Is(err, connector.ErrConflict) { // a conflict: a member already
		return connector.Account{}, err
	}
	return c.reread(ctx, op.AccountID)
}

// reread returns the user as Zendesk holds it now, group memberships included.
func (c *Connector) reread(ctx context.Context, id string) (connector.Account, error) {
	var got userEnvelope
	if err := c.do(ctx, http.MethodGet, "/api/v2/users/"+url.PathEscape(id), nil, &got); err != nil {
		return connector.Account{}, err
	}
	return c.withGroups(ctx, got.User)
}

func (c *Connector) removeMember(ctx context.Context, op connector.Op) (connector.Account, error) {
	acc := connector.Account{ID: op.AccountID}
	gid, err := c.groupID(ctx, op.Entitlement)
	if err != nil {
		return connector.Account{}, err
	}
	var ms []groupMembership
	err = c.pages(ctx, "/api/v2/users/"+url.PathEscape(op.AccountID)+"/group_memberships", func(p pageBody) error {
		ms = append(ms, p.GroupMemberships...)
		return nil
	})
	if errors.Is(err, connector.ErrNotFound) {
		return acc, nil // no such user: no membership to remove
	}
	if err != nil {
		return connector.Account{}, err
	}
	for _, m := range ms {
		if m.GroupID != gid {
			continue
		}
		err := c.do(ctx, http.MethodDelete, "/api/v2/group_memberships/"+strconv.FormatInt(m.ID, 10), nil, nil)
		if err != nil && !errors.Is(err, connector.ErrNotFound) {
			return connector.Account{}, err
		}
	}
	return c.reread(ctx, op.AccountID)
}

// withGroups reads u's group memberships into its account.
func (c *Connector) withGroups(ctx context.Context, u user) (connector.Account, error) {
	a := u.account()
	var ms []groupMembership
	err := c.pages(ctx, "/api/v2/users/"+strconv.FormatInt(u.ID, 10)+"/group_memberships", func(p pageBody) error {
		ms = append(ms, p.GroupMemberships...)
		return nil
	})
	if err != nil || len(ms) == 0 {
		return a, err
	}
	c.mu.Lock()
	groups := c.groups
	c.mu.Unlock()
	names := func(groups map[string]int64) map[int64]string {
		out := make(map[int64]string, len(groups))
		for s, id := range groups {
			out[id] = s
		}
		return out
	}
	byID := names(groups)
	for _, m := range ms {
		if _, ok := byID[m.GroupID]; !ok { // a group made since the last read
			if groups, err = c.readGroups(ctx); err != nil {
				return connector.Account{}, err
			}
			byID = names(groups)
			break
		}
	}
	for _, m := range ms {
		if name, ok := byID[m.GroupID]; ok {
			a.Memberships = append(a.Memberships, "group:"+name)
		}
	}
	return a, nil
}

// userID is a Zendesk user id; anything else cannot name a user there.
func userID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, &connector.Error{Kind: connector.ErrNotFound, Detail: fmt.Sprintf("%q is not a Zendesk user id", s)}
	}
	return id, nil
}

// pageBody is any cursor-paged list answer.
type pageBody struct {
	Users            []user            `json:"users"`
	GroupMemberships []groupMembership `json:"group_memberships"`
	Groups           []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"groups"`
	Meta struct {
		HasMore     bool   `json:"has_more"`
		AfterCursor string `json:"after_cursor"`
	} `json:"meta"`
}

// pages walks a list with cursor pagination.
func (c *Connector) pages(ctx context.Context, path string, each func(pageBody) error) error {
	q := url.Values{"page[size]": {strconv.Itoa(c.pageSize)}}
	for {
		var p pageBody
		if err := c.do(ctx, http.MethodGet, path+"?"+q.Encode(), nil, &p); err != nil {
			return err
		}
		if err := each(p); err != nil {
			return err
		}
		if !p.Meta.HasMore || p.Meta.AfterCursor == "" {
			return nil
		}
		q.Set("page[after]", p.Meta.AfterCursor)
	}
}

// List implements connector.Connector: live users (suspended ones inactive) with their groups.
func (c *Connector) List(ctx context.Context) ([]connector.Account, error) {
	var out []connector.Account
	index := map[int64]int{}
	err := c.pages(ctx, "/api/v2/users", func(p pageBody) error {
		for _, u := range p.Users {
			if u.Active {
				index[u.ID] = len(out)
				out = append(out, u.account())
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	groups, err := c.readGroups(ctx)
	if err != nil {
		return nil, err
	}
	names := make(map[int64]string, len(groups))
	for s, id := range groups {
		names[id] = s
	}
	err = c.pages(ctx, "/api/v2/group_memberships", func(p pageBody) error {
		for _, m := range p.GroupMemberships {
			i, ok := index[m.UserID]
			if name, known := names[m.GroupID]; ok && known {
				out[i].Memberships = append(out[i].Memberships, "group:"+name)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
