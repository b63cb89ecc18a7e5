package zendeskfake

import (
	"encoding/base64"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// userIn is a user in a request; pointers tell absent from empty.
type userIn struct {
	Name         *string `json:"name"`
	Email        *string `json:"email"`
	Role         *string `json:"role"`
	CustomRoleID *int64  `json:"custom_role_id"`
	ExternalID   *string `json:"external_id"`
	Suspended    *bool   `json:"suspended"`
}

type userBody struct {
	User *userIn `json:"user"`
}

func (f *Fake) stamp() string { return f.opts.Now().UTC().Format("2006-01-02T15:04:05Z") }

func (f *Fake) createUser(w http.ResponseWriter, r *http.Request) {
	var in userBody
	if !decode(w, r, &in) {
		return
	}
	if in.User == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "InvalidParameter", "description": "user parameter is required"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u := &User{Role: "end-user", Active: true, CreatedAt: f.stamp()}
	if !f.setLocked(w, u, *in.User) {
		return
	}
	u.ID = f.id()
	f.users[u.ID] = u
	writeJSON(w, http.StatusCreated, map[string]any{"user": u})
}

// createOrUpdate matches by external_id, then email; it updates the match or creates a user.
func (f *Fake) createOrUpdate(w http.ResponseWriter, r *http.Request) {
	var in userBody
	if !decode(w, r, &in) {
		return
	}
	if in.User == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "InvalidParameter", "description": "user parameter is required"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var u *User
	if in.User.ExternalID != nil && *in.User.ExternalID != "" {
		u = f.findLocked(func(x *User) bool { return x.ExternalID != nil && *x.ExternalID == *in.User.ExternalID })
	}
	if u == nil && in.User.Email != nil {
		u = f.findLocked(func(x *User) bool { return x.hasEmail(*in.User.Email) })
	}
	status := http.StatusOK
	if u == nil {
		u, status = &User{Role: "end-user", Active: true, CreatedAt: f.stamp()}, http.StatusCreated
	}
	if !f.setLocked(w, u, *in.User) {
		return
	}
	if u.ID == 0 {
		u.ID = f.id()
		f.users[u.ID] = u
	}
	writeJSON(w, status, map[string]any{"user": u})
}

func (f *Fake) findLocked(match func(*User) bool) *User {
	for _, id := range slices.Sorted(maps.Keys(f.users)) {
		if u := f.users[id]; u.Active && match(u) {
			return u
		}
	}
	return nil
}

// setLocked validates in against u's current state and applies it, or answers 422.
func (f *Fake) setLocked(w http.ResponseWriter, u *User, in userIn) bool {
	next := *u
	if in.Name != nil {
		next.Name = strings.TrimSpace(*in.Name)
	}
	if next.Name == "" {
		invalid(w, "name", "BlankValue", "Name: cannot be blank")
		return false
	}
	if in.Email != nil {
		e := strings.ToLower(strings.TrimSpace(*in.Email))
		if local, domain, ok := strings.Cut(e, "@"); !ok || local == "" || !strings.Contains(domain, ".") {
			invalid(w, "email", "InvalidFormat", "Email: "+e+" is not properly formatted")
			return false
		}
		if o := f.findLocked(func(x *User) bool { return x.ID != u.ID && x.hasEmail(e) }); o != nil {
			invalid(w, "email", "DuplicateValue", "Email: "+e+" is already being used by another user")
			return false
		}
		switch {
		case next.Email == "":
			next.Email = e
			next.identities = []Identity{{ID: f.id(), Type: "email", Value: e, Primary: true}}
		case !next.hasEmail(e):
			// Zendesk adds the address as a further identity: the primary email changes only
			// through the identities endpoints.
			next.identities = append(slices.Clone(next.identities), Identity{ID: f.id(), Type: "email", Value: e})
		}
	}
	if in.ExternalID != nil {
		ext := *in.ExternalID
		if o := f.findLocked(func(x *User) bool { return x.ID != u.ID && x.ExternalID != nil && *x.ExternalID == ext }); ext != "" && o != nil {
			invalid(w, "external_id", "DuplicateValue", "External: has already been taken")
			return false
		}
		next.ExternalID = &ext
		if ext == "" {
			next.ExternalID = nil
		}
	}
	if in.Role != nil {
		if !slices.Contains([]string{"end-user", "agent", "admin"}, *in.Role) {
			invalid(w, "role", "InvalidValue", "Role: is not included in the list")
			return false
		}
		if in.CustomRoleID == nil { // a role without a custom role is the plain role
			next.CustomRoleID = nil
		}
		next.Role = *in.Role
	}
	if in.CustomRoleID != nil {
		i := slices.IndexFunc(f.roles, func(c CustomRole) bool { return c.ID == *in.CustomRoleID })
		if i < 0 || next.Role != "agent" {
			invalid(w, "custom_role_id", "InvalidValue", "Custom role: is invalid")
			return false
		}
		next.CustomRoleID = in.CustomRoleID
	}
	if (next.Role == "agent" || next.Role == "admin") && next.Email == "" {
		invalid(w, "email", "BlankValue", "Email: cannot be blank for an agent")
		return false
	}
	next.RoleType = nil
	switch {
	case next.Role == "admin":
		rt := 4
		next.RoleType = &rt
	case next.CustomRoleID != nil:
		i := slices.IndexFunc(f.roles, func(c CustomRole) bool { return c.ID == *next.CustomRoleID })
		rt := f.roles[i].RoleType
		next.RoleType = &rt
	}
	if in.Suspended != nil {
		next.Suspended = *in.Suspended
	}
	if next.Role == "end-user" { // end users belong to no group
		for id, m := range f.memberships {
			if m.UserID == u.ID {
				delete(f.memberships, id)
			}
		}
	}
	next.UpdatedAt = f.stamp()
	*u = next
	return true
}

// liveLocked is a user that is not deleted, by the id in the path.
func (f *Fake) liveLocked(r *http.Request, param string) *User {
	id, err := strconv.ParseInt(r.PathValue(param), 10, 64)
	if err != nil {
		return nil
	}
	if u, ok := f.users[id]; ok && u.Active {
		return u
	}
	return nil
}

func (f *Fake) showUser(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	u, ok := f.users[id]
	if !ok {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": u}) // deleted users still show, inactive
}

func (f *Fake) updateUser(w http.ResponseWriter, r *http.Request) {
	var in userBody
	if !decode(w, r, &in) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.liveLocked(r, "id")
	if u == nil {
		notFound(w)
		return
	}
	if in.User == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "InvalidParameter", "description": "user parameter is required"})
		return
	}
	if !f.setLocked(w, u, *in.User) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": u})
}

// deleteUser soft-deletes: the user turns inactive, leaves lists, search and groups, and frees
// its email and external id.
func (f *Fake) deleteUser(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.liveLocked(r, "id")
	if u == nil {
		notFound(w)
		return
	}
	u.Active, u.Email, u.ExternalID, u.identities = false, "", nil, nil
	for id, m := range f.memberships {
		if m.UserID == u.ID {
			delete(f.memberships, id)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": u})
}

func (f *Fake) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var match func(*User) bool
	switch {
	case q.Get("external_id") != "":
		ext := q.Get("external_id")
		match = func(u *User) bool { return u.ExternalID != nil && *u.ExternalID == ext }
	case q.Get("query") != "":
		term := strings.ToLower(strings.TrimPrefix(q.Get("query"), "email:"))
		match = func(u *User) bool { return u.hasEmail(term) || strings.Contains(strings.ToLower(u.Name), term) }
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "InvalidParameter", "description": "query or external_id is required"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []*User{}
	for _, id := range slices.Sorted(maps.Keys(f.users)) {
		if u := f.users[id]; u.Active && match(u) {
			out = append(out, u)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out, "next_page": nil, "previous_page": nil, "count": len(out)})
}

// listUsers supports cursor paging (page[size], page[after]; at most 100) and offset paging
// (per_page, page).
func (f *Fake) listUsers(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []int64
	for _, id := range slices.Sorted(maps.Keys(f.users)) {
		if f.users[id].Active {
			ids = append(ids, id)
		}
	}
	f.page(w, r, "users", ids, func(id int64) any { return f.users[id] })
}

// page answers one page of items (sorted ids) under key, by cursor or offset.
func (f *Fake) page(w http.ResponseWriter, r *http.Request, key string, ids []int64, item func(int64) any) {
	base := f.opts.BaseURL
	if base == "" {
		base = "http://" + r.Host
	}
	q := r.URL.Query()
	out := map[string]any{}
	var chosen []int64
	if q.Has("page[size]") || q.Has("page[after]") {
		size, err := strconv.Atoi(q.Get("page[size]"))
		if q.Get("page[size]") == "" {
			size, err = 100, nil
		}
		if err != nil || size < 1 || size > 100 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "InvalidPaginationParameter", "description": "page[size] must be between 1 and 100"})
			return
		}
		var after int64
		if c := q.Get("page[after]"); c != "" {
			b, err := base64.RawURLEncoding.DecodeString(c)
			if err == nil {
				after, err = strconv.ParseInt(string(b), 10, 64)
			}
			if err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "InvalidPaginationParameter", "description": "page[after] is invalid"})
				return
			}
		}
		i, _ := slices.BinarySearch(ids, after+1)
		chosen = ids[i:min(len(ids), i+size)]
		more := i+size < len(ids)
		meta := map[string]any{"has_more": more, "after_cursor": nil, "before_cursor": nil}
		links := map[string]any{"next": nil, "prev": nil}
		if more {
			cursor := base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(chosen[len(chosen)-1], 10)))
			meta["after_cursor"] = cursor
			next := *r.URL
			nq := next.Query()
			nq.Set("page[after]", cursor)
			next.RawQuery = nq.Encode()
			links["next"] = base + next.String()
		}
		out["meta"], out["links"] = meta, links
	} else {
		per, err := strconv.Atoi(q.Get("per_page"))
		if q.Get("per_page") == "" {
			per, err = 100, nil
		}
		n, perr := strconv.Atoi(q.Get("page"))
		if q.Get("page") == "" {
			n, perr = 1, nil
		}
		if err != nil || perr != nil || per < 1 || per > 100 || n < 1 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "InvalidPaginationParameter", "description": "per_page must be between 1 and 100"})
			return
		}
		start := min(len(ids), (n-1)*per)
		chosen = ids[start:min(len(ids), start+per)]
		out["next_page"], out["previous_page"], out["count"] = nil, nil, len(ids)
		if start+per < len(ids) {
			v := url.Values{"page": {strconv.Itoa(n + 1)}, "per_page": {strconv.Itoa(per)}}
			out["next_page"] = base + r.URL.Path + "?" + v.Encode()
		}
	}
	items := make([]any, len(chosen))
	for i, id := range chosen {
		items[i] = item(id)
	}
	out[key] = items
	writeJSON(w, http.StatusOK, out)
}
