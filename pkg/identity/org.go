package identity

import (
	"strings"
	"time"
)

// OrgUnitKind is the level of an org unit. The tree runs organization → division → department
// → team; a unit's parent is always of a higher level, though levels may be skipped.
type OrgUnitKind string

const (
	Organization OrgUnitKind = "organization"
	Division     OrgUnitKind = "division"
	Department   OrgUnitKind = "department"
	Team         OrgUnitKind = "team"
)

// OrgUnitKinds lists the kinds from the root down.
var OrgUnitKinds = []OrgUnitKind{Organization, Division, Department, Team}

// Valid reports whether k is one of OrgUnitKinds.
func (k OrgUnitKind) Valid() bool { return oneOf(k, OrgUnitKinds) }

// Level is 0 for organization, 3 for team, -1 for an unknown kind.
func (k OrgUnitKind) Level() int {
	for i, v := range OrgUnitKinds {
		if v == k {
			return i
		}
	}
	return -1
}

// OrgUnit is one node of the org tree. Name is unique among siblings, so a path of names
// ("Pied Piper/Engineering/Platform") identifies a unit the way HR writes it.
type OrgUnit struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Kind      OrgUnitKind `json:"kind"`
	ParentID  string      `json:"parent_id,omitempty"`
	Code      string      `json:"code,omitempty"` // HR's code for the unit, if it has one
	Version   int64       `json:"version"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
}

// Validate checks the unit on its own; parent kind and cycles are checked by the store, which
// sees the tree.
func (u OrgUnit) Validate() error {
	if strings.TrimSpace(u.Name) == "" {
		return invalid("name", "required")
	}
	if strings.Contains(u.Name, "/") {
		return invalid("name", "%q contains '/', which separates org unit paths", u.Name)
	}
	if !u.Kind.Valid() {
		return invalid("kind", "%q is not one of %s", u.Kind, join(OrgUnitKinds))
	}
	if u.Kind == Organization && u.ParentID != "" {
		return invalid("parent_id", "an organization is a root and has no parent")
	}
	if u.Kind != Organization && u.ParentID == "" {
		return invalid("parent_id", "a %s needs a parent unit", u.Kind)
	}
	if u.ParentID != "" && u.ParentID == u.ID {
		return invalid("parent_id", "a unit cannot be its own parent")
	}
	return nil
}

// ValidParent reports whether a unit of kind child may sit under a unit of kind parent.
func ValidParent(parent, child OrgUnitKind) bool {
	return parent.Level() >= 0 && child.Level() > parent.Level()
}
