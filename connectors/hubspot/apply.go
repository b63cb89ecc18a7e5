package hubspot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/tenure-id/tenure/connectors/internal/jsonapi"
	"github.com/tenure-id/tenure/pkg/connector"
)

// user is a HubSpot user as read.
type user struct {
	ID               string   `json:"id"`
	Email            string   `json:"email"`
	FirstName        string   `json:"firstName"`
	LastName         string   `json:"lastName"`
	RoleID           string   `json:"roleId"`
	PrimaryTeamID    string   `json:"primaryTeamId"`
	SecondaryTeamIDs []string `json:"secondaryTeamIds"`
	SuperAdmin       bool     `json:"superAdmin"`
}

// userWrite is a create or update body; nil fields are left alone.
type userWrite struct {
	Email            string    `json:"email,omitempty"`
	SendWelcomeEmail *bool     `json:"sendWelcomeEmail,omitempty"`
	FirstName        *string   `json:"firstName,omitempty"`
	LastName         *string   `json:"lastName,omitempty"`
	RoleID           *string   `json:"roleId,omitempty"`
	PrimaryTeamID    *string   `json:"primaryTeamId,omitempty"`
	SecondaryTeamIDs *[]string `json:"secondaryTeamIds,omitempty"`
}

func (c *Connector) account(ctx context.Context, u user) (connector.Account, error) {
	local, _, _ := strings.Cut(u.Email, "@")
	a := connector.Account{ID: u.ID, UserName: local, Email: u.Email, GivenName: u.FirstName, FamilyName: u.LastName, Active: true}
	roles, teams, err := c.lookups(ctx, u.RoleID, append([]string{u.PrimaryTeamID}, u.SecondaryTeamIDs...))
	if err != nil {
		return connector.Account{}, err
	}
	switch {
	case u.RoleID != "":
		a.Role = nameOf(roles, u.RoleID)
	case u.SuperAdmin:
		a.Role = "super-admin"
	}
	for _, id := range append([]string{u.PrimaryTeamID}, u.SecondaryTeamIDs...) {
		if id != "" {
			a.Memberships = append(a.Memberships, "team:"+nameOf(teams, id))
		}
	}
	return a, nil
}

// nameOf is the slug an id has in m, or the id itself when the lookup does not know it.
func nameOf(m map[string]string, id string) string {
	for name, x := range m {
		if x == id {
			return name
		}
	}
	return id
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
		u, err := c.get(ctx, op.AccountID)
		if err != nil {
			return connector.Account{}, err
		}
		if op.Kind == connector.OpDisable {
			return connector.Account{}, &connector.Error{Kind: connector.ErrInvalid,
				Detail: "HubSpot users cannot be suspended: deprovisioning deletes them"}
		}
		return c.account(ctx, u) // always active
	case connector.OpDelete:
		err := c.do(ctx, http.MethodDelete, "/settings/v3/users/"+url.PathEscape(op.AccountID), nil, nil)
		if errors.Is(err, connector.ErrNotFound) {
			err = nil // removed already
		}
		return connector.Account{ID: op.AccountID}, err
	case connector.OpAddMember, connector.OpRemoveMember:
		return c.membership(ctx, op)
	}
	return connector.Account{}, &connector.Error{Kind: connector.ErrInvalid, Detail: fmt.Sprintf("unknown operation %q", op.Kind)}
}

// write is the update body for account a: names, and the role when a names one.
func (c *Connector) write(ctx context.Context, a connector.Account) (userWrite, error) {
	w := userWrite{FirstName: &a.GivenName, LastName: &a.FamilyName}
	if a.Role != "" {
		roles, _, err := c.lookups(ctx, "", nil)
		if err != nil {
			return w, err
		}
		id, ok := roles[jsonapi.Slug(a.Role)]
		if !ok {
			if roles, _, err = c.refresh(ctx); err != nil {
				return w, err
			}
			if id, ok = roles[jsonapi.Slug(a.Role)]; !ok {
				return w, &connector.Error{Kind: connector.ErrInvalid, Detail: fmt.Sprintf("role %q: HubSpot has no permission set of that name", a.Role)}
			}
		}
		w.RoleID = &id
	}
	return w, nil
}

func (c *Connector) email(a connector.Account) (string, error) {
	if a.UserName == "" {
		return "", &connector.Error{Kind: connector.ErrInvalid, Detail: "user_name is required (it names the HubSpot user's email)"}
	}
	domain := c.domain
	if _, d, ok := strings.Cut(a.Email, "@"); ok {
		domain = strings.ToLower(d)
	}
	if domain == "" {
		return "", &connector.Error{Kind: connector.ErrInvalid, Detail: "email is required (or set the domain option)"}
	}
	return strings.ToLower(a.UserName) + "@" + domain, nil
}

// create makes the user, or adopts the one that already holds its email: HubSpot has no
// external id, so the email is the only key.
func (c *Connector) create(ctx context.Context, want connector.Account) (connector.Account, error) {
	email, err := c.email(want)
	if err != nil {
		return connector.Account{}, err
	}
	w, err := c.write(ctx, want)
	if err != nil {
		return connector.Account{}, err
	}
	w.Email, w.SendWelcomeEmail = email, &c.welcome
	var got user
	err = c.do(ctx, http.MethodPost, "/settings/v3/users/", w, &got)
	if errors.Is(err, connector.ErrConflict) || errors.Is(err, connector.ErrInvalid) {
		// Whether a taken email answers 409 or 400 is not documented: look before deciding.
		have, gerr := c.getByEmail(ctx, email)
		if gerr != nil {
			return connector.Account{}, err
		}
		w.Email, w.SendWelcomeEmail = "", nil
		return c.put(ctx, have.ID, w)
	}
	if err != nil {
		return connector.Account{}, err
	}
	return c.account(ctx, got)
}

func (c *Connector) get(ctx context.Context, id string) (user, error) {
	var u user
	err := c.do(ctx, http.MethodGet, "/settings/v3/users/"+url.PathEscape(id), nil, &u)
	return u, err
}

func (c *Connector) getByEmail(ctx context.Context, email string) (user, error) {
	var u user
	err := c.do(ctx, http.MethodGet, "/settings/v3/users/"+url.PathEscape(email)+"?idProperty=EMAIL", nil, &u)
	return u, err
}

func (c *Connector) put(ctx context.Context, id string, w userWrite) (connector.Account, error) {
	var got user
	if err := c.do(ctx, http.MethodPut, "/settings/v3/users/"+url.PathEscape(id), w, &got); err != nil {
		return connector.Account{}, err
	}
	return c.account(ctx, got)
}

// membership adds or removes a team: the first team is the primary one, the others
// secondary; removing the primary team promotes the first secondary one.
func (c *Connector) membership(ctx context.Context, op connector.Op) (connector.Account, error) {
	kind, name, ok := strings.Cut(op.Entitlement, ":")
	if !ok || kind != "team" || name == "" {
		return connector.Account{}, &connector.Error{Kind: connector.ErrInvalid, Detail: fmt.Sprintf("entitlement %q is not team:NAME", op.Entitlement)}
	}
	u, err := c.get(ctx, op.AccountID)
	if errors.Is(err, connector.ErrNotFound) && op.Kind == connector.OpRemoveMember {
		return connector.Account{ID: op.AccountID}, nil // no user: no membership
	}
	if err != nil {
		return connector.Account{}, err
	}
	team, err := c.teamID(ctx, name)
	if err != nil {
		return connector.Account{}, err
	}
	primary, secondary := u.PrimaryTeamID, slices.Clone(u.SecondaryTeamIDs)
	held := primary == team || slices.Contains(secondary, team)
	switch {
	case op.Kind == connector.OpAddMember && held, op.Kind == connector.OpRemoveMember && !held:
		return c.account(ctx, u) // nothing to change
	case op.Kind == connector.OpAddMember && primary == "":
		primary = team
	case op.Kind == connector.OpAddMember:
		secondary = append(secondary, team)
	case primary == team:
		primary = ""
		if len(secondary) > 0 {
			primary, secondary = secondary[0], secondary[1:]
		}
	default:
		secondary = slices.DeleteFunc(secondary, func(id string) bool { return id == team })
	}
	if secondary == nil {
		secondary = []string{}
	}
	return c.put(ctx, u.ID, userWrite{PrimaryTeamID: &primary, SecondaryTeamIDs: &secondary})
}

// teamID resolves a team name, reading the teams again when it is not known yet (someone may
// have just made the team).
func (c *Connector) teamID(ctx context.Context, name string) (string, error) {
	_, teams, err := c.lookups(ctx, "", nil)
	if err != nil {
		return "", err
	}
	if id, ok := teams[jsonapi.Slug(name)]; ok {
		return id, nil
	}
	if _, teams, err = c.refresh(ctx); err != nil {
		return "", err
	}
	if id, ok := teams[jsonapi.Slug(name)]; ok {
		return id, nil
	}
	return "", &connector.Error{Kind: connector.ErrNotFound, Detail: fmt.Sprintf("HubSpot has no team named like %q", name)}
}

// lookups returns the role and team names (slug → id), reading them when first needed and
// again when roleID or one of teamIDs is not known yet.
func (c *Connector) lookups(ctx context.Context, roleID string, teamIDs []string) (map[string]string, map[string]string, error) {
	c.mu.Lock()
	roles, teams := c.roles, c.teams
	c.mu.Unlock()
	stale := roles == nil || teams == nil
	if !stale && roleID != "" {
		stale = nameOf(roles, roleID) == roleID
	}
	for _, id := range teamIDs {
		if !stale && id != "" {
			stale = nameOf(teams, id) == id
		}
	}
	if !stale {
		return roles, teams, nil
	}
	return c.refresh(ctx)
}

func (c *Connector) refresh(ctx context.Context) (map[string]string, map[string]string, error) {
	var rs, ts struct {
		Results []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"results"`
	}
	if err := c.do(ctx, http.MethodGet, "/settings/v3/users/roles", nil, &rs); err != nil {
		return nil, nil, err
	}
	if err := c.do(ctx, http.MethodGet, "/settings/v3/users/teams", nil, &ts); err != nil {
		return nil, nil, err
	}
	roles, teams := map[string]string{}, map[string]string{}
	for _, r := range rs.Results {
		roles[jsonapi.Slug(r.Name)] = r.ID
	}
	for _, t := range ts.Results {
		teams[jsonapi.Slug(t.Name)] = t.ID
	}
	c.mu.Lock()
	c.roles, c.teams = roles, teams
	c.mu.Unlock()
	return roles, teams, nil
}

// Find implements connector.Finder. HubSpot holds no external id: only the user name (in the
// domain) and the email can find a user.
func (c *Connector) Find(ctx context.Context, m connector.Match) (connector.Account, error) {
	var emails []string
	if m.UserName != "" && c.domain != "" {
		emails = append(emails, strings.ToLower(m.UserName)+"@"+c.domain)
	}
	if m.Email != "" {
		emails = append(emails, strings.ToLower(m.Email))
	}
	for _, e := range emails {
		u, err := c.getByEmail(ctx, e)
		if err == nil {
			return c.account(ctx, u)
		}
		if !errors.Is(err, connector.ErrNotFound) {
			return connector.Account{}, err
		}
	}
	return connector.Account{}, &connector.Error{Kind: connector.ErrNotFound, Detail: "no user matches"}
}

// List implements connector.Connector.
func (c *Connector) List(ctx context.Context) ([]connector.Account, error) {
	var out []connector.Account
	q := url.Values{"limit": {strconv.Itoa(c.pageSize)}}
	for {
		var page struct {
			Results []user `json:"results"`
			Paging  struct {
				Next struct {
					After string `json:"after"`
				} `json:"next"`
			} `json:"paging"`
		}
		if err := c.do(ctx, http.MethodGet, "/settings/v3/users/?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		for _, u := range page.Results {
			a, err := c.account(ctx, u)
			if err != nil {
				return nil, err
			}
			out = append(out, a)
		}
		if page.Paging.Next.After == "" {
			return out, nil
		}
		q.Set("after", page.Paging.Next.After)
	}
}
