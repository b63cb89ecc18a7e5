package githubfake

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	filter "github.com/scim2/filter-parser/v2"
	"github.com/tenure-id/tenure/connectors/internal/fakehttp"
)

func (s *Server) enterpriseSCIMLocked(w http.ResponseWriter, r *http.Request, parts []string) {
	base := "/scim/v2/enterprises/" + s.opts.Enterprise + "/"
	switch {
	case parts[0] == "Users" && len(parts) <= 2:
		s.usersLocked(w, r, s.users, base+"Users", parts[1:], false, "")
	case parts[0] == "Groups" && len(parts) <= 2:
		s.groupsLocked(w, r, base+"Groups", parts[1:])
	default:
		// Paths are case-sensitive: /users is not /Users.
		scimError(w, http.StatusNotFound, "", "Not Found")
	}
}

func (s *Server) orgSCIMLocked(w http.ResponseWriter, r *http.Request, orgName string, rest []string) {
	if len(rest) > 1 {
		scimError(w, http.StatusNotFound, "", "Not Found")
		return
	}
	s.usersLocked(w, r, s.orgUsers[orgName], "/scim/v2/organizations/"+orgName+"/Users", rest, true, orgName)
}

// readDoc reads a JSON object body, answering 400 itself when it is not one.
func readDoc(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	doc, err := fakehttp.ReadObject(r)
	if err != nil {
		scimError(w, http.StatusBadRequest, "invalidSyntax", "Problems parsing JSON")
		return nil, false
	}
	return doc, true
}

func (s *Server) usersLocked(w http.ResponseWriter, r *http.Request, users map[string]*user, loc string, rest []string, orgMode bool, orgName string) {
	if len(rest) == 0 {
		switch r.Method {
		case http.MethodGet:
			s.listUsersLocked(w, r, users, loc)
		case http.MethodPost:
			doc, ok := readDoc(w, r)
			if !ok {
				return
			}
			u, err := decodeUser(doc, orgMode)
			if err != nil {
				scimError(w, http.StatusBadRequest, "invalidValue", err.Error())
				return
			}
			if err := s.uniqueUserLocked(users, &u, "", orgMode); err != nil {
				scimError(w, http.StatusConflict, "uniqueness", err.Error())
				return
			}
			u.id, u.seq = s.nextIDLocked(), s.seq
			u.created = s.opts.Now()
			u.modified = u.created
			if orgMode {
				s.invites = append(s.invites, Invitation{Org: orgName, Email: primaryEmail(u.emails), UserName: u.userName})
			} else {
				u.login = ManagedLogin(u.userName, s.opts.Shortcode)
			}
			users[u.id] = &u
			writeSCIM(w, http.StatusCreated, u.doc(loc+"/"+u.id))
		default:
			scimError(w, http.StatusMethodNotAllowed, "", "Method not allowed")
		}
		return
	}
	u, ok := users[rest[0]]
	if !ok {
		scimError(w, http.StatusNotFound, "", "Resource "+rest[0]+" not found")
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeSCIM(w, http.StatusOK, u.doc(loc+"/"+u.id))
	case http.MethodPut, http.MethodPatch:
		doc, ok := replacement(w, r, func() map[string]any {
			doc := u.doc("")
			delete(doc, "meta")
			return doc
		})
		if !ok {
			return
		}
		nu, err := decodeUser(doc, orgMode)
		if err != nil {
			scimError(w, http.StatusBadRequest, "invalidValue", err.Error())
			return
		}
		if err := s.uniqueUserLocked(users, &nu, u.id, orgMode); err != nil {
			scimError(w, http.StatusConflict, "uniqueness", err.Error())
			return
		}
		nu.id, nu.seq, nu.created, nu.modified, nu.login = u.id, u.seq, u.created, s.opts.Now(), u.login
		if !orgMode && nu.userName != u.userName {
			// A renamed managed user keeps its memberships under the new login.
			nu.login = ManagedLogin(nu.userName, s.opts.Shortcode)
			s.renameLoginLocked(u.login, nu.login)
		}
		if u.active && !nu.active {
			s.suspendLocked(u, orgName)
		}
		*u = nu
		writeSCIM(w, http.StatusOK, u.doc(loc+"/"+u.id))
	case http.MethodDelete:
		delete(users, u.id)
		if orgMode {
			s.leaveOrgLocked(s.orgs[orgName], u.login)
		} else {
			// The SCIM identity is gone for good; the account itself stays, suspended and
			// obfuscated, and can never be reinstated.
			s.suspendLocked(u, "")
			s.wiped = append(s.wiped, obfuscated(u.id))
			for _, g := range s.groups {
				g.members = slices.DeleteFunc(g.members, func(id string) bool { return id == u.id })
			}
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		scimError(w, http.StatusMethodNotAllowed, "", "Method not allowed")
	}
}

// suspendLocked is what active=false does: in an enterprise the account is suspended (its login
// hidden, so its org and team memberships, direct or from groups, no longer show); in an org
// SCIM the person is removed from the org.
func (s *Server) suspendLocked(u *user, orgName string) {
	if orgName != "" {
		s.leaveOrgLocked(s.orgs[orgName], u.login)
		return
	}
	for _, o := range s.orgs {
		s.leaveOrgLocked(o, u.login)
	}
}

func primaryEmail(es []email) string {
	for _, e := range es {
		if e.Primary {
			return e.Value
		}
	}
	if len(es) > 0 {
		return es[0].Value
	}
	return ""
}

func (s *Server) uniqueUserLocked(users map[string]*user, u *user, self string, orgMode bool) error {
	for _, o := range users {
		if o.id == self {
			continue
		}
		if strings.EqualFold(o.userName, u.userName) {
			return fmt.Errorf("userName %q is already taken", u.userName)
		}
		if u.externalID != "" && o.externalID == u.externalID {
			return fmt.Errorf("externalId %q is already taken", u.externalID)
		}
		if !orgMode && ManagedLogin(o.userName, s.opts.Shortcode) == ManagedLogin(u.userName, s.opts.Shortcode) {
			return fmt.Errorf("userName %q would take login %s, which %q holds", u.userName, ManagedLogin(u.userName, s.opts.Shortcode), o.userName)
		}
	}
	return nil
}

// listFilter parses GitHub's one-attribute filter: a single `attr eq "value"` on one of allowed.
func listFilter(raw string, allowed ...string) (attr, value string, err error) {
	if raw == "" {
		return "", "", nil
	}
	expr, err := filter.ParseFilter([]byte(raw))
	if err != nil {
		return "", "", fmt.Errorf("invalid filter %q", raw)
	}
	ae, ok := expr.(*filter.AttributeExpression)
	if !ok || ae.Operator != filter.EQ || ae.AttributePath.SubAttribute != nil {
		return "", "", fmt.Errorf("filter %q: only one `attribute eq value` expression is supported", raw)
	}
	for _, a := range allowed {
		if strings.EqualFold(a, ae.AttributePath.AttributeName) {
			return a, fmt.Sprint(ae.CompareValue), nil
		}
	}
	return "", "", fmt.Errorf("filter %q: filtering is supported on %s only", raw, strings.Join(allowed, ", "))
}

func (s *Server) listUsersLocked(w http.ResponseWriter, r *http.Request, users map[string]*user, loc string) {
	attr, val, err := listFilter(r.URL.Query().Get("filter"), "userName", "externalId", "id", "displayName")
	if err != nil {
		scimError(w, http.StatusBadRequest, "invalidFilter", err.Error())
		return
	}
	start, count, err := fakehttp.Paging(r, 30, 100)
	if err != nil {
		scimError(w, http.StatusBadRequest, "invalidValue", err.Error())
		return
	}
	var docs []map[string]any
	for _, u := range sortedUsers(users) {
		ok := true
		switch attr {
		case "userName":
			ok = strings.EqualFold(u.userName, val)
		case "externalId":
			ok = u.externalID == val
		case "id":
			ok = u.id == val
		case "displayName":
			ok = u.displayName == val
		}
		if ok {
			docs = append(docs, u.doc(loc+"/"+u.id))
		}
	}
	fakehttp.ListResponse(w, docs, start, count)
}

func sortedUsers(m map[string]*user) []*user {
	out := make([]*user, 0, len(m))
	for _, u := range m {
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b *user) int { return a.seq - b.seq })
	return out
}

func (s *Server) renameLoginLocked(from, to string) {
	for _, o := range s.orgs {
		if role, ok := o.members[from]; ok {
			delete(o.members, from)
			o.members[to] = role
		}
		for _, t := range o.teams {
			if role, ok := t.direct[from]; ok {
				delete(t.direct, from)
				t.direct[to] = role
			}
		}
	}
}
