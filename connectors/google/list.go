package google

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/tenure-id/tenure/pkg/connector"
)

// List implements connector.Connector: every live user, with the memberships of the managed
// groups.
func (c *Connector) List(ctx context.Context) ([]connector.Account, error) {
	var out []connector.Account
	byEmail := map[string]int{}
	q := url.Values{"customer": {c.customer}, "maxResults": {strconv.Itoa(c.pageSize)}, "orderBy": {"email"}}
	for {
		var page struct {
			Users         []user `json:"users"`
			NextPageToken string `json:"nextPageToken"`
		}
		if err := c.do(ctx, http.MethodGet, "/users", q, nil, &page); err != nil {
			return nil, err
		}
		for _, u := range page.Users {
			byEmail[strings.ToLower(u.PrimaryEmail)] = len(out)
			out = append(out, u.account())
		}
		if page.NextPageToken == "" {
			break
		}
		q.Set("pageToken", page.NextPageToken)
	}
	groups, err := c.managedGroups(ctx)
	if err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(groups)) {
		members, err := c.members(ctx, groups[name])
		if err != nil {
			return nil, fmt.Errorf("google: members of %s (entitlement group:%s): %w", groups[name], name, err)
		}
		for _, email := range members {
			if i, ok := byEmail[strings.ToLower(email)]; ok {
				out[i].Memberships = append(out[i].Memberships, "group:"+name)
			}
		}
	}
	return out, nil
}

// withGroups adds the memberships of the managed groups u belongs to.
func (c *Connector) withGroups(ctx context.Context, u user) (connector.Account, error) {
	a := u.account()
	q := url.Values{"userKey": {u.ID}, "maxResults": {"200"}}
	names := map[string]string{} // group address → entitlement name
	for name, email := range c.groups {
		names[email] = name
	}
	for {
		var page struct {
			Groups []struct {
				Email string `json:"email"`
			} `json:"groups"`
			NextPageToken string `json:"nextPageToken"`
		}
		if err := c.do(ctx, http.MethodGet, "/groups", q, nil, &page); err != nil {
			return connector.Account{}, err
		}
		for _, g := range page.Groups {
			if name, ok := c.entitlementName(strings.ToLower(g.Email), names); ok {
				a.Memberships = append(a.Memberships, "group:"+name)
			}
		}
		if page.NextPageToken == "" {
			slices.Sort(a.Memberships)
			return a, nil
		}
		q.Set("pageToken", page.NextPageToken)
	}
}

// entitlementName is the name a group has as an entitlement: the configured one, or (when no
// groups are configured) its address's local part in the domain, else the whole address.
func (c *Connector) entitlementName(email string, configured map[string]string) (string, bool) {
	if len(c.groups) > 0 {
		name, ok := configured[email]
		return name, ok
	}
	if local, domain, _ := strings.Cut(email, "@"); domain == c.domain {
		return local, true
	}
	return email, true
}

// managedGroups are the configured groups or, when none are, every group of the customer:
// entitlement name → group address.
func (c *Connector) managedGroups(ctx context.Context) (map[string]string, error) {
	if len(c.groups) > 0 {
		return c.groups, nil
	}
	out := map[string]string{}
	q := url.Values{"customer": {c.customer}, "maxResults": {"200"}}
	for {
		var page struct {
			Groups []struct {
				Email string `json:"email"`
			} `json:"groups"`
			NextPageToken string `json:"nextPageToken"`
		}
		if err := c.do(ctx, http.MethodGet, "/groups", q, nil, &page); err != nil {
			return nil, err
		}
		for _, g := range page.Groups {
			email := strings.ToLower(g.Email)
			name, _ := c.entitlementName(email, nil)
			out[name] = email
		}
		if page.NextPageToken == "" {
			return out, nil
		}
		q.Set("pageToken", page.NextPageToken)
	}
}

func (c *Connector) members(ctx context.Context, group string) ([]string, error) {
	var out []string
	q := url.Values{"maxResults": {"200"}}
	for {
		var page struct {
			Members []struct {
				Email string `json:"email"`
				Type  string `json:"type"`
			} `json:"members"`
			NextPageToken string `json:"nextPageToken"`
		}
		if err := c.do(ctx, http.MethodGet, "/groups/"+url.PathEscape(group)+"/members", q, nil, &page); err != nil {
			return nil, err
		}
		for _, m := range page.Members {
			if m.Type == "" || m.Type == "USER" {
				out = append(out, m.Email)
			}
		}
		if page.NextPageToken == "" {
			return out, nil
		}
		q.Set("pageToken", page.NextPageToken)
	}
}
