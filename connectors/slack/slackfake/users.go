package slackfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	filter "github.com/scim2/filter-parser/v2"
	"github.com/tenure-id/tenure/connectors/internal/fakehttp"
	"github.com/tenure-id/tenure/connectors/internal/scimpatch"
)

const (
	userSchema       = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupSchema      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	enterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
)

// MaxUserName is the longest userName Slack accepts (it must be under 21 characters).
const MaxUserName = 20

// validUserName is Slack's username alphabet: lower-case letters, digits, periods, hyphens
// and underscores.
var validUserName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

type user struct {
	id, externalID, userName, displayName string
	givenName, familyName, title          string
	emails                                []map[string]any
	active                                bool
	ent                                   map[string]string // employeeNumber, costCenter, …, managerId
	seq                                   int
	created                               time.Time
}

type wire struct {
	Schemas     []string `json:"schemas"`
	ExternalID  string   `json:"externalId"`
	UserName    *string  `json:"userName"`
	DisplayName string   `json:"displayName"`
	Title       string   `json:"title"`
	Active      *bool    `json:"active"`
	Name        struct {
		GivenName  string `json:"givenName"`
		FamilyName string `json:"familyName"`
	} `json:"name"`
	Emails []map[string]any `json:"emails"`
}

var entKeys = []string{"employeeNumber", "costCenter", "organization", "division", "department"}

func (s *Server) decodeUser(doc map[string]any) (user, error) {
	b, _ := json.Marshal(doc)
	var in wire
	if err := json.Unmarshal(b, &in); err != nil {
		return user{}, fmt.Errorf("invalid user: %w", err)
	}
	u := user{externalID: in.ExternalID, displayName: in.DisplayName, title: in.Title,
		givenName: in.Name.GivenName, familyName: in.Name.FamilyName, active: in.Active == nil || *in.Active}
	if !slices.Contains(in.Schemas, userSchema) {
		return u, fmt.Errorf("schemas must contain %s", userSchema)
	}
	if in.UserName == nil || *in.UserName == "" {
		return u, fmt.Errorf("userName is required")
	}
	u.userName = *in.UserName
	if len(u.userName) > MaxUserName || !validUserName.MatchString(u.userName) {
		return u, fmt.Errorf("userName %q must be under 21 characters of a-z, 0-9, '.', '-' and '_'", u.userName)
	}
	if strings.Contains(u.displayName, "@") {
		return u, fmt.Errorf("displayName may not contain @")
	}
	for _, e := range in.Emails {
		if v, _ := e["value"].(string); v != "" {
			u.emails = append(u.emails, map[string]any{"value": v, "primary": e["primary"] == true || len(u.emails) == 0, "type": str(e["type"], "work")})
		}
	}
	if len(u.emails) == 0 {
		return u, fmt.Errorf("at least one email is required")
	}
	if ext, ok := doc[scimpatch.KeyOf(doc, enterpriseSchema)].(map[string]any); ok {
		u.ent = map[string]string{}
		for _, k := range entKeys {
			if v, ok := ext[scimpatch.KeyOf(ext, k)].(string); ok && v != "" {
				u.ent[k] = v
			}
		}
		if m, ok := ext[scimpatch.KeyOf(ext, "manager")].(map[string]any); ok {
			id, _ := m[scimpatch.KeyOf(m, "managerId")].(string)
			if _, rfc := m[scimpatch.KeyOf(m, "value")]; rfc && id == "" {
				return u, fmt.Errorf("manager: Slack takes manager.managerId, not manager.value")
			}
			if id != "" {
				if _, ok := s.users[id]; !ok {
					return u, fmt.Errorf("manager.managerId %q is not a user", id)
				}
				u.ent["managerId"] = id
			}
		}
	}
	return u, nil
}

// roundTrip deep-copies a JSON document so a PATCH that fails leaves the resource untouched.
func roundTrip(doc map[string]any) map[string]any {
	b, _ := json.Marshal(doc)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

func str(v any, def string) string {
	if s, ok := v.(string); ok && s != "" {
		return s
	}
	return def
}

func (u *user) email() string {
	for _, e := range u.emails {
		if e["primary"] == true {
			return e["value"].(string)
		}
	}
	return u.emails[0]["value"].(string)
}

func (s *Server) userDoc(u *user) map[string]any {
	var groups []any
	for _, g := range s.sortedGroupsLocked() {
		if slices.Contains(g.members, u.id) {
			groups = append(groups, map[string]any{"value": g.id, "display": g.displayName})
		}
	}
	d := map[string]any{
		"schemas":     []any{userSchema, enterpriseSchema},
		"id":          u.id,
		"externalId":  u.externalID,
		"userName":    u.userName,
		"nickName":    u.userName,
		"displayName": u.displayName,
		"title":       u.title,
		"active":      u.active,
		"name":        map[string]any{"givenName": u.givenName, "familyName": u.familyName},
		"emails":      slices.Clone(u.emails),
		"groups":      groups,
		"meta":        map[string]any{"created": u.created.UTC().Format(time.RFC3339), "location": "https://api.slack.com/scim/v2/Users/" + u.id},
	}
	ext := map[string]any{}
	for k, v := range u.ent {
		if k == "managerId" {
			ext["manager"] = map[string]any{"managerId": v}
		} else {
			ext[k] = v
		}
	}
	d[enterpriseSchema] = ext
	return d
}

func (s *Server) usersLocked(w http.ResponseWriter, r *http.Request, rest []string) {
	if len(rest) == 0 {
		switch r.Method {
		case http.MethodGet:
			s.listUsersLocked(w, r)
		case http.MethodPost:
			doc, err := fakehttp.ReadObject(r)
			if err != nil {
				s.error(w, http.StatusBadRequest, "invalidSyntax", "invalid_json")
				return
			}
			u, err := s.decodeUser(doc)
			if err != nil {
				s.error(w, http.StatusBadRequest, "invalidValue", err.Error())
				return
			}
			if err := s.uniqueLocked(&u, ""); err != nil {
				s.error(w, http.StatusConflict, "uniqueness", err.Error())
				return
			}
			s.seq++
			u.id, u.seq, u.created = fmt.Sprintf("U%08X", 0x1000000+s.seq*7919), s.seq, s.opts.Now()
			s.users[u.id] = &u
			writeJSON(w, http.StatusCreated, s.userDoc(&u))
		default:
			s.error(w, http.StatusMethodNotAllowed, "", "method_not_allowed")
		}
		return
	}
	u, ok := s.users[rest[0]]
	if !ok || len(rest) > 1 {
		s.error(w, http.StatusNotFound, "", "user_not_found")
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, s.userDoc(u))
	case http.MethodPut, http.MethodPatch:
		doc, ok := s.replacement(w, r, func() map[string]any {
			doc := roundTrip(s.userDoc(u))
			delete(doc, "groups")
			return doc
		})
		if !ok {
			return
		}
		nu, err := s.decodeUser(doc)
		if err != nil {
			s.error(w, http.StatusBadRequest, "invalidValue", err.Error())
			return
		}
		if err := s.uniqueLocked(&nu, u.id); err != nil {
			s.error(w, http.StatusConflict, "uniqueness", err.Error())
			return
		}
		nu.id, nu.seq, nu.created = u.id, u.seq, u.created
		*u = nu
		if !u.active {
			s.leaveGroupsLocked(u.id)
		}
		writeJSON(w, http.StatusOK, s.userDoc(u))
	case http.MethodDelete:
		// Slack never erases a user over SCIM: DELETE deactivates, and the account stays
		// listed with active false.
		u.active = false
		s.leaveGroupsLocked(u.id)
		w.WriteHeader(http.StatusNoContent)
	default:
		s.error(w, http.StatusMethodNotAllowed, "", "method_not_allowed")
	}
}

// leaveGroupsLocked takes a deactivated user out of every user group, as Slack does.
func (s *Server) leaveGroupsLocked(id string) {
	for _, g := range s.groups {
		g.members = slices.DeleteFunc(g.members, func(m string) bool { return m == id })
	}
}

func (s *Server) uniqueLocked(u *user, self string) error {
	for _, o := range s.users {
		if o.id == self {
			continue
		}
		if strings.EqualFold(o.userName, u.userName) {
			return fmt.Errorf("username_taken: %q", u.userName)
		}
		for _, e := range o.emails {
			for _, f := range u.emails {
				if strings.EqualFold(e["value"].(string), f["value"].(string)) {
					return fmt.Errorf("email_taken: %q", f["value"])
				}
			}
		}
	}
	return nil
}

// listFilter accepts what Slack filters on: userName or email, with eq.
func listFilter(raw string) (attr, value string, err error) {
	if raw == "" {
		return "", "", nil
	}
	expr, err := filter.ParseFilter([]byte(raw))
	if err != nil {
		return "", "", fmt.Errorf("invalid filter %q", raw)
	}
	ae, ok := expr.(*filter.AttributeExpression)
	if !ok || ae.Operator != filter.EQ {
		return "", "", fmt.Errorf("filter %q: only `userName eq` and `email eq` are supported", raw)
	}
	name := strings.ToLower(ae.AttributePath.AttributeName)
	sub := strings.ToLower(ae.AttributePath.SubAttributeName())
	switch {
	case name == "username" && sub == "":
		return "userName", fmt.Sprint(ae.CompareValue), nil
	case (name == "email" || name == "emails") && (sub == "" || sub == "value"):
		return "email", fmt.Sprint(ae.CompareValue), nil
	}
	return "", "", fmt.Errorf("filter %q: filtering is supported on userName and email only", raw)
}

func (s *Server) listUsersLocked(w http.ResponseWriter, r *http.Request) {
	attr, val, err := listFilter(r.URL.Query().Get("filter"))
	if err != nil {
		s.error(w, http.StatusBadRequest, "invalidFilter", err.Error())
		return
	}
	start, count, err := fakehttp.Paging(r, 100, 1000)
	if err != nil {
		s.error(w, http.StatusBadRequest, "invalidValue", err.Error())
		return
	}
	var docs []map[string]any
	for _, u := range s.sortedUsersLocked() {
		ok := attr == "" || attr == "userName" && strings.EqualFold(u.userName, val) ||
			attr == "email" && slices.ContainsFunc(u.emails, func(e map[string]any) bool { return strings.EqualFold(e["value"].(string), val) })
		if ok {
			docs = append(docs, s.userDoc(u))
		}
	}
	fakehttp.ListResponse(w, docs, start, count)
}

func (s *Server) sortedUsersLocked() []*user {
	out := make([]*user, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b *user) int { return a.seq - b.seq })
	return out
}
