package scimtarget

import (
	"slices"
	"strings"
)

// EnterpriseURN is the schema of the enterprise User extension.
const EnterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// User is a stored user as tests inspect it.
type User struct {
	ID, ExternalID, UserName, DisplayName, GivenName, FamilyName string
	// Email is the primary (else the first) email.
	Email  string
	Active bool
	// Enterprise holds the enterprise extension's attributes (manager as a map).
	Enterprise map[string]any
	// Attributes is the whole stored resource, a copy.
	Attributes map[string]any
	Version    string
}

// Group is a stored group with its members' user IDs, sorted.
type Group struct {
	ID, DisplayName string
	Members         []string
}

// Users returns every user, sorted by userName.
func (t *Target) Users() []User {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]User, 0, len(t.users.records))
	for _, rec := range t.users.records {
		out = append(out, t.users.user(rec))
	}
	slices.SortFunc(out, func(a, b User) int { return strings.Compare(a.UserName, b.UserName) })
	return out
}

// User returns the user with the given ID.
func (t *Target) User(id string) (User, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	rec, ok := t.users.records[id]
	if !ok {
		return User{}, false
	}
	return t.users.user(rec), true
}

func (s *store) user(rec *record) User {
	a := deepCopy(rec.attrs).(map[string]any)
	str := func(m map[string]any, k string) string { v, _ := m[k].(string); return v }
	u := User{ID: rec.id, ExternalID: str(a, "externalId"), UserName: str(a, "userName"), DisplayName: str(a, "displayName"),
		Attributes: a, Version: s.etag(rec)}
	if n, ok := a["name"].(map[string]any); ok {
		u.GivenName, u.FamilyName = str(n, "givenName"), str(n, "familyName")
	}
	u.Active, _ = a["active"].(bool)
	if emails, ok := a["emails"].([]any); ok {
		for i, e := range emails {
			em, _ := e.(map[string]any)
			if p, _ := em["primary"].(bool); p || i == 0 {
				u.Email = str(em, "value")
			}
		}
	}
	u.Enterprise, _ = a[EnterpriseURN].(map[string]any)
	return u
}

// Groups returns every group, sorted by displayName.
func (t *Target) Groups() []Group {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Group, 0, len(t.groups.records))
	for _, rec := range t.groups.records {
		g := Group{ID: rec.id}
		g.DisplayName, _ = rec.attrs["displayName"].(string)
		members, _ := rec.attrs["members"].([]any)
		for _, m := range members {
			g.Members = append(g.Members, memberValue(m))
		}
		slices.Sort(g.Members)
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b Group) int { return strings.Compare(a.DisplayName, b.DisplayName) })
	return out
}

// AddGroup stores an empty group as if an administrator had made it, and returns its ID.
func (t *Target) AddGroup(displayName string) string {
	return t.add(t.groups, map[string]any{"displayName": displayName})
}

// AddUser stores a user as if someone had made it in the app directly (adoption, drift and
// orphan tests), bypassing uniqueness checks, and returns its ID.
func (t *Target) AddUser(userName, externalID, email string, active bool) string {
	attrs := map[string]any{"userName": userName, "active": active}
	if externalID != "" {
		attrs["externalId"] = externalID
	}
	if email != "" {
		attrs["emails"] = []any{map[string]any{"value": email, "type": "work", "primary": true}}
	}
	return t.add(t.users, attrs)
}

func (t *Target) add(s *store, attrs map[string]any) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seq++
	now := t.opts.Now()
	rec := &record{id: newID(s.kind, t.seq), seq: t.seq, attrs: attrs, version: 1, created: now, modified: now}
	s.records[rec.id] = rec
	return rec.id
}

// Count returns how many requests matched method and path so far ("" matches any).
func (t *Target) Count(method, pathPrefix string) int {
	n := 0
	for _, r := range t.Requests() {
		if (method == "" || r.Method == method) && strings.HasPrefix(r.Path, pathPrefix) {
			n++
		}
	}
	return n
}
