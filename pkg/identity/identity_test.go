package identity

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func validPerson() Person {
	return Person{EmployeeID: "E1", LegalFirstName: "Ada", LegalLastName: "Lovelace", EmploymentType: Employee, Status: Active}
}

func TestPersonValidate(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	before := start.AddDate(0, 0, -1)
	tests := []struct {
		name   string
		change func(*Person)
		field  string // "" means valid
	}{
		{"valid", func(*Person) {}, ""},
		{"no employee id", func(p *Person) { p.EmployeeID = "  " }, "employee_id"},
		{"no name", func(p *Person) { p.LegalFirstName, p.LegalLastName = "", "" }, "legal_first_name"},
		{"last name only", func(p *Person) { p.LegalFirstName = "" }, ""},
		{"bad type", func(p *Person) { p.EmploymentType = "freelancer" }, "employment_type"},
		{"bad status", func(p *Person) { p.Status = "retired" }, "status"},
		{"bad work email", func(p *Person) { p.WorkEmail = "not-an-email" }, "work_email"},
		{"display-name email", func(p *Person) { p.WorkEmail = "Ada <ada@x.test>" }, "work_email"},
		{"bad personal email", func(p *Person) { p.PersonalEmail = "@@" }, "personal_email"},
		{"own manager", func(p *Person) { p.ID, p.ManagerID = "x", "x" }, "manager_id"},
		{"end before start", func(p *Person) { p.StartDate, p.EndDate = &start, &before }, "end_date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPerson()
			tt.change(&p)
			err := p.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field || !errors.Is(err, ErrInvalid) {
				t.Fatalf("error = %v, want FieldError on %s", err, tt.field)
			}
		})
	}
}

func TestNormalizeLowercasesKeys(t *testing.T) {
	p := Person{EmployeeID: " E7 ", Username: " Ada.Lovelace ", WorkEmail: "Ada@Example.COM", Country: "gb "}
	p.Normalize()
	if p.EmployeeID != "E7" || p.Username != "ada.lovelace" || p.WorkEmail != "ada@example.com" || p.Country != "GB" {
		t.Fatalf("normalized = %+v", p)
	}
}

func TestParseEnums(t *testing.T) {
	if s, err := ParseStatus(" Pre-Hire "); err != nil || s != PreHire {
		t.Fatalf("ParseStatus = %q, %v", s, err)
	}
	if s, err := ParseStatus("on leave"); err != nil || s != OnLeave {
		t.Fatalf("ParseStatus = %q, %v", s, err)
	}
	if _, err := ParseStatus("gone"); err == nil || !strings.Contains(err.Error(), "pre_hire|active|on_leave|suspended|terminated") {
		t.Fatalf("ParseStatus error = %v", err)
	}
	if e, err := ParseEmploymentType("CONTRACTOR"); err != nil || e != Contractor {
		t.Fatalf("ParseEmploymentType = %q, %v", e, err)
	}
	if _, err := ParseEmploymentType("temp"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("ParseEmploymentType error = %v", err)
	}
}

func TestOrgUnitRules(t *testing.T) {
	tests := []struct {
		name  string
		unit  OrgUnit
		field string
	}{
		{"root org", OrgUnit{Name: "Acme", Kind: Organization}, ""},
		{"org with parent", OrgUnit{Name: "Acme", Kind: Organization, ParentID: "p"}, "parent_id"},
		{"team without parent", OrgUnit{Name: "Core", Kind: Team}, "parent_id"},
		{"slash in name", OrgUnit{Name: "R/D", Kind: Division, ParentID: "p"}, "name"},
		{"bad kind", OrgUnit{Name: "X", Kind: "squad", ParentID: "p"}, "kind"},
		{"no name", OrgUnit{Kind: Team, ParentID: "p"}, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.unit.Validate()
			var fe *FieldError
			if tt.field == "" && err != nil || tt.field != "" && (!errors.As(err, &fe) || fe.Field != tt.field) {
				t.Fatalf("Validate = %v, want field %q", err, tt.field)
			}
		})
	}
	if !ValidParent(Organization, Team) || !ValidParent(Division, Department) || ValidParent(Team, Division) || ValidParent(Team, Team) {
		t.Fatal("ValidParent levels wrong")
	}
}

func TestGrantAndEntitlementRules(t *testing.T) {
	ok := Grant{PersonID: "p", App: "slack", Source: FromRule, Reason: "rule everyone"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	noApprover := Grant{PersonID: "p", App: "github", Source: FromException, Reason: "incident"}
	if err := noApprover.Validate(); err == nil || !strings.Contains(err.Error(), "approver") {
		t.Fatalf("exception without approver: %v", err)
	}
	noReason := Grant{PersonID: "p", App: "slack", Source: FromRule}
	if err := noReason.Validate(); err == nil || !strings.Contains(err.Error(), "reason") {
		t.Fatalf("grant without reason: %v", err)
	}
	badEnt := ok
	badEnt.Entitlement = "team"
	if err := badEnt.Validate(); err == nil {
		t.Fatal("entitlement without kind:name accepted")
	}
	if e, err := ParseEntitlement("team:backend"); err != nil || e.Key() != "team:backend" {
		t.Fatalf("ParseEntitlement = %v, %v", e, err)
	}
	if _, err := ParseEntitlement("badge:blue"); err == nil {
		t.Fatal("unknown entitlement kind accepted")
	}
	dup := App{Name: "github", Connector: "github", Entitlements: []Entitlement{{Kind: "team", Name: "a"}, {Kind: "team", Name: "a"}}}
	if err := dup.Validate(); err == nil || !strings.Contains(err.Error(), "listed twice") {
		t.Fatalf("duplicate entitlement: %v", err)
	}
}

func TestErrorsMatchSentinels(t *testing.T) {
	var err error = &ConflictError{Kind: "person", Field: "work_email", Value: "a@b.test"}
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), `work_email "a@b.test"`) {
		t.Fatalf("ConflictError: %v", err)
	}
	err = &NotFoundError{Kind: "person", Key: "E9"}
	if !errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) {
		t.Fatalf("NotFoundError: %v", err)
	}
}
