package googlefake

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// userJSON is the writable part of a user resource; pointers tell absent from empty, because
// update has patch semantics (absent fields are preserved).
type userJSON struct {
	PrimaryEmail              *string       `json:"primaryEmail"`
	Name                      *Name         `json:"name"`
	Password                  *string       `json:"password"`
	HashFunction              *string       `json:"hashFunction"`
	ChangePasswordAtNextLogin *bool         `json:"changePasswordAtNextLogin"`
	Suspended                 *bool         `json:"suspended"`
	OrgUnitPath               *string       `json:"orgUnitPath"`
	ExternalIDs               *[]ExternalID `json:"externalIds"`
	Organizations             *[]Org        `json:"organizations"`
}

type resource struct {
	Kind string `json:"kind"`
	*User
}

func userResource(u *User) resource { return resource{Kind: "admin#directory#user", User: u} }

func (f *Fake) insertUser(w http.ResponseWriter, r *http.Request) {
	var in userJSON
	if !decode(w, r, &in) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case in.PrimaryEmail == nil || *in.PrimaryEmail == "":
		writeError(w, http.StatusBadRequest, "global", "required", "Invalid Input: primary_user_email")
		return
	case in.Name == nil || in.Name.GivenName == "":
		writeError(w, http.StatusBadRequest, "global", "required", "Invalid Given/Family Name: GivenName")
		return
	case in.Name.FamilyName == "":
		writeError(w, http.StatusBadRequest, "global", "required", "Invalid Given/Family Name: FamilyName")
		return
	case in.Password == nil || utf8.RuneCountInString(*in.Password) < 8:
		writeError(w, http.StatusBadRequest, "global", "invalid", "Invalid Password")
		return
	}
	u := &User{OrgUnitPath: "/", CreationTime: f.opts.Now().UTC().Format("2006-01-02T15:04:05.000Z")}
	if !f.applyLocked(w, u, in) {
		return
	}
	f.nextID++
	u.ID = "1" + strconv.Itoa(100000000000000000+f.nextID)
	f.users[u.ID] = u
	writeJSON(w, http.StatusOK, userResource(u))
}

// applyLocked validates in and copies it onto u; it answers the request itself on failure.
func (f *Fake) applyLocked(w http.ResponseWriter, u *User, in userJSON) bool {
	next := *u
	if in.PrimaryEmail != nil {
		email := strings.TrimSpace(*in.PrimaryEmail)
		local, domain, ok := strings.Cut(email, "@")
		if !ok || local == "" || !f.ownsDomain(domain) {
			writeError(w, http.StatusBadRequest, "global", "invalid", "Invalid Input: primary_user_email")
			return false
		}
		if other := f.byEmailLocked(email); other != nil && other.ID != u.ID {
			writeError(w, http.StatusConflict, "global", "duplicate", "Entity already exists.")
			return false
		}
		next.PrimaryEmail = email
	}
	if in.Name != nil {
		for field, v := range map[string]string{"GivenName": in.Name.GivenName, "FamilyName": in.Name.FamilyName} {
			if v == "" || utf8.RuneCountInString(v) > 60 {
				writeError(w, http.StatusBadRequest, "global", "invalid", "Invalid Given/Family Name: "+field)
				return false
			}
		}
		next.Name = Name{GivenName: in.Name.GivenName, FamilyName: in.Name.FamilyName,
			FullName: in.Name.GivenName + " " + in.Name.FamilyName}
	}
	if in.Password != nil {
		if utf8.RuneCountInString(*in.Password) < 8 {
			writeError(w, http.StatusBadRequest, "global", "invalid", "Invalid Password")
			return false
		}
		next.password = *in.Password
	}
	if in.OrgUnitPath != nil {
		if !f.orgUnits[*in.OrgUnitPath] {
			writeError(w, http.StatusBadRequest, "global", "invalid", "Invalid Input: INVALID_OU_ID")
			return false
		}
		next.OrgUnitPath = *in.OrgUnitPath
	}
	if in.Suspended != nil {
		next.Suspended = *in.Suspended
	}
	if in.ChangePasswordAtNextLogin != nil {
		next.ChangePasswordAtNextLogin = *in.ChangePasswordAtNextLogin
	}
	if in.ExternalIDs != nil {
		next.ExternalIDs = slices.Clone(*in.ExternalIDs)
	}
	if in.Organizations != nil {
		next.Organizations = slices.Clone(*in.Organizations)
	}
	*u = next
	return true
}

func (f *Fake) ownsDomain(d string) bool {
	d = lower(d)
	return d == lower(f.opts.Domain) || slices.ContainsFunc(f.opts.Domains, func(x string) bool { return lower(x) == d })
}

func (f *Fake) byEmailLocked(email string) *User {
	for _, u := range f.users {
		if strings.EqualFold(u.PrimaryEmail, email) {
			return u
		}
	}
	return nil
}

// userLocked resolves a userKey: the user's id or primary email.
func (f *Fake) userLocked(key string) *User {
	if u, ok := f.users[key]; ok {
		return u
	}
	return f.byEmailLocked(key)
}

func notFound(w http.ResponseWriter, what string) {
	writeError(w, http.StatusNotFound, "global", "notFound", "Resource Not Found: "+what)
}

func (f *Fake) getUser(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.userLocked(r.PathValue("userKey"))
	if u == nil {
		notFound(w, "userKey")
		return
	}
	writeJSON(w, http.StatusOK, userResource(u))
}

func (f *Fake) updateUser(w http.ResponseWriter, r *http.Request) {
	var in userJSON
	if !decode(w, r, &in) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.userLocked(r.PathValue("userKey"))
	if u == nil {
		notFound(w, "userKey")
		return
	}
	if !f.applyLocked(w, u, in) {
		return
	}
	writeJSON(w, http.StatusOK, userResource(u))
}

func (f *Fake) deleteUser(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.userLocked(r.PathValue("userKey"))
	if u == nil {
		notFound(w, "userKey")
		return
	}
	delete(f.users, u.ID)
	f.deleted[u.ID] = u
	for _, g := range f.groups {
		delete(g.Members, lower(u.PrimaryEmail))
	}
	w.WriteHeader(http.StatusNoContent)
}

// undeleteUser restores a deleted user by its id (an email does not address deleted users).
func (f *Fake) undeleteUser(w http.ResponseWriter, r *http.Request) {
	var in struct {
		OrgUnitPath string `json:"orgUnitPath"`
	}
	if !decode(w, r, &in) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.deleted[r.PathValue("userKey")]
	switch {
	case !ok:
		notFound(w, "userKey")
		return
	case f.byEmailLocked(u.PrimaryEmail) != nil:
		writeError(w, http.StatusConflict, "global", "duplicate", "Entity already exists.")
		return
	case in.OrgUnitPath != "" && !f.orgUnits[in.OrgUnitPath]:
		writeError(w, http.StatusBadRequest, "global", "invalid", "Invalid Input: INVALID_OU_ID")
		return
	}
	if in.OrgUnitPath != "" {
		u.OrgUnitPath = in.OrgUnitPath
	}
	delete(f.deleted, u.ID)
	f.users[u.ID] = u
	w.WriteHeader(http.StatusNoContent)
}

func (f *Fake) makeAdmin(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Status *bool `json:"status"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Status == nil {
		writeError(w, http.StatusBadRequest, "global", "required", "Required parameter: status")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.userLocked(r.PathValue("userKey"))
	if u == nil {
		notFound(w, "userKey")
		return
	}
	u.IsAdmin = *in.Status
	w.WriteHeader(http.StatusNoContent)
}

// listUsers pages by primary email; the page token carries the last email returned, so users
// created or deleted between pages neither repeat nor shift the rest.
func (f *Fake) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("customer") == "" && q.Get("domain") == "" {
		writeError(w, http.StatusBadRequest, "global", "badRequest", "Bad Request")
		return
	}
	if c := q.Get("customer"); c != "" && c != "my_customer" && c != f.opts.CustomerID {
		writeError(w, http.StatusBadRequest, "global", "badRequest", "Bad Request")
		return
	}
	if d := q.Get("domain"); d != "" && !f.ownsDomain(d) {
		writeError(w, http.StatusForbidden, "global", "forbidden", "Not Authorized to access this resource/api")
		return
	}
	max, ok := pageSize(q.Get("maxResults"), 100, 500)
	if !ok {
		writeError(w, http.StatusBadRequest, "global", "invalid", "Invalid value '"+q.Get("maxResults")+"'. Values must be within the range: [1, 500]")
		return
	}
	after := ""
	if t := q.Get("pageToken"); t != "" {
		b, err := base64.RawURLEncoding.DecodeString(t)
		if err != nil {
			writeError(w, http.StatusBadRequest, "global", "invalid", "Invalid Input: pageToken")
			return
		}
		after = string(b)
	}
	match, ok := parseQuery(q.Get("query"))
	if !ok {
		writeError(w, http.StatusBadRequest, "global", "invalid", "Invalid Input: "+q.Get("query"))
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	src := f.users
	if q.Get("showDeleted") == "true" {
		src = f.deleted
	}
	var all []*User
	for _, u := range src {
		if lower(u.PrimaryEmail) > after && match(u) && (q.Get("domain") == "" || strings.HasSuffix(lower(u.PrimaryEmail), "@"+lower(q.Get("domain")))) {
			all = append(all, u)
		}
	}
	slices.SortFunc(all, func(a, b *User) int { return strings.Compare(lower(a.PrimaryEmail), lower(b.PrimaryEmail)) })
	out := map[string]any{"kind": "admin#directory#users", "etag": `"fake"`}
	if len(all) > max {
		all = all[:max]
		out["nextPageToken"] = base64.RawURLEncoding.EncodeToString([]byte(lower(all[max-1].PrimaryEmail)))
	}
	if len(all) > 0 { // Google leaves "users" out of an empty page
		users := make([]resource, len(all))
		for i, u := range all {
			users[i] = userResource(u)
		}
		out["users"] = users
	}
	b, _ := json.Marshal(out)
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_, _ = w.Write(b)
}

// parseQuery understands the search clauses Tenure uses: externalId:VALUE and email:VALUE
// (values optionally quoted).
func parseQuery(q string) (func(*User) bool, bool) {
	if q == "" {
		return func(*User) bool { return true }, true
	}
	field, value, ok := strings.Cut(q, ":")
	if !ok {
		return nil, false
	}
	value = strings.Trim(strings.TrimSpace(value), `'"`)
	switch field {
	case "externalId":
		return func(u *User) bool {
			return slices.ContainsFunc(u.ExternalIDs, func(e ExternalID) bool { return e.Value == value })
		}, true
	case "email":
		return func(u *User) bool { return strings.EqualFold(u.PrimaryEmail, value) }, true
	}
	return nil, false
}

func pageSize(s string, def, max int) (int, bool) {
	if s == "" {
		return def, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, false
	}
	return n, true
}
