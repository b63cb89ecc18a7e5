package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/identity"
)

func TestTemplateRender(t *testing.T) {
	snap := NewSnapshot(SnapshotData{Now: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC), OrgUnits: []identity.OrgUnit{
		{ID: "u1", Name: "Pied Piper"}, {ID: "u2", Name: "Engineering", ParentID: "u1"}}})
	p := identity.Person{ID: "p1", EmployeeID: "PP002", LegalFirstName: "Richard", LegalLastName: "Hendricks",
		JobTitle: "CEO", OrgUnitID: "u2", Attributes: map[string]string{"badge": "7"}}
	for _, tc := range []struct{ tmpl, want string }{
		{"${person.job_title}", "CEO"},
		{"${person.display_name} <${person.employee_id}>", "Richard Hendricks <PP002>"},
		{"${org.unit} in ${org.path}", "Engineering in Pied Piper/Engineering"},
		{"badge ${person.attributes.badge}${person.attributes.none}", "badge 7"},
		{"plain", "plain"},
		{"", ""},
	} {
		tmpl, err := ParseTemplate(tc.tmpl)
		if err != nil {
			t.Fatalf("ParseTemplate(%q): %v", tc.tmpl, err)
		}
		if got := tmpl.Render(p, snap); got != tc.want {
			t.Errorf("Render(%q) = %q, want %q", tc.tmpl, got, tc.want)
		}
	}
	for _, bad := range []string{"${person.salary}", "${person.job_title", "${org.manager}"} {
		if _, err := ParseTemplate(bad); err == nil || !strings.Contains(err.Error(), "${") {
			t.Errorf("ParseTemplate(%q) = %v, want an error naming the reference", bad, err)
		}
	}
}
