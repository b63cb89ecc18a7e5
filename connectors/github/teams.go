package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tenure-id/tenure/pkg/connector"
)

var nonLogin = regexp.MustCompile(`[^a-z0-9-]+`)

// ManagedLogin is the login GitHub gives a managed user: the SCIM userName without an email's
// domain, lower-cased, each run of characters other than letters, digits and dashes made one
// dash, then "_" and the enterprise shortcode.
func ManagedLogin(userName, shortcode string) string {
	base := strings.ToLower(userName)
	if i := strings.IndexByte(base, '@'); i >= 0 {
		base = base[:i]
	}
	return strings.Trim(nonLogin.ReplaceAllString(base, "-"), "-") + "_" + shortcode
}

// list reads the SCIM users with their group memberships, plus the
// team memberships (active and pending) of the org's teams that are not linked to a group.
func (c *Connector) list(ctx context.Context) ([]connector.Account, error) {
	accs, err := c.scim.List(ctx)
	if err != nil {
		return nil, c.fixErr(err)
	}
	if c.org == "" {
		return accs, nil
	}
	teams, err := c.teamsOf(ctx)
	if err != nil {
		return nil, fmt.Errorf("app %s: listing teams: %w", c.app, c.fixErr(err))
	}
	byLogin := map[string]int{}
	for i, a := range accs {
		if a.Active {
			byLogin[strings.ToLower(c.Login(a.UserName))] = i
		}
	}
	for _, slug := range teams {
		if _, linked := c.links[slug]; linked {
			continue
		}
		logins, err := c.teamLogins(ctx, slug)
		if err != nil {
			return nil, fmt.Errorf("app %s: listing team %s: %w", c.app, slug, c.fixErr(err))
		}
		for _, login := range logins {
			if i, ok := byLogin[strings.ToLower(login)]; ok && !slices.Contains(accs[i].Memberships, "team:"+slug) {
				accs[i].Memberships = append(accs[i].Memberships, "team:"+slug)
			}
		}
	}
	for i := range accs {
		slices.Sort(accs[i].Memberships)
	}
	return accs, nil
}

// findTeams adds the account's memberships (active or pending) of the org's unlinked teams,
// one membership read per team.
func (c *Connector) findTeams(ctx context.Context, a *connector.Account) error {
	teams, err := c.teamsOf(ctx)
	if err != nil {
		return err
	}
	login := url.PathEscape(c.Login(a.UserName))
	for _, slug := range teams {
		if _, linked := c.links[slug]; linked {
			continue
		}
		var tm TeamMembership
		_, err := c.scim.Do(ctx, http.MethodGet, c.orgPath("/teams/"+url.PathEscape(slug)+"/memberships/"+login), nil, nil, nil, &tm)
		switch {
		case errors.Is(err, connector.ErrNotFound):
		case err != nil:
			return err
		case !slices.Contains(a.Memberships, "team:"+slug):
			a.Memberships = append(a.Memberships, "team:"+slug)
		}
	}
	slices.Sort(a.Memberships)
	return nil
}

// restPages reads every page of a REST list (per_page=100, following page numbers until a
// short page) into out's elements.
func restPages[T any](ctx context.Context, c *Connector, path string) ([]T, error) {
	var all []T
	for page := 1; ; page++ {
		var items []T
		q := url.Values{"per_page": {"100"}, "page": {strconv.Itoa(page)}}
		if _, err := c.scim.Do(ctx, http.MethodGet, path, q, nil, nil, &items); err != nil {
			return nil, err
		}
		all = append(all, items...)
		if len(items) < 100 {
			return all, nil
		}
	}
}

func (c *Connector) orgPath(rest string) string { return "/orgs/" + url.PathEscape(c.org) + rest }

func (c *Connector) teamsOf(ctx context.Context) ([]string, error) {
	teams, err := restPages[struct {
		Slug string `json:"slug"`
	}](ctx, c, c.orgPath("/teams"))
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(teams))
	for _, t := range teams {
		out = append(out, t.Slug)
	}
	return out, nil
}

// teamLogins returns a team's members and the logins invited to it (pending memberships count:
// the grant is made, GitHub waits for the person).
func (c *Connector) teamLogins(ctx context.Context, slug string) ([]string, error) {
	type login struct {
		Login string `json:"login"`
	}
	base := c.orgPath("/teams/" + url.PathEscape(slug))
	members, err := restPages[login](ctx, c, base+"/members")
	if err != nil {
		return nil, err
	}
	invited, err := restPages[login](ctx, c, base+"/invitations")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range append(members, invited...) {
		if m.Login != "" {
			out = append(out, m.Login)
		}
	}
	return out, nil
}

// currentUser reads the SCIM user (so an unknown account is ErrNotFound before any team call).
func (c *Connector) currentUser(ctx context.Context, id string) (connector.Account, error) {
	var r struct {
		ID         string `json:"id"`
		ExternalID string `json:"externalId"`
		UserName   string `json:"userName"`
		Active     *bool  `json:"active"`
	}
	if _, err := c.scim.Do(ctx, http.MethodGet, c.userPath+"/"+url.PathEscape(id), nil, nil, nil, &r); err != nil {
		return connector.Account{}, err
	}
	return connector.Account{ID: r.ID, ExternalID: r.ExternalID, UserName: r.UserName, Active: r.Active == nil || *r.Active}, nil
}

// TeamMembership is GitHub's answer to a team membership PUT.
type TeamMembership struct {
	URL   string `json:"url"`
	Role  string `json:"role"`
	State string `json:"state"` // active, or pending until the person joins the org
}

func (c *Connector) team(ctx context.Context, op connector.Op, slug string) (connector.Account, error) {
	if c.org == "" {
		return connector.Account{}, &connector.Error{Kind: connector.ErrInvalid, Detail: "team entitlements need options.org"}
	}
	if slug == "" {
		return connector.Account{}, &connector.Error{Kind: connector.ErrInvalid, Detail: "a team entitlement needs a slug (team:SLUG)"}
	}
	if g, linked := c.links[slug]; linked {
		return connector.Account{}, &connector.Error{Kind: connector.ErrInvalid,
			Detail: fmt.Sprintf("team %s takes its members from group %q (team_links); grant group:%s instead", slug, g, g)}
	}
	if op.AccountID == "" {
		return connector.Account{}, &connector.Error{Kind: connector.ErrInvalid, Detail: "membership without an account ID"}
	}
	cur, err := c.currentUser(ctx, op.AccountID)
	if err != nil {
		return connector.Account{}, err
	}
	login := url.PathEscape(c.Login(cur.UserName))
	path := c.orgPath("/teams/" + url.PathEscape(slug) + "/memberships/" + login)
	if op.Kind == connector.OpRemoveMember {
		_, err := c.scim.Do(ctx, http.MethodDelete, path, nil, nil, nil, nil)
		if err != nil && !errors.Is(err, connector.ErrNotFound) {
			return connector.Account{}, err
		}
		return cur, nil
	}
	if !cur.Active {
		return connector.Account{}, &connector.Error{Kind: connector.ErrInvalid,
			Detail: fmt.Sprintf("account %s is suspended; enable it before adding it to team %s", op.AccountID, slug)}
	}
	if !c.orgMode {
		// Managed users join the org directly (no invitation to accept), which makes the team
		// membership active at once.
		body := map[string]string{"role": "member"}
		var om struct {
			State string `json:"state"`
		}
		if _, err := c.scim.Do(ctx, http.MethodGet, c.orgPath("/memberships/"+login), nil, nil, nil, &om); err != nil {
			if !errors.Is(err, connector.ErrNotFound) {
				return connector.Account{}, err
			}
			if _, err := c.scim.Do(ctx, http.MethodPut, c.orgPath("/memberships/"+login), nil, body, nil, nil); err != nil {
				return connector.Account{}, err
			}
		}
	}
	var tm TeamMembership
	if _, err := c.scim.Do(ctx, http.MethodPut, path, nil, map[string]string{"role": c.teamRole}, nil, &tm); err != nil {
		return connector.Account{}, err
	}
	if tm.State == "pending" {
		c.log.Info("github: team membership pending until the person joins the org", "app", c.app, "team", slug, "login", c.Login(cur.UserName))
	}
	return cur, nil
}

// linkTeams links every team configured for group name to it, once per process.
func (c *Connector) linkTeams(ctx context.Context, name string) error {
	var slugs []string
	c.mu.Lock()
	for slug, g := range c.links {
		if g == name && !c.linked[slug] {
			slugs = append(slugs, slug)
		}
	}
	c.mu.Unlock()
	if len(slugs) == 0 {
		return nil
	}
	var eg struct {
		Groups []struct {
			ID   int    `json:"group_id"`
			Name string `json:"group_name"`
		} `json:"groups"`
	}
	if _, err := c.scim.Do(ctx, http.MethodGet, c.orgPath("/external-groups"), url.Values{"display_name": {name}}, nil, nil, &eg); err != nil {
		return err
	}
	id := -1
	for _, g := range eg.Groups {
		if g.Name == name {
			id = g.ID
		}
	}
	if id < 0 {
		return &connector.Error{Kind: connector.ErrNotFound, Detail: fmt.Sprintf("group %q is not among the org's external groups", name)}
	}
	slices.Sort(slugs)
	for _, slug := range slugs {
		body := json.RawMessage(`{"group_id":` + strconv.Itoa(id) + `}`)
		if _, err := c.scim.Do(ctx, http.MethodPatch, c.orgPath("/teams/"+url.PathEscape(slug)+"/external-groups"), nil, body, nil, nil); err != nil {
			return err
		}
		c.mu.Lock()
		c.linked[slug] = true
		c.mu.Unlock()
		c.log.Info("github: linked team to group", "app", c.app, "team", slug, "group", name)
	}
	return nil
}
