package zendesk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tenure-id/tenure/pkg/connector"
)

// user is a Zendesk user as read.
type user struct {
	ID         int64   `json:"id"`
	Name       string  `json:"name"`
	Email      string  `json:"email"`
	Role       string  `json:"role"`
	RoleType   *int    `json:"role_type"`
	ExternalID *string `json:"external_id"`
	Suspended  bool    `json:"suspended"`
	Active     bool    `json:"active"`
}

// userWrite is a user in a request; nil fields are left alone.
type userWrite struct {
	Name         string  `json:"name,omitempty"`
	Email        string  `json:"email,omitempty"`
	Role         string  `json:"role,omitempty"`
	CustomRoleID *int64  `json:"custom_role_id,omitempty"`
	ExternalID   *string `json:"external_id,omitempty"`
	Suspended    *bool   `json:"suspended,omitempty"`
}

type userEnvelope struct {
	User user `json:"user"`
}

func (u user) account() connector.Account {
	local, _, _ := strings.Cut(u.Email, "@")
	a := connector.Account{ID: strconv.FormatInt(u.ID, 10), UserName: local, Email: u.Email, DisplayName: u.Name,
		Active: !u.Suspended, Role: u.Role}
	if u.ExternalID != nil {
		a.ExternalID = *u.ExternalID
	}
	if u.Role == "agent" && u.RoleType != nil && *u.RoleType == 1 {
		a.Role = "light-agent"
	}
	return a
}

// write is the body that gives a user account a's fields (not its active state).
func (c *Connector) write(ctx context.Context, a connector.Account) (userWrite, error) {
	if a.UserName == "" {
		return userWrite{}, &connector.Error{Kind: connector.ErrInvalid, Detail: "user_name is required (it names the Zendesk user's email)"}
	}
	domain := c.domain
	if _, d, ok := strings.Cut(a.Email, "@"); ok {
		domain = strings.ToLower(d)
	}
	if domain == "" {
		return userWrite{}, &connector.Error{Kind: connector.ErrInvalid, Detail: "email is required (or set the domain option)"}
	}
	w := userWrite{Email: strings.ToLower(a.UserName) + "@" + domain, Name: a.DisplayName}
	if w.Name == "" {
		w.Name = strings.TrimSpace(a.GivenName + " " + a.FamilyName)
	}
	if w.Name == "" {
		w.Name = a.UserName
	}
	if a.ExternalID != "" { // an account without one (an orphan) keeps what Zendesk holds
		ext := a.ExternalID
		w.ExternalID = &ext
	}
	switch a.Role {
	case "", "end-user", "agent", "admin":
		w.Role = a.Role
	case "light-agent":
		id, err := c.lightAgentRole(ctx)
		if err != nil {
			return userWrite{}, err
		}
		w.Role, w.CustomRoleID = "agent", &id
	default:
		return userWrite{}, &connector.Error{Kind: connector.ErrInvalid, Detail: fmt.Sprintf("role %q is not one of end-user|light-agent|agent|admin", a.Role)}
	}
	return w, nil
}

// lightAgentRole looks the Light Agent custom role up once.
func (c *Connector) lightAgentRole(ctx context.Context) (int64, error) {
	c.mu.Lock()
	id := c.lightAgent
	c.mu.Unlock()
	if id != 0 {
		return id, nil
	}
	var out struct {
		Roles []struct {
			ID       int64  `json:"id"`
			Name     string `json:"name"`
			RoleType int    `json:"role_type"`
		} `json:"custom_roles"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v2/custom_roles", nil, &out); err != nil {
		return 0, err
	}
	for _, r := range out.Roles {
		if c.lightName == "" && r.RoleType == 1 || c.lightName != "" && strings.EqualFold(r.Name, c.lightName) {
			c.mu.Lock()
			c.lightAgent = r.ID
			c.mu.Unlock()
			return r.ID, nil
		}
	}
	return 0, &connector.Error{Kind: connector.ErrInvalid, Detail: "role light-agent: the account has no Light Agent custom role (set light_agent_role, or use agent or end-user)"}
}

// Apply implements connector.Connector.
func (c *Connector) Apply(ctx context.Context, op connector.Op) (connector.Account, error) {
	switch op.Kind {
	case connector.OpCreate:
		return c.create(ctx, op.Account)
	case connector.OpUpdate:
		w, err := c.write(ctx, op.Account)
		if err != nil {
			return connector.Account{}, err
		}
		return c.put(ctx, op.AccountID, w)
	case connector.OpEnable, connector.OpDisable:
		suspended := op.Kind == connector.OpDisable
		return c.put(ctx, op.AccountID, userWrite{Suspended: &suspended})
	case connector.OpDelete:
		err := c.do(ctx, http.MethodDelete, "/api/v2/users/"+url.PathEscape(op.AccountID), nil, nil)
		if errors.Is(err, connector.ErrNotFound) {
			err = nil // deleted already
		}
		return connector.Account{ID: op.AccountID, Active: false}, err
	case connector.OpAddMember:
		return c.addMember(ctx, op)
	case connector.OpRemoveMember:
		return c.removeMember(ctx, op)
	}
	return connector.Account{}, &connector.Error{Kind: connector.ErrInvalid, Detail: fmt.Sprintf("unknown operation %q", op.Kind)}
}

// put updates user id with w. An email in w becomes the primary address through the
// identities endpoints: on the user itself Zendesk would only add it as a further identity.
func (c *Connector) put(ctx context.Context, id string, w userWrite) (connector.Account, error) {
	email := w.Email
	w.Email = ""
	var got userEnvelope
	if err := c.do(ctx, http.MethodPut, "/api/v2/users/"+url.PathEscape(id), map[string]userWrite{"user": w}, &got); err != nil {
		return connector.Account{}, err
	}
	if email != "" && !strings.EqualFold(got.User.Email, email) {
		if err := c.setPrimaryEmail(ctx, id, email); err != nil {
			return connector.Account{}, err
		}
		got.User.Email = email
	}
	return got.User.account(), nil
}

type identity struct {
	ID      int64  `json:"id"`
	Type    string `json:"type"`
	Value   string `json:"value"`
	Primary bool   `json:"primary"`
}

// setPrimaryEmail makes email the user's primary address: the identity holding it becomes
// primary, or else the primary identity takes the new value.
func (c *Connector) setPrimaryEmail(ctx context.Context, id, email string) error {
	var out struct {
		Identities []identity `json:"identities"`
	}
	base := "/api/v2/users/" + url.PathEscape(id) + "/identities"
	if err := c.do(ctx, http.MethodGet, base, nil, &out); err != nil {
		return err
	}
	var primary *identity
	for i, x := range out.Identities {
		if x.Type != "email" {
			continue
		}
		if strings.EqualFold(x.Value, email) {
			return c.do(ctx, http.MethodPut, base+"/"+strconv.FormatInt(x.ID, 10)+"/make_primary", nil, nil)
		}
		if x.Primary {
			primary = &out.Identities[i]
		}
	}
	if primary == nil {
		return &connector.Error{Kind: connector.ErrInvalid, Detail: "the user has no primary email identity to change"}
	}
	body := map[string]map[string]any{"identity": {"value": email, "verified": true}}
	return c.do(ctx, http.MethodPut, base+"/"+strconv.FormatInt(primary.ID, 10), body, nil)
}

// create adopts the user holding the ExternalID, else creates one; a duplicate email adopts
// the holder when it is unclaimed or already this person's.
func (c *Connector) create(ctx context.Context, want connector.Account) (connector.Account, error) {
	w, err := c.write(ctx, want)
	if err != nil {
		return connector.Account{}, err
	}
	suspended := !want.Active
	w.Suspended = &suspended
	if w.Role == "" {
		w.Role = "end-user"
	}
	if want.ExternalID != "" {
		have, err := c.search(ctx, url.Values{"external_id": {want.ExternalID}}, func(u user) bool {
			return u.ExternalID != nil && *u.ExternalID == want.ExternalID
		})
		switch {
		case err == nil:
			return c.put(ctx, strconv.FormatInt(have.ID, 10), w)
		case !errors.Is(err, connector.ErrNotFound):
			return connector.Account{}, err
		}
	}
	var got userEnvelope
	err = c.do(ctx, http.MethodPost, "/api/v2/users", map[string]userWrite{"user": w}, &got)
	if err == nil {
		return got.User.account(), nil
	}
	if !errors.Is(err, connector.ErrConflict) {
		return connector.Account{}, err
	}
	have, ferr := c.search(ctx, url.Values{"query": {"email:" + w.Email}}, func(u user) bool { return strings.EqualFold(u.Email, w.Email) })
	if ferr != nil {
		return connector.Account{}, err // the original refusal says more than the search
	}
	if have.ExternalID != nil && *have.ExternalID != "" && *have.ExternalID != want.ExternalID {
		return connector.Account{}, &connector.Error{Kind: connector.ErrConflict, Status: http.StatusUnprocessableEntity,
			Detail: fmt.Sprintf("%s is already being used by another person's user", w.Email)}
	}
	return c.put(ctx, strconv.FormatInt(have.ID, 10), w)
}

// search returns the first live user of a search that match accepts.
func (c *Connector) search(ctx context.Context, q url.Values, match func(user) bool) (user, error) {
	var out struct {
		Users []user `json:"users"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v2/users/search?"+q.Encode(), nil, &out); err != nil {
		return user{}, err
	}
	for _, u := range out.Users {
		if u.Active && match(u) {
			return u, nil
		}
	}
	return user{}, &connector.Error{Kind: connector.ErrNotFound, Detail: "no user matches"}
}

// Find implements connector.Finder.
func (c *Connector) Find(ctx context.Context, m connector.Match) (connector.Account, error) {
	type try struct {
		q     url.Values
		match func(user) bool
	}
	var tries []try
	if m.ExternalID != "" {
		tries = append(tries, try{url.Values{"external_id": {m.ExternalID}}, func(u user) bool { return u.ExternalID != nil && *u.ExternalID == m.ExternalID }})
	}
	emails := []string{}
	if m.UserName != "" && c.domain != "" {
		emails = append(emails, strings.ToLower(m.UserName)+"@"+c.domain)
	}
	if m.Email != "" {
		emails = append(emails, strings.ToLower(m.Email))
	}
	for _, e := range emails {
		tries = append(tries, try{url.Values{"query": {"email:" + e}}, func(u user) bool { return strings.EqualFold(u.Email, e) }})
	}
	for _, t := range tries {
		u, err := c.search(ctx, t.q, t.match)
		if err == nil {
			return c.withGroups(ctx, u)
		}
		if !errors.Is(err, connector.ErrNotFound) {
			return connector.Account{}, err
		}
	}
	return connector.Account{}, &connector.Error{Kind: connector.ErrNotFound, Detail: "no user matches"}
}
