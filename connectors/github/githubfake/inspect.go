package githubfake

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// User is a SCIM identity as a test or the sandbox sees it.
type User struct {
	ID, ExternalID, UserName, DisplayName string
	GivenName, FamilyName, Email          string
	Roles                                 []string
	Active                                bool
	// Login is the account's login as GitHub shows it: obfuscated while suspended.
	Login string
}

// Group is an enterprise SCIM group with its members' userNames.
type Group struct {
	ID, ExternalID, DisplayName string
	Members                     []string
}

// Invitation is an org invitation sent by an organization SCIM create.
type Invitation struct {
	Org, Email, UserName string
}

func (u *user) public() User {
	login := u.login
	if !u.active && login != "" {
		login = obfuscated(u.id)
	}
	return User{ID: u.id, ExternalID: u.externalID, UserName: u.userName, DisplayName: u.displayName,
		GivenName: u.givenName, FamilyName: u.familyName, Email: primaryEmail(u.emails),
		Roles: slices.Clone(u.roles), Active: u.active, Login: login}
}

// CreateTeam adds a team to org, as an org owner would in the web UI.
func (s *Server) CreateTeam(orgName, slug, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orgs[orgName]
	if !ok {
		return fmt.Errorf("githubfake: no org %q", orgName)
	}
	if _, ok := o.teams[slug]; !ok {
		s.seq++
		o.teams[slug] = &team{id: s.seq, slug: slug, name: name, direct: map[string]string{}}
	}
	return nil
}

// Users returns the enterprise's SCIM users in creation order (suspended ones included).
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return publicUsers(s.users)
}

// OrgUsers returns org's organization SCIM identities.
func (s *Server) OrgUsers(orgName string) []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return publicUsers(s.orgUsers[orgName])
}

func publicUsers(m map[string]*user) []User {
	var out []User
	for _, u := range sortedUsers(m) {
		out = append(out, u.public())
	}
	return out
}

// UserByExternalID returns the enterprise user with externalId ext.
func (s *Server) UserByExternalID(ext string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if u.externalID == ext {
			return u.public(), true
		}
	}
	return User{}, false
}

// Groups returns the enterprise's SCIM groups with their members' userNames.
func (s *Server) Groups() []Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Group
	for _, g := range s.sortedGroupsLocked() {
		pg := Group{ID: g.id, ExternalID: g.externalID, DisplayName: g.displayName}
		for _, id := range g.members {
			if u := s.users[id]; u != nil {
				pg.Members = append(pg.Members, u.userName)
			}
		}
		slices.Sort(pg.Members)
		out = append(out, pg)
	}
	return out
}

// TeamMembers returns the logins of a team's active members (direct and through linked
// groups) and of its pending ones (invited, not yet in the org).
func (s *Server) TeamMembers(orgName, slug string) (active, pending []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orgs[orgName]
	if o == nil || o.teams[slug] == nil {
		return nil, nil
	}
	t := o.teams[slug]
	for _, login := range sortedKeys(t.direct) {
		if _, ok := o.members[login]; !ok {
			pending = append(pending, login)
		}
	}
	return s.teamMembersLocked(o, t), pending
}

// TeamLinks returns the names of the external groups linked to a team.
func (s *Server) TeamLinks(orgName, slug string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orgs[orgName]
	if o == nil || o.teams[slug] == nil {
		return nil
	}
	var out []string
	for _, g := range s.sortedGroupsLocked() {
		if slices.Contains(o.teams[slug].links, g.externalGroupID) {
			out = append(out, g.displayName)
		}
	}
	return out
}

// OrgMembers returns org's members (login → role) and its pending invitations.
func (s *Server) OrgMembers(orgName string) (members map[string]string, pending []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orgs[orgName]
	if o == nil {
		return nil, nil
	}
	members = map[string]string{}
	for k, v := range o.members {
		members[k] = v
	}
	return members, sortedKeys(o.pending)
}

// Invitations returns the invitations organization SCIM creates sent.
func (s *Server) Invitations() []Invitation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.invites)
}

// AcceptInvitation makes the person behind org SCIM identity userName accept their invitation
// with the personal account login: they join the org and their pending team memberships
// become active.
func (s *Server) AcceptInvitation(orgName, userName, login string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orgs[orgName]
	if o == nil {
		return fmt.Errorf("githubfake: no org %q", orgName)
	}
	for _, u := range s.orgUsers[orgName] {
		if strings.EqualFold(u.userName, userName) && u.active {
			u.login = login
			role := o.pending[login]
			if role == "" {
				role = "member"
			}
			s.joinOrgLocked(o, login, role)
			return nil
		}
	}
	return fmt.Errorf("githubfake: no active org SCIM identity %q in %s", userName, orgName)
}

// Wiped returns the obfuscated logins of accounts whose SCIM identity was deleted.
func (s *Server) Wiped() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.wiped)
}

// Requests returns how many authenticated requests reached the fake.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reqs
}

// RateLimit implements connectortest.Faults: the next n requests find the primary limit
// spent, answering 403 (or 429) with x-ratelimit-remaining 0 and a reset a minute ahead.
func (s *Server) RateLimit(n int) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{status: s.opts.RateLimitStatus, primary: true})
	}
	return primaryFaultWait
}

const primaryFaultWait = time.Minute

// SecondaryLimit makes the next n requests hit the secondary rate limit: 403 with
// retry-after, or without it when retryAfter is zero (GitHub then asks for at least a minute).
func (s *Server) SecondaryLimit(n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{status: 403, retryAfter: retryAfter, secondary: true})
	}
}

// ServerError implements connectortest.Faults: the next n requests answer 502 with GitHub's
// body.
func (s *Server) ServerError(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{status: http.StatusBadGateway})
	}
}

// Stall implements connectortest.Faults: every request waits d before it is handled, and one
// the client abandons meanwhile has no effect.
func (s *Server) Stall(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// Reset implements connectortest.Faults.
func (s *Server) Reset() {
	s.mu.Lock()
	s.faults, s.latency = nil, 0
	s.mu.Unlock()
}

// ExhaustRateLimit spends the rest of the current hour's primary limit: requests answer 403
// (or 429) with x-ratelimit-remaining 0 until x-ratelimit-reset.
func (s *Server) ExhaustRateLimit() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	if s.opts.RateLimit <= 0 {
		s.opts.RateLimit = 1
	}
	if s.window.IsZero() || !now.Before(s.window.Add(time.Hour)) {
		s.window = now.Truncate(time.Second)
	}
	s.used = s.opts.RateLimit
}
