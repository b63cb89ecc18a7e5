package sqlstore

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/tenure-id/tenure/pkg/identity"
)

// Rows are kept apart from the domain types so identity stays free of storage concerns, and so
// optional unique columns can be NULL (several people may have no username yet).
//
// Unique index names matter: conflictField maps them back to the field a person sees.

type personRow struct {
	ID             string  `gorm:"primaryKey;size:36"`
	EmployeeID     string  `gorm:"size:64;not null;uniqueIndex:ux_people_employee_id"`
	LegalFirstName string  `gorm:"size:200"`
	LegalLastName  string  `gorm:"size:200"`
	PreferredName  string  `gorm:"size:200"`
	Username       *string `gorm:"size:200;uniqueIndex:ux_people_username"`
	WorkEmail      *string `gorm:"size:320;uniqueIndex:ux_people_work_email"`
	PersonalEmail  string  `gorm:"size:320"`
	EmploymentType string  `gorm:"size:16;not null;index"`
	Status         string  `gorm:"size:16;not null;index"`
	JobTitle       string  `gorm:"size:200"`
	JobCode        string  `gorm:"size:64"`
	OrgUnitID      string  `gorm:"size:36;index"`
	ManagerID      string  `gorm:"size:36;index"`
	Location       string  `gorm:"size:200"`
	Country        string  `gorm:"size:2"`
	CostCenter     string  `gorm:"size:64"`
	StartDate      *time.Time
	EndDate        *time.Time
	Attributes     string `gorm:"type:text"` // JSON object
	Version        int64  `gorm:"not null"`
	CreatedAt      time.Time
	UpdatedAt      time.Time `gorm:"autoUpdateTime:false"`
}

func (personRow) TableName() string { return "people" }

type orgUnitRow struct {
	ID        string `gorm:"primaryKey;size:36"`
	Name      string `gorm:"size:200;not null;uniqueIndex:ux_org_units_parent_name,priority:2"`
	Kind      string `gorm:"size:16;not null"`
	ParentID  string `gorm:"size:36;not null;uniqueIndex:ux_org_units_parent_name,priority:1"` // "" for a root
	Code      string `gorm:"size:64"`
	Version   int64  `gorm:"not null"`
	CreatedAt time.Time
	UpdatedAt time.Time `gorm:"autoUpdateTime:false"`
}

func (orgUnitRow) TableName() string { return "org_units" }

type groupRow struct {
	ID          string `gorm:"primaryKey;size:36"`
	Name        string `gorm:"size:200;not null;uniqueIndex:ux_groups_source_name,priority:2"`
	Source      string `gorm:"size:100;not null;uniqueIndex:ux_groups_source_name,priority:1"`
	ExternalID  string `gorm:"size:500"`
	Description string `gorm:"type:text"`
	CreatedAt   time.Time
	UpdatedAt   time.Time `gorm:"autoUpdateTime:false"`
}

func (groupRow) TableName() string { return "groups" }

type groupMemberRow struct {
	GroupID   string `gorm:"primaryKey;size:36"`
	PersonID  string `gorm:"primaryKey;size:36;index"`
	CreatedAt time.Time
}

func (groupMemberRow) TableName() string { return "group_members" }

type appRow struct {
	ID           string `gorm:"primaryKey;size:36"`
	Name         string `gorm:"size:100;not null;uniqueIndex:ux_apps_name"`
	Connector    string `gorm:"size:50;not null"`
	Entitlements string `gorm:"type:text"` // JSON array
	CreatedAt    time.Time
	UpdatedAt    time.Time `gorm:"autoUpdateTime:false"`
}

func (appRow) TableName() string { return "apps" }

type grantRow struct {
	ID          string `gorm:"primaryKey;size:36"`
	PersonID    string `gorm:"size:36;not null;index"`
	App         string `gorm:"size:100;not null;index"`
	Entitlement string `gorm:"size:300"`
	Role        string `gorm:"size:100"`
	Source      string `gorm:"size:16;not null"`
	Reason      string `gorm:"type:text;not null"`
	Approver    string `gorm:"size:200"`
	GrantedAt   time.Time
	ExpiresAt   *time.Time
}

func (grantRow) TableName() string { return "grants" }

type accountRow struct {
	ID          string `gorm:"primaryKey;size:36"`
	App         string `gorm:"size:100;not null;uniqueIndex:ux_accounts_app_external_id,priority:1"`
	ExternalID  string `gorm:"size:300;not null;uniqueIndex:ux_accounts_app_external_id,priority:2"`
	PersonID    string `gorm:"size:36;index"`
	Username    string `gorm:"size:200"`
	Email       string `gorm:"size:320"`
	Status      string `gorm:"size:16;not null"`
	Memberships string `gorm:"type:text"` // JSON array
	Attributes  string `gorm:"type:text"` // JSON object
	LastSeenAt  *time.Time
	Version     int64 `gorm:"not null"`
	CreatedAt   time.Time
	UpdatedAt   time.Time `gorm:"autoUpdateTime:false"`
}

func (accountRow) TableName() string { return "accounts" }

type eventRow struct {
	ID          string    `gorm:"primaryKey;size:36"`
	ExternalID  *string   `gorm:"size:200;uniqueIndex:ux_events_external_id"`
	Type        string    `gorm:"size:32;not null"`
	EmployeeID  string    `gorm:"size:64;not null;index"`
	PersonID    string    `gorm:"size:36"`
	EffectiveAt time.Time `gorm:"not null;index:ix_events_state_effective,priority:2"`
	Source      string    `gorm:"size:200"`
	Payload     string    `gorm:"type:text"`
	State       string    `gorm:"size:16;not null;index:ix_events_state_effective,priority:1"`
	Error       string    `gorm:"type:text"`
	CreatedAt   time.Time
	AppliedAt   *time.Time
}

func (eventRow) TableName() string { return "events" }

// auditRow stores Before and After as text, byte for byte as hashed: PostgreSQL's jsonb would
// reorder keys and break the chain.
type auditRow struct {
	Seq      int64     `gorm:"primaryKey;autoIncrement:false"`
	Time     time.Time `gorm:"not null"`
	Actor    string    `gorm:"size:200;not null"`
	Action   string    `gorm:"size:100;not null"`
	Target   string    `gorm:"size:200;not null;index"`
	Before   string    `gorm:"type:text"`
	After    string    `gorm:"type:text"`
	Reason   string    `gorm:"type:text"`
	PrevHash string    `gorm:"size:64;not null"`
	Hash     string    `gorm:"size:64;not null"`
}

func (auditRow) TableName() string { return "audit_records" }

// allModels is the schema Migrate creates. Files that add tables register their rows with
// registerModels from an init function, so each area of the store keeps its schema beside its
// code.
var allModels = []any{&personRow{}, &orgUnitRow{}, &groupRow{}, &groupMemberRow{}, &appRow{},
	&grantRow{}, &accountRow{}, &eventRow{}, &auditRow{}}

func registerModels(rows ...any) { allModels = append(allModels, rows...) }

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// utc keeps times in one zone and at the precision every backend stores, so values read back
// equal the values written.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := utc(*t)
	return &u
}

func toJSON(v any) string {
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		// Only maps of strings and slices of strings and entitlements reach here.
		panic("sqlstore: marshal: " + err.Error())
	}
	if string(b) == "null" || string(b) == "{}" || string(b) == "[]" {
		return ""
	}
	return string(b)
}

func fromJSON[T any](s string) (T, error) {
	var v T
	if s == "" {
		return v, nil
	}
	err := json.Unmarshal([]byte(s), &v)
	return v, err
}

func toPersonRow(p identity.Person) personRow {
	return personRow{
		ID: p.ID, EmployeeID: p.EmployeeID, LegalFirstName: p.LegalFirstName, LegalLastName: p.LegalLastName,
		PreferredName: p.PreferredName, Username: nullable(p.Username), WorkEmail: nullable(p.WorkEmail),
		PersonalEmail: p.PersonalEmail, EmploymentType: string(p.EmploymentType), Status: string(p.Status),
		JobTitle: p.JobTitle, JobCode: p.JobCode, OrgUnitID: p.OrgUnitID, ManagerID: p.ManagerID,
		Location: p.Location, Country: p.Country, CostCenter: p.CostCenter,
		StartDate: utcPtr(p.StartDate), EndDate: utcPtr(p.EndDate), Attributes: toJSON(p.Attributes),
		Version: p.Version, CreatedAt: utc(p.CreatedAt), UpdatedAt: utc(p.UpdatedAt),
	}
}

func (r personRow) person() (identity.Person, error) {
	attrs, err := fromJSON[map[string]string](r.Attributes)
	if err != nil {
		return identity.Person{}, fmt.Errorf("person %s: attributes: %w", r.ID, err)
	}
	return identity.Person{
		ID: r.ID, EmployeeID: r.EmployeeID, LegalFirstName: r.LegalFirstName, LegalLastName: r.LegalLastName,
		PreferredName: r.PreferredName, Username: deref(r.Username), WorkEmail: deref(r.WorkEmail),
		PersonalEmail: r.PersonalEmail, EmploymentType: identity.EmploymentType(r.EmploymentType),
		Status: identity.Status(r.Status), JobTitle: r.JobTitle, JobCode: r.JobCode, OrgUnitID: r.OrgUnitID,
		ManagerID: r.ManagerID, Location: r.Location, Country: r.Country, CostCenter: r.CostCenter,
		StartDate: utcPtr(r.StartDate), EndDate: utcPtr(r.EndDate), Attributes: attrs,
		Version: r.Version, CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt),
	}, nil
}
