// Package hr turns what HR systems send (full roster snapshots as CSV or JSON, single pushed
// events) into effective-dated identity.Events. It parses and validates; it never writes: the
// lifecycle engine applies what it derives.
package hr

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tenure-id/tenure/pkg/identity"
)

// Canonical roster fields. They are the default column names and the JSON keys of Data.
const (
	FieldEmployeeID      = "employee_id"
	FieldFirstName       = "first_name"
	FieldLastName        = "last_name"
	FieldPreferredName   = "preferred_name"
	FieldEmail           = "email"
	FieldPersonalEmail   = "personal_email"
	FieldEmploymentType  = "employment_type"
	FieldJobTitle        = "job_title"
	FieldJobCode         = "job_code"
	FieldOrganization    = "organization"
	FieldDivision        = "division"
	FieldDepartment      = "department"
	FieldTeam            = "team"
	FieldCostCenter      = "cost_center"
	FieldLocation        = "location"
	FieldCountry         = "country"
	FieldManagerID       = "manager_id"
	FieldStartDate       = "start_date"
	FieldEndDate         = "end_date"
	FieldTerminationDate = "termination_date"
	FieldStatus          = "status"
)

// Fields lists every roster field in the order a generated roster writes them.
var Fields = []string{FieldEmployeeID, FieldFirstName, FieldLastName, FieldPreferredName, FieldEmail,
	FieldPersonalEmail, FieldEmploymentType, FieldJobTitle, FieldJobCode, FieldOrganization, FieldDivision,
	FieldDepartment, FieldTeam, FieldCostCenter, FieldLocation, FieldCountry, FieldManagerID, FieldStartDate,
	FieldEndDate, FieldTerminationDate, FieldStatus}

// Data is what HR says about one person. It is the payload of every event, so an event carries
// the full picture HR had when it sent it; each event type applies only its own part.
type Data struct {
	FirstName     string `json:"first_name,omitempty"`
	LastName      string `json:"last_name,omitempty"`
	PreferredName string `json:"preferred_name,omitempty"`
	// Username, on a hire, is the username the sender has already given the person (a SCIM
	// client's userName); empty lets the naming pattern choose.
	Username       string                  `json:"username,omitempty"`
	WorkEmail      string                  `json:"email,omitempty"`
	PersonalEmail  string                  `json:"personal_email,omitempty"`
	EmploymentType identity.EmploymentType `json:"employment_type,omitempty"`
	JobTitle       string                  `json:"job_title,omitempty"`
	JobCode        string                  `json:"job_code,omitempty"`
	Organization   string                  `json:"organization,omitempty"`
	Division       string                  `json:"division,omitempty"`
	Department     string                  `json:"department,omitempty"`
	Team           string                  `json:"team,omitempty"`
	CostCenter     string                  `json:"cost_center,omitempty"`
	Location       string                  `json:"location,omitempty"`
	Country        string                  `json:"country,omitempty"`
	ManagerID      string                  `json:"manager_id,omitempty"` // the manager's employee ID
	StartDate      *time.Time              `json:"start_date,omitempty"`
	EndDate        *time.Time              `json:"end_date,omitempty"`
	// KeepAccessUntil, on a transfer, keeps the access of the old position until that moment.
	KeepAccessUntil *time.Time `json:"keep_access_until,omitempty"`
}

// OrgLevel is one level of a person's place in the org tree.
type OrgLevel struct {
	Kind identity.OrgUnitKind
	Name string
}

// OrgPath is the person's org units from the root down; empty levels are skipped, as the tree
// allows.
func (d Data) OrgPath() []OrgLevel {
	var out []OrgLevel
	for _, l := range []OrgLevel{{identity.Organization, d.Organization}, {identity.Division, d.Division},
		{identity.Department, d.Department}, {identity.Team, d.Team}} {
		if l.Name != "" {
			out = append(out, l)
		}
	}
	return out
}

// PathString is the org path as HR writes it: "Pied Piper/Engineering/Platform".
func PathString(levels []OrgLevel) string {
	names := make([]string, len(levels))
	for i, l := range levels {
		names[i] = l.Name
	}
	return strings.Join(names, "/")
}

// Record is one parsed roster row.
type Record struct {
	Row             int // CSV line number or JSON record number, 1-based
	EmployeeID      string
	Status          identity.Status // active when the roster says nothing
	TerminationDate *time.Time
	Data
}

// RowError names one bad cell: where it is, which column, what it holds and what is wrong.
type RowError struct {
	Unit   string `json:"unit"` // "line" for CSV, "record" for JSON
	Row    int    `json:"row"`
	Column string `json:"column"` // the column as the file names it
	Value  string `json:"value,omitempty"`
	Reason string `json:"reason"`
}

func (e RowError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s %d, column %s: %s", e.Unit, e.Row, e.Column, e.Reason)
	}
	return fmt.Sprintf("%s %d, column %s (%q): %s", e.Unit, e.Row, e.Column, e.Value, e.Reason)
}

// ErrInvalidRoster matches every InvalidRosterError.
var ErrInvalidRoster = errors.New("invalid roster")

// InvalidRosterError lists every bad row of a rejected roster.
type InvalidRosterError struct{ Errors []RowError }

func (e *InvalidRosterError) Error() string {
	if len(e.Errors) == 1 {
		return "roster rejected, nothing applied: " + e.Errors[0].Error()
	}
	return fmt.Sprintf("roster rejected, nothing applied: %d invalid rows; first: %s", len(e.Errors), e.Errors[0].Error())
}

// Is makes errors.Is(err, ErrInvalidRoster) and errors.Is(err, identity.ErrInvalid) true.
func (e *InvalidRosterError) Is(target error) bool {
	return target == ErrInvalidRoster || target == identity.ErrInvalid
}

// ParseDate accepts a calendar date (2026-03-01) or an RFC 3339 time; dates mean midnight UTC.
func ParseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date (YYYY-MM-DD) or an RFC 3339 time", s)
}
