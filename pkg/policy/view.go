package policy

import (
	"strings"
	"time"

	"github.com/tenure-id/tenure/pkg/identity"
)

// View is everything a rule may look at besides the person: the org tree, other people (for
// the manager chain), group membership, exceptions and the time. Resolving never reads the
// database; callers build a View once per run.
type View interface {
	Now() time.Time
	// OrgChain returns the unit's ancestors root first, ending with the unit itself.
	OrgChain(unitID string) []OrgRef
	Person(id string) (PersonRef, bool)
	DirectReports(personID string) int
	Groups(personID string) []GroupRef
	// Exceptions returns the person's exception grants, expired ones included: the resolver
	// decides expiry against Now.
	Exceptions(personID string) []identity.Grant
}

// OrgRef is one unit on an org chain.
type OrgRef struct {
	ID   string
	Path string
	key  string // lowercase path
}

// PersonRef is what the manager conditions need about another person.
type PersonRef struct {
	ID, EmployeeID, Username, WorkEmail, ManagerID string
}

// GroupRef names a group with its source ("local" or "ldap:<silo>").
type GroupRef struct {
	Source, Name string
}

// Snapshot is a View over data loaded once, with the org ancestry precomputed so that each
// person costs map lookups only.
type Snapshot struct {
	now        time.Time
	chains     map[string][]OrgRef
	people     map[string]PersonRef
	reports    map[string]int
	groups     map[string][]GroupRef
	exceptions map[string][]identity.Grant
}

// SnapshotData is the input of NewSnapshot.
type SnapshotData struct {
	Now      time.Time
	OrgUnits []identity.OrgUnit // parents before children, as ListOrgUnits returns them
	People   []identity.Person
	// Groups maps person ID to the groups they belong to.
	Groups map[string][]identity.Group
	// Exceptions are grants with Source "exception"; others are ignored.
	Exceptions []identity.Grant
}

// NewSnapshot indexes d.
func NewSnapshot(d SnapshotData) *Snapshot {
	s := &Snapshot{now: d.Now, chains: map[string][]OrgRef{}, people: make(map[string]PersonRef, len(d.People)),
		reports: map[string]int{}, groups: map[string][]GroupRef{}, exceptions: map[string][]identity.Grant{}}
	byID := map[string]identity.OrgUnit{}
	for _, u := range d.OrgUnits {
		byID[u.ID] = u
	}
	var chain func(id string, depth int) []OrgRef
	chain = func(id string, depth int) []OrgRef {
		if c, ok := s.chains[id]; ok {
			return c
		}
		u, ok := byID[id]
		if !ok || depth > maxChain {
			return nil
		}
		parent := chain(u.ParentID, depth+1)
		path := u.Name
		if len(parent) > 0 {
			path = parent[len(parent)-1].Path + "/" + u.Name
		}
		c := make([]OrgRef, len(parent), len(parent)+1)
		copy(c, parent)
		c = append(c, OrgRef{ID: u.ID, Path: path, key: strings.ToLower(path)})
		s.chains[id] = c
		return c
	}
	for _, u := range d.OrgUnits {
		chain(u.ID, 0)
	}
	for _, p := range d.People {
		s.people[p.ID] = PersonRef{ID: p.ID, EmployeeID: p.EmployeeID, Username: p.Username, WorkEmail: p.WorkEmail, ManagerID: p.ManagerID}
		if p.ManagerID != "" {
			s.reports[p.ManagerID]++
		}
	}
	for pid, gs := range d.Groups {
		for _, g := range gs {
			s.groups[pid] = append(s.groups[pid], GroupRef{Source: g.Source, Name: g.Name})
		}
	}
	for _, g := range d.Exceptions {
		if g.Source == identity.FromException {
			s.exceptions[g.PersonID] = append(s.exceptions[g.PersonID], g)
		}
	}
	return s
}

func (s *Snapshot) Now() time.Time                  { return s.now }
func (s *Snapshot) OrgChain(unitID string) []OrgRef { return s.chains[unitID] }
func (s *Snapshot) DirectReports(id string) int     { return s.reports[id] }
func (s *Snapshot) Groups(id string) []GroupRef     { return s.groups[id] }
func (s *Snapshot) Exceptions(id string) []identity.Grant {
	return s.exceptions[id]
}

func (s *Snapshot) Person(id string) (PersonRef, bool) {
	p, ok := s.people[id]
	return p, ok
}

// OrgPath is the path of a unit, or "" when the snapshot does not know it.
func (s *Snapshot) OrgPath(unitID string) string {
	c := s.chains[unitID]
	if len(c) == 0 {
		return ""
	}
	return c[len(c)-1].Path
}
