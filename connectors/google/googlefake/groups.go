package googlefake

import (
	"encoding/base64"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

func (f *Fake) groupLocked(key string) *Group {
	if g, ok := f.groups[lower(key)]; ok {
		return g
	}
	for _, g := range f.groups {
		if g.ID == key {
			return g
		}
	}
	return nil
}

func (f *Fake) listGroups(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("customer") == "" && q.Get("domain") == "" && q.Get("userKey") == "" {
		writeError(w, http.StatusBadRequest, "global", "badRequest", "Bad Request")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	member := ""
	if k := q.Get("userKey"); k != "" { // the groups a user belongs to
		u := f.userLocked(k)
		if u == nil {
			notFound(w, "userKey")
			return
		}
		member = lower(u.PrimaryEmail)
	}
	out := map[string]any{"kind": "admin#directory#groups"}
	var groups []map[string]string
	for _, email := range slices.Sorted(maps.Keys(f.groups)) {
		g := f.groups[email]
		if _, in := g.Members[member]; member != "" && !in {
			continue
		}
		groups = append(groups, map[string]string{"kind": "admin#directory#group", "id": g.ID, "email": g.Email, "name": g.Name})
	}
	if len(groups) > 0 { // Google leaves "groups" out when there are none
		out["groups"] = groups
	}
	writeJSON(w, http.StatusOK, out)
}

// listMembers pages a group's members by email (at most 200 a page, like the real API).
func (f *Fake) listMembers(w http.ResponseWriter, r *http.Request) {
	max, ok := pageSize(r.URL.Query().Get("maxResults"), 200, 200)
	if !ok {
		writeError(w, http.StatusBadRequest, "global", "invalid", "Invalid value '"+r.URL.Query().Get("maxResults")+"'. Values must be within the range: [1, 200]")
		return
	}
	after := ""
	if t := r.URL.Query().Get("pageToken"); t != "" {
		b, err := base64.RawURLEncoding.DecodeString(t)
		if err != nil {
			writeError(w, http.StatusBadRequest, "global", "invalid", "Invalid Input: pageToken")
			return
		}
		after = string(b)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.groupLocked(r.PathValue("groupKey"))
	if g == nil {
		notFound(w, "groupKey")
		return
	}
	var emails []string
	for _, e := range slices.Sorted(maps.Keys(g.Members)) {
		if e > after {
			emails = append(emails, e)
		}
	}
	out := map[string]any{"kind": "admin#directory#members"}
	if len(emails) > max {
		emails = emails[:max]
		out["nextPageToken"] = base64.RawURLEncoding.EncodeToString([]byte(emails[max-1]))
	}
	if len(emails) > 0 {
		members := make([]map[string]string, len(emails))
		for i, e := range emails {
			members[i] = f.memberLocked(e, g.Members[e])
		}
		out["members"] = members
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *Fake) memberLocked(email, role string) map[string]string {
	m := map[string]string{"kind": "admin#directory#member", "email": email, "role": role, "type": "USER", "status": "ACTIVE"}
	if u := f.byEmailLocked(email); u != nil {
		m["id"] = u.ID
		m["email"] = u.PrimaryEmail
	}
	return m
}

func (f *Fake) insertMember(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email string `json:"email"`
		ID    string `json:"id"`
		Role  string `json:"role"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Role == "" {
		in.Role = "MEMBER"
	}
	if !slices.Contains([]string{"MEMBER", "MANAGER", "OWNER"}, in.Role) {
		writeError(w, http.StatusBadRequest, "global", "invalid", "Invalid Input: role")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.groupLocked(r.PathValue("groupKey"))
	if g == nil {
		notFound(w, "groupKey")
		return
	}
	key := in.Email
	if key == "" {
		key = in.ID
	}
	u := f.userLocked(key)
	if key == "" || u == nil {
		writeError(w, http.StatusNotFound, "global", "notFound", "Resource Not Found: memberKey")
		return
	}
	email := lower(u.PrimaryEmail)
	if _, ok := g.Members[email]; ok {
		if !f.opts.DuplicateMemberOK {
			writeError(w, http.StatusConflict, "global", "duplicate", "Member already exists.")
			return
		}
	} else {
		g.Members[email] = in.Role
	}
	writeJSON(w, http.StatusOK, f.memberLocked(email, g.Members[email]))
}

func (f *Fake) deleteMember(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.groupLocked(r.PathValue("groupKey"))
	if g == nil {
		notFound(w, "groupKey")
		return
	}
	email := lower(r.PathValue("memberKey"))
	if u := f.userLocked(r.PathValue("memberKey")); u != nil {
		email = lower(u.PrimaryEmail)
	}
	if _, ok := g.Members[email]; !ok {
		notFound(w, "memberKey")
		return
	}
	delete(g.Members, email)
	w.WriteHeader(http.StatusNoContent)
}

// AddGroup creates a group (groups are made by admins, not by Tenure).
func (f *Fake) AddGroup(email, name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	f.groups[lower(email)] = &Group{ID: "0" + strconv.Itoa(1000000+f.nextID), Email: email, Name: name, Members: map[string]string{}}
}

// AddOrgUnit creates an org unit and its parents ("/Engineering/Backend").
func (f *Fake) AddOrgUnit(path string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := ""
	for _, seg := range strings.Split(strings.Trim(path, "/"), "/") {
		p += "/" + seg
		f.orgUnits[p] = true
	}
}

// Members returns a group's member emails, sorted.
func (f *Fake) Members(group string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.groupLocked(group)
	if g == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(g.Members))
}

// Users returns copies of the live (not deleted) users, sorted by primary email.
func (f *Fake) Users() []User {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]User, 0, len(f.users))
	for _, u := range f.users {
		c := *u
		c.ExternalIDs, c.Organizations = slices.Clone(u.ExternalIDs), slices.Clone(u.Organizations)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b User) int { return strings.Compare(lower(a.PrimaryEmail), lower(b.PrimaryEmail)) })
	return out
}

// User returns a live user by id or primary email.
func (f *Fake) User(key string) (User, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.userLocked(key)
	if u == nil {
		return User{}, false
	}
	c := *u
	c.ExternalIDs, c.Organizations = slices.Clone(u.ExternalIDs), slices.Clone(u.Organizations)
	return c, true
}

// Deleted reports whether the user with id was deleted (and can still be undeleted).
func (f *Fake) Deleted(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.deleted[id]
	return ok
}

// PutUser stores a user as if an admin had made it in the console (for adoption tests and
// sandbox data). It returns the user's id.
func (f *Fake) PutUser(u User) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	if u.ID == "" {
		u.ID = "1" + strconv.Itoa(100000000000000000+f.nextID)
	}
	if u.OrgUnitPath == "" {
		u.OrgUnitPath = "/"
	}
	u.Name.FullName = u.Name.GivenName + " " + u.Name.FamilyName
	f.users[u.ID] = &u
	return u.ID
}

// HasPassword reports whether the user has a password set (Google never returns it).
func (f *Fake) HasPassword(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.userLocked(key)
	return u != nil && u.password != ""
}
