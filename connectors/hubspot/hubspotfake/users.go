package hubspotfake

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// userIn is a create or update body; pointers tell absent from empty.
type userIn struct {
	Email            *string   `json:"email"`
	SendWelcomeEmail *bool     `json:"sendWelcomeEmail"`
	FirstName        *string   `json:"firstName"`
	LastName         *string   `json:"lastName"`
	RoleID           *string   `json:"roleId"`
	PrimaryTeamID    *string   `json:"primaryTeamId"`
	SecondaryTeamIDs *[]string `json:"secondaryTeamIds"`
}

func (f *Fake) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(v); err != nil {
		f.writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Invalid input JSON on line 1")
		return false
	}
	return true
}

func (f *Fake) createUser(w http.ResponseWriter, r *http.Request) {
	var in userIn
	if !f.decode(w, r, &in) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case in.Email == nil || !validEmail(*in.Email):
		f.writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "email is required and must be a valid email address")
		return
	case in.SendWelcomeEmail == nil:
		f.writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "sendWelcomeEmail is required")
		return
	case f.byEmailLocked(*in.Email) != nil:
		category := "CONFLICT"
		if f.opts.DuplicateStatus == http.StatusBadRequest {
			category = "VALIDATION_ERROR"
		}
		f.writeError(w, f.opts.DuplicateStatus, category, "A user with email "+lower(*in.Email)+" already exists in this account")
		return
	}
	u := &User{Email: lower(*in.Email), SendWelcomeEmail: *in.SendWelcomeEmail}
	if !f.setLocked(w, u, in) {
		return
	}
	f.nextID++
	u.ID = strconv.Itoa(f.nextID)
	f.users[u.ID] = u
	writeJSON(w, http.StatusCreated, u)
}

func validEmail(s string) bool {
	local, domain, ok := strings.Cut(strings.TrimSpace(s), "@")
	return ok && local != "" && strings.Contains(domain, ".")
}

// setLocked checks role and team ids and applies in's names, role and teams to u.
func (f *Fake) setLocked(w http.ResponseWriter, u *User, in userIn) bool {
	next := *u
	if in.FirstName != nil {
		next.FirstName = *in.FirstName
	}
	if in.LastName != nil {
		next.LastName = *in.LastName
	}
	if in.RoleID != nil {
		if *in.RoleID != "" && !slices.ContainsFunc(f.roles, func(r Role) bool { return r.ID == *in.RoleID }) {
			f.writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Role "+*in.RoleID+" does not exist")
			return false
		}
		next.RoleID = *in.RoleID
		next.RoleIDs = nil
		if next.RoleID != "" {
			next.RoleIDs = []string{next.RoleID}
		}
	}
	if in.PrimaryTeamID != nil {
		next.PrimaryTeamID = *in.PrimaryTeamID
	}
	if in.SecondaryTeamIDs != nil {
		next.SecondaryTeamIDs = slices.Clone(*in.SecondaryTeamIDs)
	}
	for _, t := range append([]string{next.PrimaryTeamID}, next.SecondaryTeamIDs...) {
		if t != "" && !slices.ContainsFunc(f.teams, func(x Team) bool { return x.ID == t }) {
			f.writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Team "+t+" does not exist")
			return false
		}
	}
	if next.PrimaryTeamID == "" && len(next.SecondaryTeamIDs) > 0 {
		f.writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "secondaryTeamIds require a primaryTeamId")
		return false
	}
	if slices.Contains(next.SecondaryTeamIDs, next.PrimaryTeamID) && next.PrimaryTeamID != "" {
		f.writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "A team cannot be both primary and secondary")
		return false
	}
	*u = next
	return true
}

func (f *Fake) byEmailLocked(email string) *User {
	for _, u := range f.users {
		if u.Email == lower(email) {
			return u
		}
	}
	return nil
}

// userLocked resolves the path's userId by id or, with ?idProperty=EMAIL, by email.
func (f *Fake) userLocked(w http.ResponseWriter, r *http.Request) *User {
	key := r.PathValue("userId")
	var u *User
	switch p := r.URL.Query().Get("idProperty"); p {
	case "", "USER_ID":
		u = f.users[key]
	case "EMAIL":
		u = f.byEmailLocked(key)
	default:
		f.writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "idProperty must be one of USER_ID, EMAIL")
		return nil
	}
	if u == nil {
		f.writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "Could not find user "+key)
	}
	return u
}

func (f *Fake) getUser(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u := f.userLocked(w, r); u != nil {
		c := *u
		c.SendWelcomeEmail = false // only reported in answer to the create
		writeJSON(w, http.StatusOK, c)
	}
}

func (f *Fake) updateUser(w http.ResponseWriter, r *http.Request) {
	var in userIn
	if !f.decode(w, r, &in) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.userLocked(w, r)
	if u == nil {
		return
	}
	in.Email, in.SendWelcomeEmail = nil, nil // not part of an update: the email never changes
	if !f.setLocked(w, u, in) {
		return
	}
	c := *u
	c.SendWelcomeEmail = false
	writeJSON(w, http.StatusOK, c)
}

// deleteUser removes the user from the account.
func (f *Fake) deleteUser(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u := f.userLocked(w, r); u != nil {
		delete(f.users, u.ID)
		w.WriteHeader(http.StatusNoContent)
	}
}

// listUsers pages by id with limit (at most 100) and the opaque after cursor.
func (f *Fake) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 100
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			f.writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "limit must be between 1 and 100")
			return
		}
		limit = n
	}
	after := 0
	if s := q.Get("after"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			f.writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "after is not a valid cursor")
			return
		}
		after = n
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []int
	for id := range maps.Keys(f.users) {
		if n, _ := strconv.Atoi(id); n > after {
			ids = append(ids, n)
		}
	}
	slices.Sort(ids)
	out := map[string]any{}
	base := f.opts.BaseURL
	if base == "" {
		base = "http://" + r.Host
	}
	if len(ids) > limit {
		ids = ids[:limit]
		next := strconv.Itoa(ids[limit-1])
		out["paging"] = map[string]any{"next": map[string]string{"after": next,
			"link": base + "/settings/v3/users/?after=" + next + "&limit=" + strconv.Itoa(limit)}}
	}
	results := make([]User, len(ids))
	for i, id := range ids {
		results[i] = *f.users[strconv.Itoa(id)]
		results[i].SendWelcomeEmail = false
	}
	out["results"] = results
	writeJSON(w, http.StatusOK, out)
}

func (f *Fake) listRoles(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"results": f.roles})
}

func (f *Fake) listTeams(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	type team struct {
		Team
		UserIDs          []string `json:"userIds"`
		SecondaryUserIDs []string `json:"secondaryUserIds"`
	}
	out := []team{}
	for _, t := range f.teams {
		x := team{Team: t, UserIDs: []string{}, SecondaryUserIDs: []string{}}
		for _, id := range slices.Sorted(maps.Keys(f.users)) {
			u := f.users[id]
			if u.PrimaryTeamID == t.ID {
				x.UserIDs = append(x.UserIDs, id)
			}
			if slices.Contains(u.SecondaryTeamIDs, t.ID) {
				x.SecondaryUserIDs = append(x.SecondaryUserIDs, id)
			}
		}
		out = append(out, x)
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": out})
}

// AddRole creates a permission set and returns its id.
func (f *Fake) AddRole(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	id := strconv.Itoa(f.nextID)
	f.roles = append(f.roles, Role{ID: id, Name: name})
	return id
}

// AddTeam creates a team and returns its id.
func (f *Fake) AddTeam(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	id := strconv.Itoa(f.nextID)
	f.teams = append(f.teams, Team{ID: id, Name: name})
	return id
}

// PutUser stores a user as if made in HubSpot by hand; it returns the id.
func (f *Fake) PutUser(u User) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	u.ID, u.Email = strconv.Itoa(f.nextID), lower(u.Email)
	f.users[u.ID] = &u
	return u.ID
}

// User returns a user by id.
func (f *Fake) User(id string) (User, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[id]
	if !ok {
		return User{}, false
	}
	c := *u
	c.SecondaryTeamIDs = slices.Clone(u.SecondaryTeamIDs)
	return c, true
}

// Users returns every user, by email.
func (f *Fake) Users() []User {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]User, 0, len(f.users))
	for _, u := range f.users {
		c := *u
		c.SecondaryTeamIDs = slices.Clone(u.SecondaryTeamIDs)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b User) int { return strings.Compare(a.Email, b.Email) })
	return out
}

// RateLimit makes the next n requests answer 429 with the rate headers. It returns the
// advertised wait: Retry-After when the fake sends it, else zero.
func (f *Fake) RateLimit(n int) time.Duration {
	f.push(http.StatusTooManyRequests, n)
	if f.opts.RetryAfter {
		return 10 * time.Second
	}
	return 0
}

// ServerError makes the next n requests answer 502, as HubSpot's edge does when the service
// behind it fails.
func (f *Fake) ServerError(n int) { f.push(http.StatusBadGateway, n) }

// Stall delays every request by d until Reset; an abandoned request takes no effect.
func (f *Fake) Stall(d time.Duration) { f.faults.Stall(d) }

// Reset clears injected faults and the stall.
func (f *Fake) Reset() { f.faults.Reset() }

func (f *Fake) push(status, n int) { f.faults.Push(status, n) }

func (f *Fake) fault(w http.ResponseWriter) bool {
	status, ok := f.faults.Next()
	if !ok {
		return false
	}
	if status == http.StatusTooManyRequests {
		w.Header().Set("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")
		w.Header().Set("X-HubSpot-RateLimit-Max", strconv.Itoa(f.opts.Burst))
		f.writeTooMany(w, 10)
		return true
	}
	f.writeError(w, status, "INTERNAL_ERROR", "internal error")
	return true
}
