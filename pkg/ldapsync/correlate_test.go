package ldapsync

import (
	"strings"
	"testing"

	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

type identityPerson struct{ id, employeeID, email, badge string }

func toPeople(in []identityPerson) []identity.Person {
	out := make([]identity.Person, len(in))
	for i, p := range in {
		out[i] = identity.Person{ID: p.id, EmployeeID: p.employeeID, WorkEmail: p.email, LegalLastName: "Last" + p.employeeID}
		if p.badge != "" {
			out[i].Attributes = map[string]string{"badge": p.badge}
		}
	}
	return out
}

func TestCorrelateRules(t *testing.T) {
	people := []identityPerson{
		{"p1", "E1", "a@x.example", ""}, {"p2", "E2", "b@x.example", "shared"}, {"p3", "E3", "", "shared"},
	}
	c := newCorrelator(append(config.DefaultCorrelation, config.CorrelationRule{Attribute: "badge", PersonField: "attributes.badge"}), toPeople(people))
	tests := []struct {
		name      string
		e         directory.LDAPEntry
		person    string
		rule      string
		conflict  bool
		candidate []string
	}{
		{"employee number", directory.LDAPEntry{EmployeeNumber: "e1"}, "p1", "employee_number", false, nil},
		{"email when no number", directory.LDAPEntry{Email: "B@X.example"}, "p2", "email", false, nil},
		{"number and email agree", directory.LDAPEntry{EmployeeNumber: "E1", Email: "a@x.example"}, "p1", "employee_number", false, nil},
		{"number and email disagree", directory.LDAPEntry{EmployeeNumber: "E1", Email: "b@x.example"}, "", "", true, []string{"p1", "p2"}},
		{"custom rule ambiguous", directory.LDAPEntry{Attributes: map[string]string{"badge": "shared"}}, "", "", true, []string{"p2", "p3"}},
		{"unknown number falls through to email", directory.LDAPEntry{EmployeeNumber: "E9", Email: "a@x.example"}, "p1", "email", false, nil},
		{"nothing matches", directory.LDAPEntry{EmployeeNumber: "E9"}, "", "", false, nil},
		{"name alone never matches", directory.LDAPEntry{DisplayName: "First Last"}, "", "", false, nil},
	}
	for _, tt := range tests {
		m := c.correlate(tt.e)
		if m.personID != tt.person || m.rule != tt.rule || m.conflict() != tt.conflict || strings.Join(m.candidates, ",") != strings.Join(tt.candidate, ",") {
			t.Errorf("%s: correlate = %+v", tt.name, m)
		}
	}
}
