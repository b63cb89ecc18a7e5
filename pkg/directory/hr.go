package directory

import (
	"context"

	"github.com/tenure-id/tenure/pkg/identity"
)

// HRBulk writes the many people and events of a large HR batch (an initial roster import, the
// movers and leavers of a roster) at once. The contract is that of CreatePerson and CreateEvent for each item — validation,
// uniqueness, references, one audit record per person and per event — but the whole call
// succeeds or fails together, and an error names the offending item.
type HRBulk interface {
	// CreatePeople stores new people, assigning IDs, Version 1 and timestamps. A NewPerson names
	// its manager by employee ID (ManagerEmployeeID), in the same call or in the directory, since
	// people created together do not know each other's IDs yet; a ManagerID set directly is
	// kept. Results are in input order.
	CreatePeople(ctx context.Context, people []NewPerson) ([]identity.Person, error)
	// CreateEvents stores events as CreateEvent does; results are in input order.
	CreateEvents(ctx context.Context, events []identity.Event) ([]identity.Event, error)
	// UpdatePeople stores changed people as UpdatePerson does for each, in order: each update
	// holds the person's whole new state, and its Version must be the stored version it was
	// computed from (ErrStale otherwise), so a person may appear again with the version the
	// previous update gave them. References and manager cycles are checked on the result of
	// the whole call; each update gets its own audit record with the person before and after.
	// Results are in input order.
	UpdatePeople(ctx context.Context, updates []PersonUpdate) ([]identity.Person, error)
	// AllPeople returns every person, ordered by employee ID, as ListPeople does with an empty
	// filter: what a batch comparing the whole directory reads, as fast as the store can.
	AllPeople(ctx context.Context) ([]identity.Person, error)
}

// PersonUpdate is one change for UpdatePeople.
type PersonUpdate struct {
	// Person is the new state; ID names the person and Version is the version it replaces.
	Person identity.Person
	// Reason is the audit reason of this change; the context's reason when empty.
	Reason string
}

// NewPerson is a person to create with CreatePeople.
type NewPerson struct {
	identity.Person
	ManagerEmployeeID string
	// Reason is the audit reason of this person's creation; the context's reason when empty.
	Reason string
}
