package google

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/tenure-id/tenure/pkg/connector"
)

// Apply implements connector.Connector.
func (c *Connector) Apply(ctx context.Context, op connector.Op) (connector.Account, error) {
	switch op.Kind {
	case connector.OpCreate:
		return c.create(ctx, op.Account)
	case connector.OpUpdate:
		var have user
		if err := c.do(ctx, http.MethodGet, "/users/"+url.PathEscape(op.AccountID), nil, nil, &have); err != nil {
			return connector.Account{}, err
		}
		return c.set(ctx, have, op.Account, false)
	case connector.OpEnable, connector.OpDisable:
		suspended := op.Kind == connector.OpDisable
		var got user
		err := c.do(ctx, http.MethodPatch, "/users/"+url.PathEscape(op.AccountID), nil, userWrite{Suspended: &suspended}, &got)
		return got.account(), err
	case connector.OpDelete:
		err := c.do(ctx, http.MethodDelete, "/users/"+url.PathEscape(op.AccountID), nil, nil, nil)
		if errors.Is(err, connector.ErrNotFound) {
			err = nil // already deleted
		}
		return connector.Account{ID: op.AccountID}, err
	case connector.OpAddMember:
		return c.addMember(ctx, op)
	case connector.OpRemoveMember:
		return c.removeMember(ctx, op)
	}
	return connector.Account{}, &connector.Error{Kind: connector.ErrInvalid, Detail: fmt.Sprintf("unknown operation %q", op.Kind)}
}

// create inserts the account, or adopts the one that already carries its ExternalID or, when
// unclaimed, its primary email.
func (c *Connector) create(ctx context.Context, want connector.Account) (connector.Account, error) {
	body, err := c.write(want, user{})
	if err != nil {
		return connector.Account{}, err
	}
	if want.ExternalID != "" {
		have, err := c.byExternalID(ctx, want.ExternalID)
		switch {
		case err == nil:
			return c.set(ctx, have, want, true)
		case !errors.Is(err, connector.ErrNotFound):
			return connector.Account{}, err
		}
		restored, err := c.undelete(ctx, want)
		switch {
		case err != nil:
			return connector.Account{}, err
		case restored != nil:
			return c.set(ctx, *restored, want, true)
		}
	}
	suspended := !want.Active
	body.Suspended = &suspended
	body.Password = newPassword()
	no := false
	body.ChangePasswordAtNextLogin = &no
	var got user
	err = c.do(ctx, http.MethodPost, "/users", nil, body, &got)
	if errors.Is(err, connector.ErrConflict) {
		var have user
		if gerr := c.do(ctx, http.MethodGet, "/users/"+url.PathEscape(body.PrimaryEmail), nil, nil, &have); gerr != nil {
			return connector.Account{}, err
		}
		if id := have.tenureID(); id != "" && id != want.ExternalID {
			return connector.Account{}, &connector.Error{Kind: connector.ErrConflict, Status: http.StatusConflict,
				Detail: fmt.Sprintf("%s belongs to the account of another person", body.PrimaryEmail)}
		}
		return c.set(ctx, have, want, true) // made by hand or by an earlier attempt: adopt it
	}
	if err != nil {
		return connector.Account{}, err
	}
	if err := c.setAdmin(ctx, &got, want.Role); err != nil {
		return connector.Account{}, err
	}
	return got.account(), nil
}

// set makes the existing user have hold want's fields and, when adopting it for a create,
// want's active state too.
func (c *Connector) set(ctx context.Context, have user, want connector.Account, adopt bool) (connector.Account, error) {
	body, err := c.write(want, have)
	if err != nil {
		return connector.Account{}, err
	}
	if adopt {
		suspended := !want.Active
		body.Suspended = &suspended
	}
	var got user
	if err := c.do(ctx, http.MethodPatch, "/users/"+url.PathEscape(have.ID), nil, body, &got); err != nil {
		return connector.Account{}, err
	}
	if err := c.setAdmin(ctx, &got, want.Role); err != nil {
		return connector.Account{}, err
	}
	return got.account(), nil
}

// setAdmin grants or revokes super admin when role says otherwise than u holds; an empty
// role leaves it alone.
func (c *Connector) setAdmin(ctx context.Context, u *user, role string) error {
	if role == "" {
		return nil
	}
	want := role == "admin"
	if want == u.IsAdmin {
		return nil
	}
	if err := c.do(ctx, http.MethodPost, "/users/"+url.PathEscape(u.ID)+"/makeAdmin", nil, map[string]bool{"status": want}, nil); err != nil {
		return err
	}
	u.IsAdmin = want
	return nil
}

func (c *Connector) addMember(ctx context.Context, op connector.Op) (connector.Account, error) {
	group, err := c.groupEmail(op.Entitlement)
	if err != nil {
		return connector.Account{}, err
	}
	member := map[string]string{"role": "MEMBER"}
	if op.Account.Email != "" {
		member["email"] = op.Account.Email
	} else {
		member["id"] = op.AccountID
	}
	err = c.do(ctx, http.MethodPost, "/groups/"+url.PathEscape(group)+"/members", nil, member, nil)
	if err != nil && !errors.Is(err, connector.ErrConflict) { // a conflict: a member already
		return connector.Account{}, err
	}
	return c.reread(ctx, op.AccountID)
}

// reread returns the account as Google holds it now, memberships included.
func (c *Connector) reread(ctx context.Context, id string) (connector.Account, error) {
	var u user
	if err := c.do(ctx, http.MethodGet, "/users/"+url.PathEscape(id), nil, nil, &u); err != nil {
		return connector.Account{}, err
	}
	return c.withGroups(ctx, u)
}

func (c *Connector) removeMember(ctx context.Context, op connector.Op) (connector.Account, error) {
	group, err := c.groupEmail(op.Entitlement)
	if err != nil {
		return connector.Account{}, err
	}
	err = c.do(ctx, http.MethodDelete, "/groups/"+url.PathEscape(group)+"/members/"+url.PathEscape(op.AccountID), nil, nil, nil)
	var ce *connector.Error
	if errors.As(err, &ce) && errors.Is(err, connector.ErrNotFound) && !strings.Contains(ce.Detail, "groupKey") {
		err = nil // not a member (any more): nothing to remove
	}
	if err != nil {
		return connector.Account{}, err
	}
	acc, err := c.reread(ctx, op.AccountID)
	if errors.Is(err, connector.ErrNotFound) {
		return connector.Account{ID: op.AccountID}, nil // no such user: no membership either
	}
	return acc, err
}

// undelete restores the person's deleted user, if Google still holds it (for 20 days after
// deletion), so a rehire gets their mailbox back. It returns nil when there is none to
// restore, or when its address has been given to someone else meanwhile.
func (c *Connector) undelete(ctx context.Context, want connector.Account) (*user, error) {
	q := url.Values{"customer": {c.customer}, "showDeleted": {"true"}, "maxResults": {"500"}}
	for {
		var page struct {
			Users         []user `json:"users"`
			NextPageToken string `json:"nextPageToken"`
		}
		if err := c.do(ctx, http.MethodGet, "/users", q, nil, &page); err != nil {
			return nil, err
		}
		for _, u := range page.Users {
			if u.tenureID() != want.ExternalID {
				continue
			}
			ou := "/"
			if p := orgUnitPath(want); p != nil {
				ou = *p
			}
			err := c.do(ctx, http.MethodPost, "/users/"+url.PathEscape(u.ID)+"/undelete", nil, map[string]string{"orgUnitPath": ou}, nil)
			if errors.Is(err, connector.ErrConflict) {
				return nil, nil
			}
			if err != nil {
				return nil, err
			}
			return &u, nil
		}
		if page.NextPageToken == "" {
			return nil, nil
		}
		q.Set("pageToken", page.NextPageToken)
	}
}

// byExternalID finds the live user carrying the Tenure id. The search matches any externalIds
// value, so the type is checked here.
func (c *Connector) byExternalID(ctx context.Context, id string) (user, error) {
	q := url.Values{"customer": {c.customer}, "query": {"externalId:'" + strings.ReplaceAll(id, "'", `\'`) + "'"}, "maxResults": {"10"}}
	var page struct {
		Users []user `json:"users"`
	}
	if err := c.do(ctx, http.MethodGet, "/users", q, nil, &page); err != nil {
		return user{}, err
	}
	for _, u := range page.Users {
		if u.tenureID() == id {
			return u, nil
		}
	}
	return user{}, &connector.Error{Kind: connector.ErrNotFound, Detail: "no user carries the external id"}
}

// Find implements connector.Finder.
func (c *Connector) Find(ctx context.Context, m connector.Match) (connector.Account, error) {
	if m.ExternalID != "" {
		u, err := c.byExternalID(ctx, m.ExternalID)
		if err == nil {
			return c.withGroups(ctx, u)
		}
		if !errors.Is(err, connector.ErrNotFound) {
			return connector.Account{}, err
		}
	}
	var keys []string
	if m.UserName != "" {
		keys = append(keys, strings.ToLower(m.UserName)+"@"+c.domain)
	}
	if m.Email != "" {
		keys = append(keys, m.Email)
	}
	for _, key := range keys {
		var u user
		err := c.do(ctx, http.MethodGet, "/users/"+url.PathEscape(key), nil, nil, &u)
		if err == nil {
			return c.withGroups(ctx, u)
		}
		if !errors.Is(err, connector.ErrNotFound) {
			return connector.Account{}, err
		}
	}
	return connector.Account{}, &connector.Error{Kind: connector.ErrNotFound, Detail: "no user matches"}
}
