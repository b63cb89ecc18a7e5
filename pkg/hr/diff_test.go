package hr

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/identity"
)

func day(s string) *time.Time {
	t, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return &t
}

var now = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

func base() (Current, Record) {
	p := identity.Person{EmployeeID: "E1", LegalFirstName: "Ada", LegalLastName: "Lovelace", EmploymentType: identity.Employee,
		Status: identity.Active, JobTitle: "Engineer", Location: "London", StartDate: day("2024-01-01")}
	path := []OrgLevel{{identity.Organization, "Acme"}, {identity.Division, "Eng"}}
	rec := Record{Row: 2, EmployeeID: "E1", Status: identity.Active, Data: Data{FirstName: "Ada", LastName: "Lovelace",
		EmploymentType: identity.Employee, JobTitle: "Engineer", Location: "London", Organization: "Acme", Division: "Eng",
		StartDate: day("2024-01-01")}}
	return Current{Person: p, OrgPath: path}, rec
}

// summary renders events as "type@effective[fields]" for comparison.
func summary(res DiffResult) string {
	var out []string
	for _, c := range res.Changes {
		s := string(c.Event.Type) + "@" + c.Event.EffectiveAt.Format("2006-01-02T15:04")
		if len(c.Fields) > 0 {
			s += "[" + strings.Join(c.Fields, ",") + "]"
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func TestDiffDerivesEachEventType(t *testing.T) {
	seventeen := func(d time.Time) time.Time { return d.Add(17 * time.Hour) }
	tests := []struct {
		name   string
		cur    func(*Current) bool // false: the person is not in the directory
		rec    func(*Record)
		want   string
		preHir int
	}{
		{"no change", nil, nil, "", 0},
		{"hire", func(*Current) bool { return false }, nil, "hire@2026-11-28T10:00", 0},
		{"hire with future start and pre-hire window", func(*Current) bool { return false },
			func(r *Record) { r.StartDate = day("2026-12-14") }, "hire@2026-12-07T00:00", 7},
		{"hire on leave", func(*Current) bool { return false }, func(r *Record) { r.Status = identity.OnLeave },
			"hire@2026-11-28T10:00 leave@2026-11-28T10:00", 0},
		{"someone who left before we knew them is recorded as such", func(*Current) bool { return false },
			func(r *Record) { r.Status, r.TerminationDate = identity.Terminated, day("2025-01-01") },
			"hire@2026-11-28T10:00 terminate@2025-01-01T17:00", 0},
		{"a contract past its end", func(c *Current) bool { c.Person.EmploymentType = identity.Contractor; return true },
			func(r *Record) { r.EmploymentType, r.EndDate = identity.Contractor, day("2026-11-27") },
			"attribute_change@2026-11-28T10:00[end_date] contract_end@2026-11-27T17:00", 0},
		{"no rehire for an ended contract still listed", func(c *Current) bool {
			c.Person.Status, c.Person.EmploymentType = identity.Terminated, identity.Contractor
			return true
		}, func(r *Record) { r.EmploymentType, r.EndDate = identity.Contractor, day("2026-11-27") }, "", 0},
		{"rehire", func(c *Current) bool { c.Person.Status = identity.Terminated; return true },
			func(r *Record) { r.StartDate = day("2026-12-01") }, "hire@", 0},
		{"transfer", nil, func(r *Record) { r.Division, r.JobTitle = "Sales", "Account Executive" },
			"transfer@2026-11-28T10:00[org_unit,job_title]", 0},
		{"manager change", nil, func(r *Record) { r.ManagerID = "E9" }, "manager_change@2026-11-28T10:00[manager_id]", 0},
		{"attribute change", nil, func(r *Record) { r.LastName, r.Location = "King", "Paris" },
			"attribute_change@2026-11-28T10:00[last_name,location]", 0},
		{"leave", nil, func(r *Record) { r.Status = identity.OnLeave }, "leave@2026-11-28T10:00", 0},
		{"return", func(c *Current) bool { c.Person.Status = identity.OnLeave; return true }, nil, "return@2026-11-28T10:00", 0},
		{"termination now", nil, func(r *Record) { r.Status = identity.Terminated }, "terminate@2026-11-28T10:00", 0},
		{"dated termination at 17:00", nil, func(r *Record) { r.Status, r.TerminationDate = identity.Terminated, day("2026-12-31") },
			"terminate@2026-12-31T17:00", 0},
		{"contract end", func(c *Current) bool { c.Person.EmploymentType = identity.Contractor; return true },
			func(r *Record) { r.EmploymentType, r.EndDate = identity.Contractor, day("2027-03-31") },
			"attribute_change@2026-11-28T10:00[end_date] contract_end@2027-03-31T17:00", 0},
		{"terminated stays terminated", func(c *Current) bool { c.Person.Status = identity.Terminated; return true },
			func(r *Record) { r.Status, r.Location = identity.Terminated, "Mars" }, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur, rec := base()
			var current []Current
			if tt.cur == nil || tt.cur(&cur) {
				current = append(current, cur)
			}
			if tt.rec != nil {
				tt.rec(&rec)
			}
			res := Diff(current, []Record{rec}, DiffOptions{Now: now, Source: "roster:test", PreHireDays: tt.preHir, LeaveAt: seventeen})
			got := summary(res)
			if tt.name == "rehire" {
				if len(res.Changes) != 1 || res.Changes[0].Event.Type != identity.Rehire || !res.Changes[0].Event.EffectiveAt.Equal(*day("2026-12-01")) {
					t.Fatalf("rehire: %s", got)
				}
				return
			}
			if got != tt.want {
				t.Fatalf("events = %q, want %q", got, tt.want)
			}
			for _, c := range res.Changes {
				ev := c.Event
				if ev.Source != "roster:test" || ev.ExternalID != EventKey("E1", ev.Type, ev.EffectiveAt) || ev.Validate() != nil {
					t.Fatalf("event %+v", ev)
				}
				var d Data
				if err := json.Unmarshal(ev.Payload, &d); err != nil || d.FirstName != rec.FirstName {
					t.Fatalf("payload %s: %v", ev.Payload, err)
				}
			}
		})
	}
}

func TestDiffMissingPeople(t *testing.T) {
	cur, _ := base()
	gone := cur
	gone.Person.EmployeeID, gone.Person.Status = "E0", identity.Terminated
	current := []Current{cur, gone}
	res := Diff(current, nil, DiffOptions{Now: now})
	if len(res.Changes) != 0 || strings.Join(res.Missing, ",") != "E1" {
		t.Fatalf("default: changes %s, missing %v", summary(res), res.Missing)
	}
	res = Diff(current, nil, DiffOptions{Now: now, MissingTerminates: true})
	if summary(res) != "terminate@2026-11-28T10:00[missing from roster]" || len(res.Missing) != 0 {
		t.Fatalf("MissingTerminates: %s %v", summary(res), res.Missing)
	}
}
