package directory

import (
	"context"

	"github.com/tenure-id/tenure/pkg/identity"
)

// HRBulk writes the many people and events of a large HR batch (an initial roster import) at
// once. The contract is that of CreatePerson and CreateEvent for each item — validation,
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
}

// NewPerson is a person to create with CreatePeople.
type NewPerson struct {
	identity.Person
	ManagerEmployeeID string
	// Reason is the audit reason of this person's creation; the context's reason when empty.
	Reason string
}
