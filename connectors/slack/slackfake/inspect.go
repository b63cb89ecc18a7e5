package slackfake

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"
)

// User is a Slack user as a test or the sandbox sees it.
type User struct {
	ID, ExternalID, UserName, DisplayName string
	GivenName, FamilyName, Title, Email   string
	Active                                bool
	// Enterprise holds the enterprise extension: employeeNumber, costCenter, organization,
	// division, department and managerId.
	Enterprise map[string]string
	// Groups are the names of the user groups the user is in.
	Groups []string
}

// Group is a user group with its members' userNames.
type Group struct {
	ID, DisplayName string
	Members         []string
}

// Users returns every user, deactivated ones included, in creation order.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []User
	for _, u := range s.sortedUsersLocked() {
		pu := User{ID: u.id, ExternalID: u.externalID, UserName: u.userName, DisplayName: u.displayName,
			GivenName: u.givenName, FamilyName: u.familyName, Title: u.title, Email: u.email(),
			Active: u.active, Enterprise: maps.Clone(u.ent)}
		for _, g := range s.sortedGroupsLocked() {
			if slices.Contains(g.members, u.id) {
				pu.Groups = append(pu.Groups, g.displayName)
			}
		}
		out = append(out, pu)
	}
	return out
}

// Groups returns every user group.
func (s *Server) Groups() []Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Group
	for _, g := range s.sortedGroupsLocked() {
		pg := Group{ID: g.id, DisplayName: g.displayName}
		for _, id := range g.members {
			pg.Members = append(pg.Members, s.users[id].userName)
		}
		slices.Sort(pg.Members)
		out = append(out, pg)
	}
	return out
}

// PutUser stores a user as if made in Slack directly (adoption and collision tests).
func (s *Server) PutUser(userName, email string, active bool) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.decodeUser(map[string]any{"schemas": []any{userSchema}, "userName": userName,
		"emails": []any{map[string]any{"value": email, "primary": true}}, "active": active})
	if err == nil {
		err = s.uniqueLocked(&u, "")
	}
	if err != nil {
		return "", fmt.Errorf("slackfake: %w", err)
	}
	s.seq++
	u.id, u.seq, u.created = fmt.Sprintf("U%08X", 0x1000000+s.seq*7919), s.seq, s.opts.Now()
	s.users[u.id] = &u
	return u.id, nil
}

// Count returns how many requests of method reached the resource ("Users", "Groups", ...).
func (s *Server) Count(method, resource string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[method+" "+resource]
}

// Limited returns how many requests the rate limits refused.
func (s *Server) Limited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limited
}

// RateLimitWait is the Retry-After the RateLimit fault advertises.
const RateLimitWait = 30 * time.Second

// RateLimit implements connectortest.Faults: the next n requests answer 429 with
// Retry-After, as an exhausted per-minute limit does.
func (s *Server) RateLimit(n int) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{status: http.StatusTooManyRequests, retryAfter: RateLimitWait})
	}
	return RateLimitWait
}

// ServerError implements connectortest.Faults: the next n requests answer 503.
func (s *Server) ServerError(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{status: http.StatusServiceUnavailable})
	}
}

// Stall implements connectortest.Faults.
func (s *Server) Stall(d time.Duration) {
	s.mu.Lock()
	s.stall = d
	s.mu.Unlock()
}

// Reset implements connectortest.Faults.
func (s *Server) Reset() {
	s.mu.Lock()
	s.faults, s.stall = nil, 0
	s.mu.Unlock()
}
