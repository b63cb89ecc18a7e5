package zendeskfake

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

func (f *Fake) listGroups(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := slices.Sorted(maps.Keys(f.groups))
	f.page(w, r, "groups", ids, func(id int64) any {
		return map[string]any{"id": id, "name": f.groups[id], "deleted": false, "default": false}
	})
}

func (f *Fake) listMemberships(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := slices.Sorted(maps.Keys(f.memberships))
	f.page(w, r, "group_memberships", ids, func(id int64) any { return f.memberships[id] })
}

func (f *Fake) userMemberships(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.liveLocked(r, "id")
	if u == nil {
		notFound(w)
		return
	}
	var ids []int64
	for _, id := range slices.Sorted(maps.Keys(f.memberships)) {
		if f.memberships[id].UserID == u.ID {
			ids = append(ids, id)
		}
	}
	f.page(w, r, "group_memberships", ids, func(id int64) any { return f.memberships[id] })
}

func (f *Fake) createMembership(w http.ResponseWriter, r *http.Request) {
	var in struct {
		M *struct {
			UserID  int64 `json:"user_id"`
			GroupID int64 `json:"group_id"`
		} `json:"group_membership"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.M == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "InvalidParameter", "description": "group_membership parameter is required"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[in.M.UserID]
	if !ok || !u.Active {
		notFound(w)
		return
	}
	if _, ok := f.groups[in.M.GroupID]; !ok {
		invalid(w, "group", "InvalidValue", "Group: is invalid")
		return
	}
	if u.Role == "end-user" {
		invalid(w, "user_id", "InvalidValue", "User: must be an agent to be a member of a group")
		return
	}
	for _, m := range f.memberships {
		if m.UserID == u.ID && m.GroupID == in.M.GroupID {
			invalid(w, "user_id", "DuplicateValue", "User is already a member of this group")
			return
		}
	}
	m := membership{ID: f.id(), UserID: u.ID, GroupID: in.M.GroupID}
	f.memberships[m.ID] = m
	writeJSON(w, http.StatusCreated, map[string]any{"group_membership": m})
}

func (f *Fake) deleteMembership(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if _, ok := f.memberships[id]; !ok {
		notFound(w)
		return
	}
	delete(f.memberships, id)
	w.WriteHeader(http.StatusNoContent)
}

func (f *Fake) customRoles(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"custom_roles": f.roles})
}

// AddGroup creates a group and returns its id.
func (f *Fake) AddGroup(name string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.id()
	f.groups[id] = name
	return id
}

// PutUser stores a user as if made in Zendesk by hand; it returns the id.
func (f *Fake) PutUser(u User) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	u.ID, u.Active = f.id(), true
	u.Email = strings.ToLower(u.Email)
	if u.Email != "" {
		u.identities = []Identity{{ID: f.id(), Type: "email", Value: u.Email, Primary: true, Verified: true}}
	}
	if u.Role == "" {
		u.Role = "end-user"
	}
	f.users[u.ID] = &u
	return u.ID
}

// User returns a user (deleted ones too, inactive) by id.
func (f *Fake) User(id int64) (User, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[id]
	if !ok {
		return User{}, false
	}
	return *u, true
}

// Users returns the live users, by id.
func (f *Fake) Users() []User {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []User
	for _, id := range slices.Sorted(maps.Keys(f.users)) {
		if u := f.users[id]; u.Active {
			out = append(out, *u)
		}
	}
	return out
}

// GroupMembers returns the ids of a group's members, by group name.
func (f *Fake) GroupMembers(name string) []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int64
	for _, m := range f.memberships {
		if f.groups[m.GroupID] == name {
			out = append(out, m.UserID)
		}
	}
	slices.Sort(out)
	return out
}
