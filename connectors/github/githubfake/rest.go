package githubfake

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"
)

type org struct {
	name    string
	members map[string]string // login → admin|member
	pending map[string]string // login → role of an open invitation
	teams   map[string]*team  // by slug
}

type team struct {
	id         int
	slug, name string
	direct     map[string]string // login → member|maintainer (active or pending, see org)
	links      []int             // external group ids
}

func newOrg(name string) *org {
	return &org{name: name, members: map[string]string{}, pending: map[string]string{}, teams: map[string]*team{}}
}

var validLogin = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,38})$`)

// accountExistsLocked says whether login names an account that can join an org: in an
// enterprise only its active managed users exist; outside one any well-formed login does.
func (s *Server) accountExistsLocked(login string) bool {
	if s.opts.Enterprise == "" {
		return validLogin.MatchString(login)
	}
	return s.managedLocked(login) != nil
}

func (s *Server) managedLocked(login string) *user {
	for _, u := range s.users {
		if u.active && u.login == login {
			return u
		}
	}
	return nil
}

func userJSON(login string) map[string]any {
	h := fnv.New32a()
	h.Write([]byte(login))
	return map[string]any{"login": login, "id": int(h.Sum32() >> 1), "type": "User"}
}

func (s *Server) restLocked(w http.ResponseWriter, r *http.Request, o *org, parts []string) {
	switch {
	case len(parts) == 2 && parts[0] == "memberships":
		s.orgMembershipLocked(w, r, o, parts[1])
	case len(parts) == 1 && parts[0] == "external-groups" && r.Method == http.MethodGet:
		var groups []map[string]any
		for _, g := range s.sortedGroupsLocked() {
			groups = append(groups, externalGroupJSON(g))
		}
		writeJSON(w, http.StatusOK, map[string]any{"groups": groups})
	case len(parts) == 1 && parts[0] == "teams" && r.Method == http.MethodGet:
		var teams []*team
		for _, t := range o.teams {
			teams = append(teams, t)
		}
		slices.SortFunc(teams, func(a, b *team) int { return a.id - b.id })
		var out []any
		for _, t := range teams {
			out = append(out, map[string]any{"id": t.id, "slug": t.slug, "name": t.name})
		}
		paginate(w, r, out)
	case len(parts) >= 3 && parts[0] == "teams":
		t, ok := o.teams[parts[1]]
		if !ok {
			restError(w, http.StatusNotFound, "Not Found")
			return
		}
		s.teamLocked(w, r, o, t, parts[2:])
	default:
		restError(w, http.StatusNotFound, "Not Found")
	}
}

func externalGroupJSON(g *group) map[string]any {
	return map[string]any{"group_id": g.externalGroupID, "group_name": g.displayName, "updated_at": g.modified.UTC().Format(time.RFC3339)}
}

func (s *Server) orgMembershipLocked(w http.ResponseWriter, r *http.Request, o *org, login string) {
	answer := func(status int, role, state string) {
		writeJSON(w, status, map[string]any{
			"url":              "/orgs/" + o.name + "/memberships/" + login,
			"state":            state,
			"role":             role,
			"organization_url": "/orgs/" + o.name,
			"user":             userJSON(login),
		})
	}
	switch r.Method {
	case http.MethodGet:
		if role, ok := o.members[login]; ok {
			answer(http.StatusOK, role, "active")
		} else if role, ok := o.pending[login]; ok {
			answer(http.StatusOK, role, "pending")
		} else {
			restError(w, http.StatusNotFound, "Not Found")
		}
	case http.MethodPut:
		role, ok := readRole(w, r, "Membership", "admin")
		if !ok {
			return
		}
		if !s.accountExistsLocked(login) {
			restError(w, http.StatusNotFound, "Not Found")
			return
		}
		if _, ok := o.members[login]; ok || s.opts.Enterprise != "" {
			// Enterprise owners add managed users directly; nobody has to accept.
			s.joinOrgLocked(o, login, role)
			answer(http.StatusOK, role, "active")
			return
		}
		o.pending[login] = role
		answer(http.StatusOK, role, "pending")
	case http.MethodDelete:
		_, member := o.members[login]
		_, invited := o.pending[login]
		if !member && !invited {
			restError(w, http.StatusNotFound, "Not Found")
			return
		}
		s.leaveOrgLocked(o, login)
		w.WriteHeader(http.StatusNoContent)
	default:
		restError(w, http.StatusMethodNotAllowed, "Method Not Allowed")
	}
}

func (s *Server) joinOrgLocked(o *org, login, role string) {
	o.members[login] = role
	delete(o.pending, login)
}

// leaveOrgLocked removes login from o and from all of o's teams, as GitHub does.
func (s *Server) leaveOrgLocked(o *org, login string) {
	if o == nil || login == "" {
		return
	}
	delete(o.members, login)
	delete(o.pending, login)
	for _, t := range o.teams {
		delete(t.direct, login)
	}
}

func (s *Server) teamLocked(w http.ResponseWriter, r *http.Request, o *org, t *team, parts []string) {
	switch {
	case len(parts) == 1 && parts[0] == "members" && r.Method == http.MethodGet:
		var out []any
		for _, login := range s.teamMembersLocked(o, t) {
			out = append(out, userJSON(login))
		}
		paginate(w, r, out)
	case len(parts) == 1 && parts[0] == "invitations" && r.Method == http.MethodGet:
		var out []any
		for _, login := range sortedKeys(t.direct) {
			if _, member := o.members[login]; !member {
				out = append(out, map[string]any{"login": login, "role": "direct_member", "team_role": t.direct[login]})
			}
		}
		paginate(w, r, out)
	case len(parts) == 2 && parts[0] == "memberships":
		s.teamMembershipLocked(w, r, o, t, parts[1])
	case len(parts) == 1 && parts[0] == "external-groups":
		s.teamLinksLocked(w, r, t)
	default:
		restError(w, http.StatusNotFound, "Not Found")
	}
}

// teamMembersLocked lists a team's active members: direct members who joined the org, plus the
// active members of the external groups linked to it.
func (s *Server) teamMembersLocked(o *org, t *team) []string {
	set := map[string]bool{}
	for login := range t.direct {
		if _, ok := o.members[login]; ok {
			set[login] = true
		}
	}
	for _, g := range s.groups {
		if !slices.Contains(t.links, g.externalGroupID) {
			continue
		}
		for _, id := range g.members {
			if u := s.users[id]; u != nil && u.active {
				set[u.login] = true
			}
		}
	}
	return sortedKeys(set)
}

func (s *Server) teamMembershipLocked(w http.ResponseWriter, r *http.Request, o *org, t *team, login string) {
	answer := func(role, state string) {
		writeJSON(w, http.StatusOK, map[string]any{
			"url":   fmt.Sprintf("/organizations/%s/team/%d/memberships/%s", o.name, t.id, login),
			"role":  role,
			"state": state,
		})
	}
	state := func() string {
		if _, ok := o.members[login]; ok {
			return "active"
		}
		return "pending"
	}
	switch r.Method {
	case http.MethodGet:
		role, ok := t.direct[login]
		if !ok {
			if slices.Contains(s.teamMembersLocked(o, t), login) {
				answer("member", "active")
				return
			}
			restError(w, http.StatusNotFound, "Not Found")
			return
		}
		answer(role, state())
	case http.MethodPut:
		role, ok := readRole(w, r, "TeamMember", "maintainer")
		if !ok {
			return
		}
		if !s.accountExistsLocked(login) {
			restError(w, http.StatusNotFound, "Not Found")
			return
		}
		t.direct[login] = role
		if _, ok := o.members[login]; !ok {
			// Not in the org yet: GitHub invites them and the membership waits.
			if _, ok := o.pending[login]; !ok {
				o.pending[login] = "member"
			}
		}
		answer(role, state())
	case http.MethodDelete:
		if _, ok := t.direct[login]; !ok {
			restError(w, http.StatusNotFound, "Not Found")
			return
		}
		delete(t.direct, login)
		w.WriteHeader(http.StatusNoContent)
	default:
		restError(w, http.StatusMethodNotAllowed, "Method Not Allowed")
	}
}

func (s *Server) teamLinksLocked(w http.ResponseWriter, r *http.Request, t *team) {
	linked := func() map[string]any {
		var groups []map[string]any
		for _, g := range s.sortedGroupsLocked() {
			if slices.Contains(t.links, g.externalGroupID) {
				groups = append(groups, externalGroupJSON(g))
			}
		}
		return map[string]any{"groups": groups}
	}
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, linked())
	case http.MethodPatch:
		var body struct {
			GroupID *int `json:"group_id"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.GroupID == nil {
			restInvalid(w, "ExternalGroup", "group_id", "missing_field", "Validation Failed")
			return
		}
		found := false
		for _, g := range s.groups {
			found = found || g.externalGroupID == *body.GroupID
		}
		if !found {
			restError(w, http.StatusNotFound, "Not Found")
			return
		}
		if !slices.Contains(t.links, *body.GroupID) {
			t.links = append(t.links, *body.GroupID)
		}
		writeJSON(w, http.StatusOK, linked())
	case http.MethodDelete:
		t.links = nil
		w.WriteHeader(http.StatusNoContent)
	default:
		restError(w, http.StatusMethodNotAllowed, "Method Not Allowed")
	}
}

// paginate answers a REST list with per_page (default 30, at most 100) and page, and a Link
// header pointing at the next page when there is one.
func paginate(w http.ResponseWriter, r *http.Request, items []any) {
	per, page := 30, 1
	if v, err := strconv.Atoi(r.URL.Query().Get("per_page")); err == nil && v > 0 {
		per = min(v, 100)
	}
	if v, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && v > 0 {
		page = v
	}
	out := []any{}
	if i := (page - 1) * per; i < len(items) {
		out = items[i:min(len(items), i+per)]
	}
	if page*per < len(items) {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(page+1))
		q.Set("per_page", strconv.Itoa(per))
		w.Header().Set("Link", fmt.Sprintf("<%s?%s>; rel=\"next\"", r.URL.Path, q.Encode()))
	}
	writeJSON(w, http.StatusOK, out)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// readRole reads a membership PUT's optional {"role"}: member (the default) or other, answering
// GitHub's 400 or 422 itself when it is neither.
func readRole(w http.ResponseWriter, r *http.Request, resource, other string) (string, bool) {
	var body struct {
		Role string `json:"role"`
	}
	if r.ContentLength != 0 {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			restError(w, http.StatusBadRequest, "Problems parsing JSON")
			return "", false
		}
	}
	if body.Role == "" {
		body.Role = "member"
	}
	if body.Role != "member" && body.Role != other {
		restInvalid(w, resource, "role", "invalid", "Validation Failed")
		return "", false
	}
	return body.Role, true
}
