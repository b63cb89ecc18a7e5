package hrgen

import (
	"bytes"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/hr"
	"github.com/tenure-id/tenure/pkg/identity"
)

func csvOf(t *testing.T, recs []hr.Record) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteCSV(&b, recs); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestRosterIsDeterministicAndValid(t *testing.T) {
	a, b := csvOf(t, Roster(10_000, 7)), csvOf(t, Roster(10_000, 7))
	if !bytes.Equal(a, b) {
		t.Fatal("same size and seed gave different rosters")
	}
	if bytes.Equal(a, csvOf(t, Roster(10_000, 8))) {
		t.Fatal("a different seed gave the same roster")
	}
	r, err := hr.Parse(bytes.NewReader(a), hr.CSV, nil)
	if err != nil || len(r.Errors) > 0 || len(r.Records) != 10_000 {
		t.Fatalf("parse: %v, %d errors (%v), %d records", err, len(r.Errors), r.Errors[:min(3, len(r.Errors))], len(r.Records))
	}
	types := map[identity.EmploymentType]int{}
	for _, rec := range r.Records {
		types[rec.EmploymentType]++
	}
	if types[identity.Contractor] < 500 || types[identity.Vendor] == 0 || types[identity.Intern] == 0 {
		t.Fatalf("employment types %v", types)
	}
}

func TestChangeTouchesTheRequestedShare(t *testing.T) {
	base := Roster(10_000, 1)
	changed := Change(base, 0.01, 2)
	var current []hr.Current
	for _, r := range base {
		// Pretend the base roster is the directory: same data, everyone active.
		p := identity.Person{EmployeeID: r.EmployeeID, LegalFirstName: r.FirstName, LegalLastName: r.LastName,
			EmploymentType: r.EmploymentType, Status: identity.Active, JobTitle: r.JobTitle, JobCode: r.JobCode,
			CostCenter: r.CostCenter, Location: r.Location, Country: r.Country, StartDate: r.StartDate, EndDate: r.EndDate}
		current = append(current, hr.Current{Person: p, OrgPath: r.OrgPath(), ManagerEmployeeID: r.ManagerID})
	}
	now := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	res := hr.Diff(current, changed, hr.DiffOptions{Now: now})
	immediate := map[identity.EventType]int{}
	for _, c := range res.Changes {
		if !c.Event.EffectiveAt.After(now) {
			immediate[c.Event.Type]++
		}
	}
	// 100 changed people: 34 transfers (which also change manager), 17 manager changes,
	// 17 attribute changes, 16 terminations, 16 hires.
	want := map[identity.EventType]int{identity.Transfer: 34, identity.ManagerChange: 51, identity.AttributeChange: 17,
		identity.Terminate: 16, identity.Hire: 16}
	for typ, n := range want {
		if immediate[typ] < n*9/10 || immediate[typ] > n {
			t.Errorf("%s: %d events, want about %d (all: %v)", typ, immediate[typ], n, immediate)
		}
	}
}
