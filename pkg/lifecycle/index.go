package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/hr"
	"github.com/tenure-id/tenure/pkg/identity"
)

// index answers the lookups applying events needs. A batch loads every person once (full);
// a single scheduled event asks the store for the few it touches.
type index struct {
	full   bool
	byEmp  map[string]*identity.Person
	byID   map[string]*identity.Person
	names  map[string]bool // usernames and work emails in use
	units  map[unitKey]identity.OrgUnit
	unitBy map[string]identity.OrgUnit
	// pending are stored future events by external ID: deriving one again is a no-op.
	pending map[string]identity.Event
	// buffered are people a batch will create together; see hires.
	buffered map[string]bool
	// suffix remembers the next username suffix to try per base name, within one batch.
	suffix map[string]int
}

type unitKey struct{ parent, name string }

func loadIndex(ctx context.Context, s directory.Store, full bool) (*index, error) {
	idx := &index{full: full, byEmp: map[string]*identity.Person{}, byID: map[string]*identity.Person{},
		names: map[string]bool{}, units: map[unitKey]identity.OrgUnit{}, unitBy: map[string]identity.OrgUnit{},
		buffered: map[string]bool{}, suffix: map[string]int{}}
	var err error
	if idx.pending, err = loadPending(ctx, s); err != nil {
		return nil, err
	}
	units, err := s.ListOrgUnits(ctx)
	if err != nil {
		return nil, err
	}
	for _, u := range units {
		idx.units[unitKey{u.ParentID, u.Name}] = u
		idx.unitBy[u.ID] = u
	}
	if full {
		people, err := s.AllPeople(ctx)
		if err != nil {
			return nil, err
		}
		for i := range people {
			idx.put(people[i])
		}
	}
	return idx, nil
}

func (x *index) put(p identity.Person) {
	if old := x.byID[p.ID]; old != nil {
		delete(x.names, old.Username)
		delete(x.names, old.WorkEmail)
	}
	cp := p
	x.byEmp[p.EmployeeID], x.byID[p.ID] = &cp, &cp
	if p.Username != "" {
		x.names[p.Username] = true
	}
	if p.WorkEmail != "" {
		x.names[p.WorkEmail] = true
	}
}

// person finds someone by employee ID; ok is false when the directory has no such person.
func (x *index) person(ctx context.Context, s directory.Store, emp string) (identity.Person, bool, error) {
	if p := x.byEmp[emp]; p != nil {
		return *p, true, nil
	}
	if x.full {
		return identity.Person{}, false, nil
	}
	p, err := s.LookupPerson(ctx, emp)
	switch {
	case errors.Is(err, identity.ErrNotFound):
		return identity.Person{}, false, nil
	case err != nil:
		return identity.Person{}, false, err
	case p.EmployeeID != emp:
		return identity.Person{}, false, nil // emp is someone else's username or email
	}
	x.put(p)
	return p, true, nil
}

// errNameCheck marks a failure to find out whether a name is free: the store's error, not a
// reason to reject the event.
var errNameCheck = errors.New("checking whether this name is free")

// taken reports whether a username or work email is in use, by anyone in any state: a
// terminated person keeps theirs, so it is never handed to somebody else.
func (x *index) taken(ctx context.Context, s directory.Store) Taken {
	return func(c string) (bool, error) {
		if x.names[c] || x.full {
			return x.names[c], nil
		}
		_, err := s.LookupPerson(ctx, c)
		switch {
		case errors.Is(err, identity.ErrNotFound):
			return false, nil
		case err == nil || errors.Is(err, identity.ErrAmbiguous):
			// Found, or ambiguous: either way somebody holds it.
			return true, nil
		}
		// A failed read says nothing about the name: calling it taken would hand the person
		// a different name for a database hiccup.
		return false, fmt.Errorf("%w %q: %w", errNameCheck, c, err)
	}
}

// ensureUnits returns the unit at the end of path, creating the missing ones: HR's roster is
// where the org tree comes from.
func (x *index) ensureUnits(ctx context.Context, s directory.Store, path []hr.OrgLevel) (string, error) {
	parent := ""
	for _, l := range path {
		if u, ok := x.units[unitKey{parent, l.Name}]; ok {
			parent = u.ID
			continue
		}
		u, err := s.CreateOrgUnit(ctx, identity.OrgUnit{Name: l.Name, Kind: l.Kind, ParentID: parent})
		if err != nil {
			return "", fmt.Errorf("org unit %q: %w", hr.PathString(path), err)
		}
		x.units[unitKey{parent, l.Name}], x.unitBy[u.ID] = u, u
		parent = u.ID
	}
	return parent, nil
}

// path is the roster form of a unit: its ancestors and itself, root first.
func (x *index) path(unitID string) []hr.OrgLevel {
	var out []hr.OrgLevel
	for id, n := unitID, 0; id != "" && n < 16; n++ {
		u, ok := x.unitBy[id]
		if !ok {
			break
		}
		out = append([]hr.OrgLevel{{Kind: u.Kind, Name: u.Name}}, out...)
		id = u.ParentID
	}
	return out
}

func loadPending(ctx context.Context, s directory.Store) (map[string]identity.Event, error) {
	evs, err := s.ListEvents(ctx, directory.EventFilter{States: []identity.EventState{identity.EventPending}})
	if err != nil {
		return nil, err
	}
	out := make(map[string]identity.Event, len(evs))
	for _, ev := range evs {
		if ev.ExternalID != "" {
			out[ev.ExternalID] = ev
		}
	}
	return out, nil
}

// seen finds a stored event with ev's external ID. Pending ones are in memory; past ones are
// looked up among the person's events, except for people the batch has not met yet: nobody
// can have sent events about them. Looking first, rather than letting the unique index fail,
// keeps the transaction usable on PostgreSQL.
func (x *index) seen(ctx context.Context, s directory.Store, ev identity.Event) (identity.Event, bool, error) {
	if ev.ExternalID == "" {
		return identity.Event{}, false, nil
	}
	if dup, ok := x.pending[ev.ExternalID]; ok {
		return dup, true, nil
	}
	if x.full && x.byEmp[ev.EmployeeID] == nil {
		return identity.Event{}, false, nil
	}
	stored, err := s.ListEvents(ctx, directory.EventFilter{EmployeeID: ev.EmployeeID})
	if err != nil {
		return identity.Event{}, false, err
	}
	for _, st := range stored {
		if st.ExternalID == ev.ExternalID {
			return st, true, nil
		}
	}
	return identity.Event{}, false, nil
}

// active counts active people, from memory when every person is loaded.
func (x *index) active(ctx context.Context, s directory.Store) (int64, error) {
	if !x.full {
		return s.CountPeople(ctx, directory.PersonFilter{Statuses: []identity.Status{identity.Active}})
	}
	var n int64
	for _, p := range x.byID {
		if p.Status == identity.Active {
			n++
		}
	}
	return n, nil
}

// current is the directory in roster terms: each person with their org path and their
// manager's employee ID, ordered by employee ID. It needs a full index.
func (x *index) current() []hr.Current {
	out := make([]hr.Current, 0, len(x.byID))
	paths := map[string][]hr.OrgLevel{}
	for _, p := range x.byID {
		c := hr.Current{Person: *p}
		if p.OrgUnitID != "" {
			path, ok := paths[p.OrgUnitID]
			if !ok {
				path = x.path(p.OrgUnitID)
				paths[p.OrgUnitID] = path
			}
			c.OrgPath = path
		}
		if m := x.byID[p.ManagerID]; m != nil {
			c.ManagerEmployeeID = m.EmployeeID
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b hr.Current) int { return strings.Compare(a.Person.EmployeeID, b.Person.EmployeeID) })
	return out
}
