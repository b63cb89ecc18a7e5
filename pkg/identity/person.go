package identity

import (
	"net/mail"
	"strings"
	"time"
)

// EmploymentType is the contract a person works under; policies grant by it.
type EmploymentType string

const (
	Employee   EmploymentType = "employee"
	Contractor EmploymentType = "contractor"
	Vendor     EmploymentType = "vendor"
	Intern     EmploymentType = "intern"
)

// EmploymentTypes lists every valid employment type, in display order.
var EmploymentTypes = []EmploymentType{Employee, Contractor, Vendor, Intern}

// Valid reports whether t is one of EmploymentTypes.
func (t EmploymentType) Valid() bool { return oneOf(t, EmploymentTypes) }

// ParseEmploymentType accepts any case and surrounding space.
func ParseEmploymentType(s string) (EmploymentType, error) {
	t := EmploymentType(strings.ToLower(strings.TrimSpace(s)))
	if !t.Valid() {
		return "", invalid("employment_type", "%q is not one of %s", s, join(EmploymentTypes))
	}
	return t, nil
}

// Status is where a person is in the joiner/mover/leaver lifecycle.
type Status string

const (
	PreHire    Status = "pre_hire"
	Active     Status = "active"
	OnLeave    Status = "on_leave"
	Suspended  Status = "suspended"
	Terminated Status = "terminated"
)

// Statuses lists every valid status, in lifecycle order.
var Statuses = []Status{PreHire, Active, OnLeave, Suspended, Terminated}

// Valid reports whether s is one of Statuses.
func (s Status) Valid() bool { return oneOf(s, Statuses) }

// ParseStatus accepts any case, surrounding space, and "-" or " " for "_" (HR systems write
// "Pre-Hire" as often as "pre_hire").
func ParseStatus(s string) (Status, error) {
	norm := strings.ToLower(strings.TrimSpace(s))
	norm = strings.NewReplacer("-", "_", " ", "_").Replace(norm)
	st := Status(norm)
	if !st.Valid() {
		return "", invalid("status", "%q is not one of %s", s, join(Statuses))
	}
	return st, nil
}

// Person is one human HR knows about. ID is Tenure's own stable key; EmployeeID is HR's key and
// survives rehire, so a returning person keeps one identity.
type Person struct {
	ID             string            `json:"id"`
	EmployeeID     string            `json:"employee_id"`
	LegalFirstName string            `json:"legal_first_name"`
	LegalLastName  string            `json:"legal_last_name"`
	PreferredName  string            `json:"preferred_name,omitempty"` // given name the person goes by
	Username       string            `json:"username,omitempty"`
	WorkEmail      string            `json:"work_email,omitempty"`
	PersonalEmail  string            `json:"personal_email,omitempty"`
	EmploymentType EmploymentType    `json:"employment_type"`
	Status         Status            `json:"status"`
	JobTitle       string            `json:"job_title,omitempty"`
	JobCode        string            `json:"job_code,omitempty"`
	OrgUnitID      string            `json:"org_unit,omitempty"`
	ManagerID      string            `json:"manager_id,omitempty"` // the manager's Person.ID
	Location       string            `json:"location,omitempty"`
	Country        string            `json:"country,omitempty"` // ISO 3166-1 alpha-2
	CostCenter     string            `json:"cost_center,omitempty"`
	StartDate      *time.Time        `json:"start_date,omitempty"`
	EndDate        *time.Time        `json:"end_date,omitempty"` // contract end or last day worked
	Attributes     map[string]string `json:"attributes,omitempty"`
	// Version increases by one on every stored change; updates computed from an older version
	// fail with ErrStale instead of overwriting someone else's change.
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// DisplayName is the preferred first name (falling back to the legal one) and the last name.
func (p Person) DisplayName() string {
	first := p.PreferredName
	if first == "" {
		first = p.LegalFirstName
	}
	return strings.TrimSpace(first + " " + p.LegalLastName)
}

// Validate checks what every stored person must satisfy, naming the first bad field.
func (p Person) Validate() error {
	if strings.TrimSpace(p.EmployeeID) == "" {
		return invalid("employee_id", "required")
	}
	if strings.TrimSpace(p.LegalFirstName) == "" && strings.TrimSpace(p.LegalLastName) == "" {
		return invalid("legal_first_name", "a legal first or last name is required")
	}
	if !p.EmploymentType.Valid() {
		return invalid("employment_type", "%q is not one of %s", p.EmploymentType, join(EmploymentTypes))
	}
	if !p.Status.Valid() {
		return invalid("status", "%q is not one of %s", p.Status, join(Statuses))
	}
	for field, v := range map[string]string{"work_email": p.WorkEmail, "personal_email": p.PersonalEmail} {
		if v == "" {
			continue
		}
		if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
			return invalid(field, "%q is not an email address", v)
		}
	}
	if p.ManagerID != "" && p.ManagerID == p.ID {
		return invalid("manager_id", "a person cannot be their own manager")
	}
	if p.StartDate != nil && p.EndDate != nil && p.EndDate.Before(*p.StartDate) {
		return invalid("end_date", "%s is before start_date %s", p.EndDate.Format(time.DateOnly), p.StartDate.Format(time.DateOnly))
	}
	return nil
}

func oneOf[T comparable](v T, all []T) bool {
	for _, a := range all {
		if a == v {
			return true
		}
	}
	return false
}

func join[T ~string](all []T) string {
	s := make([]string, len(all))
	for i, a := range all {
		s[i] = string(a)
	}
	return strings.Join(s, "|")
}

// Normalize trims every name and lowercases the username and email addresses: they are
// case-insensitive everywhere Tenure sends them, so uniqueness must be too.
func (p *Person) Normalize() {
	for _, s := range []*string{&p.EmployeeID, &p.LegalFirstName, &p.LegalLastName, &p.PreferredName,
		&p.JobTitle, &p.JobCode, &p.Location, &p.CostCenter} {
		*s = strings.TrimSpace(*s)
	}
	for _, s := range []*string{&p.Username, &p.WorkEmail, &p.PersonalEmail} {
		*s = strings.ToLower(strings.TrimSpace(*s))
	}
	p.Country = strings.ToUpper(strings.TrimSpace(p.Country))
}
