package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// bulkStaff creates n people under a boss, in the Infra unit, for the UpdatePeople tests.
func bulkStaff(t *testing.T, ctx context.Context, s directory.Store, n int) (orgTree, []identity.Person) {
	t.Helper()
	o := buildOrgTree(t, ctx, s)
	in := []directory.NewPerson{bulkPerson("B001", "", func(p *identity.Person) { p.OrgUnitID = o.Infra.ID })}
	for i := range n {
		in = append(in, bulkPerson(fmt.Sprintf("S%04d", i), "B001", func(p *identity.Person) { p.OrgUnitID = o.Infra.ID }))
	}
	people, err := s.CreatePeople(ctx, in)
	if err != nil {
		t.Fatalf("CreatePeople: %v", err)
	}
	return o, people
}

// testBulkUpdatePeople changes more people than one chunk holds — one of them twice, one to a
// manager changed in the same call — and checks each person and audit record as UpdatePerson
// would leave them.
func testBulkUpdatePeople(t *testing.T, s directory.Store) {
	ctx := audit.WithReason(audit.WithActor(testContext(t), "hr:test"), "roster import")
	o, people := bulkStaff(t, ctx, s, 1203)
	staff := people[1:]
	var in []directory.PersonUpdate
	for i, p := range staff {
		p.Location = fmt.Sprintf("Site %d", i)
		if i%2 == 1 {
			p.OrgUnitID = o.Web.ID
		}
		in = append(in, directory.PersonUpdate{Person: p})
	}
	in[3].Reason = "transfer through HR"
	in[1].Person.ManagerID = staff[0].ID // under someone whose unit also changes below
	again := in[0].Person
	again.Version++
	again.Status, again.WorkEmail = identity.OnLeave, " MIXED.Case@Example.test "
	in = append(in, directory.PersonUpdate{Person: again})
	before := verifyAuditLog(t, ctx, s)
	out, err := s.UpdatePeople(ctx, in)
	if err != nil {
		t.Fatalf("UpdatePeople: %v", err)
	}
	if len(out) != len(in) {
		t.Fatalf("UpdatePeople returned %d people for %d updates", len(out), len(in))
	}
	for i, p := range out {
		wantVersion := staff[min(i, len(staff)-1)].Version + 1
		if i == len(in)-1 {
			wantVersion = staff[0].Version + 2
		}
		if p.Version != wantVersion || p.ID != in[i].Person.ID || !p.CreatedAt.Equal(staff[min(i, len(staff)-1)].CreatedAt) {
			t.Fatalf("update %d: version %d (want %d), %+v", i, p.Version, wantVersion, p)
		}
	}
	last := out[len(out)-1]
	if last.WorkEmail != "mixed.case@example.test" || last.Location != "Site 0" {
		t.Fatalf("second update of one person: %+v", last)
	}
	checkPerson(t, "stored after two updates", last, mustGetPerson(t, ctx, s, staff[0].ID))
	checkPerson(t, "stored transfer", out[1001], mustGetPerson(t, ctx, s, staff[1001].ID))
	if got := mustGetPerson(t, ctx, s, staff[1].ID); got.ManagerID != staff[0].ID || got.OrgUnitID != o.Web.ID {
		t.Fatalf("manager change: %+v", got)
	}
	recs := verifyAuditLog(t, ctx, s)[len(before):]
	if len(recs) != len(in) {
		t.Fatalf("%d audit records for %d updates", len(recs), len(in))
	}
	for i, r := range recs {
		want := "roster import"
		if i == 3 {
			want = "transfer through HR"
		}
		var b, a identity.Person
		if err := json.Unmarshal(r.Before, &b); err != nil {
			t.Fatalf("audit record %d before: %v", i, err)
		}
		if err := json.Unmarshal(r.After, &a); err != nil {
			t.Fatalf("audit record %d after: %v", i, err)
		}
		if r.Action != "person.update" || r.Target != "person:"+in[i].Person.ID || r.Actor != "hr:test" || r.Reason != want {
			t.Fatalf("audit record %d: %+v", i, r)
		}
		changed := b.Location != a.Location
		if i == len(in)-1 {
			changed = b.Status == identity.Active && a.Status == identity.OnLeave
		}
		if b.Version != out[i].Version-1 || a.Version != out[i].Version || a.Location != out[i].Location || !changed {
			t.Fatalf("audit record %d: before %+v, after %+v", i, b, a)
		}
	}
	if got, err := s.UpdatePeople(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("UpdatePeople(nil) = %v, %v", got, err)
	}
}

func testBulkUpdatePeopleRejects(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	o, people := bulkStaff(t, ctx, s, 3)
	boss, a, b, c := people[0], people[1], people[2], people[3]
	mustCreatePerson(t, ctx, s, newPerson("X001", func(p *identity.Person) { p.Username = "taken" }))
	tests := []struct {
		name    string
		updates func() []identity.Person
		check   func(t *testing.T, err error)
	}{
		{"stale version", func() []identity.Person {
			a, b := a, b
			a.Location, b.Version = "Berlin", b.Version+1
			return []identity.Person{a, b}
		}, func(t *testing.T, err error) { wantErrIs(t, err, identity.ErrStale, "stale version") }},
		{"unknown person", func() []identity.Person {
			ghost := a
			ghost.ID = "no-such-person"
			return []identity.Person{a, ghost}
		}, func(t *testing.T, err error) { wantErrIs(t, err, identity.ErrNotFound, "unknown person") }},
		{"cycle in the batch", func() []identity.Person {
			a, b := a, b
			a.ManagerID, b.ManagerID = b.ID, a.ID
			return []identity.Person{a, b}
		}, func(t *testing.T, err error) { wantField(t, err, "cycle in batch", "manager_id") }},
		{"cycle through the directory", func() []identity.Person {
			boss := boss
			boss.ManagerID = c.ID
			return []identity.Person{boss}
		}, func(t *testing.T, err error) { wantField(t, err, "cycle", "manager_id") }},
		{"unknown manager", func() []identity.Person {
			c := c
			c.ManagerID = "no-such-person"
			return []identity.Person{a, c}
		}, func(t *testing.T, err error) { wantField(t, err, "unknown manager", "manager_id") }},
		{"unknown org unit", func() []identity.Person {
			b := b
			b.OrgUnitID = "no-such-unit"
			return []identity.Person{a, b}
		}, func(t *testing.T, err error) { wantField(t, err, "org unit", "org_unit") }},
		{"invalid person", func() []identity.Person {
			a, c := a, c
			a.OrgUnitID, c.EmploymentType = o.Web.ID, "freelancer"
			return []identity.Person{a, c}
		}, func(t *testing.T, err error) {
			wantField(t, err, "invalid person", "employment_type")
			if !strings.Contains(err.Error(), `update 2 (person `+c.ID+`, employee ID "S0002")`) {
				t.Errorf("error %q does not name the update", err)
			}
		}},
		{"username taken", func() []identity.Person {
			a, b := a, b
			a.Location, b.Username = "Berlin", "TAKEN"
			return []identity.Person{a, b}
		}, func(t *testing.T, err error) { wantConflict(t, err, "username taken", "username") }},
	}
	for _, tt := range tests {
		before := verifyAuditLog(t, ctx, s)
		var in []directory.PersonUpdate
		for _, p := range tt.updates() {
			in = append(in, directory.PersonUpdate{Person: p})
		}
		_, err := s.UpdatePeople(ctx, in)
		tt.check(t, err)
		for _, p := range people {
			if got := mustGetPerson(t, ctx, s, p.ID); got.Version != p.Version {
				t.Fatalf("%s: %s changed by a failed UpdatePeople: %+v", tt.name, p.EmployeeID, got)
			}
		}
		if after := verifyAuditLog(t, ctx, s); len(after) != len(before) {
			t.Fatalf("%s: failed UpdatePeople appended %d audit records", tt.name, len(after)-len(before))
		}
	}
}

// testBulkAllPeople requires AllPeople to read exactly what ListPeople reads, every field of
// every person, in a transaction too.
func testBulkAllPeople(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	if got, err := s.AllPeople(ctx); err != nil || len(got) != 0 {
		t.Fatalf("AllPeople on an empty directory = %v, %v", got, err)
	}
	o, _ := bulkStaff(t, ctx, s, 40)
	start, end := baseTime.AddDate(-1, 0, 0), baseTime.AddDate(1, 0, 0)
	mustCreatePerson(t, ctx, s, newPerson("A000", func(p *identity.Person) {
		p.Username, p.WorkEmail, p.PersonalEmail, p.OrgUnitID = "full", "full@example.test", "me@home.test", o.Web.ID
		p.EmploymentType, p.StartDate, p.EndDate = identity.Contractor, &start, &end
		p.JobTitle, p.JobCode, p.Location, p.Country, p.CostCenter = "Engineer", "J1", "Berlin", "DE", "CC-1"
		p.Attributes = map[string]string{"badge": "42", "floor": "3"}
	}))
	want, err := s.ListPeople(ctx, directory.PersonFilter{})
	if err != nil {
		t.Fatal(err)
	}
	check := func(s directory.Store) {
		got, err := s.AllPeople(ctx)
		if err != nil {
			t.Fatalf("AllPeople: %v", err)
		}
		if len(got) != len(want) {
			t.Fatalf("AllPeople returned %d people, ListPeople %d", len(got), len(want))
		}
		for i := range want {
			checkPerson(t, "AllPeople "+want[i].EmployeeID, want[i], got[i])
		}
	}
	check(s)
	if err := s.InTx(ctx, func(tx directory.Store) error { check(tx); return nil }); err != nil {
		t.Fatal(err)
	}
}
