package conformance

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

func hrBulkTests() []subTest {
	return []subTest{
		{"HRBulkCreatePeople", testBulkCreatePeople},
		{"HRBulkCreatePeopleRejectsWhole", testBulkCreatePeopleRejects},
		{"HRBulkCreateEvents", testBulkCreateEvents},
		{"HRBulkRollsBackWithTx", testBulkInTx},
		{"HRBulkUpdatePeople", testBulkUpdatePeople},
		{"HRBulkUpdatePeopleRejectsWhole", testBulkUpdatePeopleRejects},
		{"HRBulkAllPeople", testBulkAllPeople},
	}
}

func bulkPerson(emp, manager string, mods ...func(*identity.Person)) directory.NewPerson {
	return directory.NewPerson{Person: newPerson(emp, mods...), ManagerEmployeeID: manager}
}

// testBulkCreatePeople creates more people than one INSERT carries, managers inside the batch
// and in the directory, and checks each person and audit record as CreatePerson would leave them.
func testBulkCreatePeople(t *testing.T, s directory.Store) {
	ctx := audit.WithReason(audit.WithActor(testContext(t), "hr:test"), "initial import")
	o := buildOrgTree(t, ctx, s)
	boss := mustCreatePerson(t, ctx, s, newPerson("B001"))
	const n = 1203
	in := make([]directory.NewPerson, n)
	for i := range in {
		emp := fmt.Sprintf("N%04d", i)
		mgr := "B001"
		if i > 0 {
			mgr = fmt.Sprintf("N%04d", (i-1)/10) // a tree inside the batch, rooted at B001
		}
		in[i] = bulkPerson(emp, mgr, func(p *identity.Person) {
			p.Username, p.WorkEmail, p.OrgUnitID = " User"+emp+" ", strings.ToUpper(emp)+"@Example.test", o.Infra.ID
		})
	}
	in[5].Reason = "rehired through HR"
	before := verifyAuditLog(t, ctx, s)
	out, err := s.CreatePeople(ctx, in)
	if err != nil {
		t.Fatalf("CreatePeople: %v", err)
	}
	if len(out) != n {
		t.Fatalf("CreatePeople returned %d people, want %d", len(out), n)
	}
	for i, p := range out {
		if p.ID == "" || p.Version != 1 || p.CreatedAt.IsZero() || p.EmployeeID != in[i].EmployeeID {
			t.Fatalf("person %d: %+v", i, p)
		}
		if p.Username != strings.ToLower(strings.TrimSpace(in[i].Username)) {
			t.Fatalf("person %d username %q not normalized", i, p.Username)
		}
		wantMgr := boss.ID
		if i > 0 {
			wantMgr = out[(i-1)/10].ID
		}
		if p.ManagerID != wantMgr {
			t.Fatalf("person %d manager %q, want %q", i, p.ManagerID, wantMgr)
		}
	}
	checkPerson(t, "stored bulk person", out[77], mustGetPerson(t, ctx, s, out[77].ID))
	if chain, err := s.ManagerChain(ctx, out[n-1].ID); err != nil || chain[len(chain)-1].ID != boss.ID {
		t.Fatalf("manager chain of the last person: %v %v", employeeIDs(chain), err)
	}
	recs := verifyAuditLog(t, ctx, s)[len(before):]
	if len(recs) != n {
		t.Fatalf("%d audit records for %d people", len(recs), n)
	}
	for i, r := range recs {
		want := "initial import"
		if i == 5 {
			want = "rehired through HR"
		}
		if r.Action != "person.create" || r.Target != "person:"+out[i].ID || r.Actor != "hr:test" || r.Reason != want {
			t.Fatalf("audit record %d: %+v", i, r)
		}
	}
	if got, err := s.CreatePeople(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("CreatePeople(nil) = %v, %v", got, err)
	}
}

func testBulkCreatePeopleRejects(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	o := buildOrgTree(t, ctx, s)
	mustCreatePerson(t, ctx, s, newPerson("X001", func(p *identity.Person) { p.Username = "taken" }))
	valid := func() []directory.NewPerson {
		return []directory.NewPerson{bulkPerson("N1", ""), bulkPerson("N2", "N1"), bulkPerson("N3", "X001")}
	}
	tests := []struct {
		name  string
		bad   func([]directory.NewPerson) []directory.NewPerson
		check func(t *testing.T, err error)
	}{
		{"unknown manager", func(in []directory.NewPerson) []directory.NewPerson {
			in[2].ManagerEmployeeID = "NOBODY"
			return in
		}, func(t *testing.T, err error) { wantField(t, err, "unknown manager", "manager_id") }},
		{"cycle in the batch", func(in []directory.NewPerson) []directory.NewPerson {
			in[0].ManagerEmployeeID = "N2"
			return in
		}, func(t *testing.T, err error) { wantField(t, err, "cycle", "manager_id") }},
		{"duplicate in the batch", func(in []directory.NewPerson) []directory.NewPerson {
			return append(in, bulkPerson("N2", ""))
		}, func(t *testing.T, err error) { wantConflict(t, err, "duplicate in batch", "employee_id") }},
		{"duplicate of a stored person", func(in []directory.NewPerson) []directory.NewPerson {
			return append(in, bulkPerson("X001", ""))
		}, func(t *testing.T, err error) { wantConflict(t, err, "duplicate of stored", "employee_id") }},
		{"username taken", func(in []directory.NewPerson) []directory.NewPerson {
			in[1].Username = "TAKEN"
			return in
		}, func(t *testing.T, err error) { wantConflict(t, err, "username taken", "username") }},
		{"unknown org unit", func(in []directory.NewPerson) []directory.NewPerson {
			in[1].OrgUnitID = "no-such-unit"
			return in
		}, func(t *testing.T, err error) { wantField(t, err, "org unit", "org_unit") }},
		{"invalid person", func(in []directory.NewPerson) []directory.NewPerson {
			in[2].OrgUnitID, in[2].EmploymentType = o.Web.ID, "freelancer"
			return in
		}, func(t *testing.T, err error) {
			wantField(t, err, "invalid person", "employment_type")
			if !strings.Contains(err.Error(), `person 3 (employee ID "N3")`) {
				t.Errorf("error %q does not name the person", err)
			}
		}},
	}
	for _, tt := range tests {
		before := verifyAuditLog(t, ctx, s)
		_, err := s.CreatePeople(ctx, tt.bad(valid()))
		tt.check(t, err)
		if n, _ := s.CountPeople(ctx, directory.PersonFilter{}); n != 1 {
			t.Fatalf("%s: %d people stored after a failed CreatePeople, want 1", tt.name, n)
		}
		if after := verifyAuditLog(t, ctx, s); len(after) != len(before) {
			t.Fatalf("%s: failed CreatePeople appended %d audit records", tt.name, len(after)-len(before))
		}
	}
}

func testBulkCreateEvents(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	in := []identity.Event{newEvent("E1", baseTime, func(e *identity.Event) { e.ExternalID = "a" }),
		newEvent("E2", baseTime.Add(-1), func(e *identity.Event) { e.State = identity.EventApplied }), newEvent("E3", baseTime)}
	out, err := s.CreateEvents(ctx, in)
	if err != nil || len(out) != 3 {
		t.Fatalf("CreateEvents: %v %v", out, err)
	}
	for i, e := range out {
		got, err := s.GetEvent(ctx, e.ID)
		if err != nil || got.EmployeeID != in[i].EmployeeID || got.State != e.State || !got.CreatedAt.Equal(e.CreatedAt) {
			t.Fatalf("event %d: stored %+v, returned %+v, %v", i, got, e, err)
		}
	}
	if out[2].State != identity.EventPending {
		t.Fatalf("default state %q", out[2].State)
	}
	recs := verifyAuditLog(t, ctx, s)
	if len(recs) != 3 || recs[1].Action != "event.create" || recs[1].Target != "event:"+out[1].ID {
		t.Fatalf("audit records %+v", recs)
	}
	_, err = s.CreateEvents(ctx, []identity.Event{newEvent("E4", baseTime), newEvent("E5", baseTime, func(e *identity.Event) { e.ExternalID = "a" })})
	wantConflict(t, err, "repeated external ID", "external_id")
	_, err = s.CreateEvents(ctx, []identity.Event{newEvent("E6", baseTime, func(e *identity.Event) { e.Type = "promote" })})
	wantField(t, err, "bad type", "type")
	if evs, _ := s.ListEvents(ctx, directory.EventFilter{}); len(evs) != 3 {
		t.Fatalf("%d events after failed CreateEvents, want 3", len(evs))
	}
}

func testBulkInTx(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	errStop := errors.New("stop")
	err := s.InTx(ctx, func(tx directory.Store) error {
		if _, err := tx.CreatePeople(ctx, []directory.NewPerson{bulkPerson("T1", ""), bulkPerson("T2", "T1")}); err != nil {
			return err
		}
		if _, err := tx.CreateEvents(ctx, []identity.Event{newEvent("T1", baseTime)}); err != nil {
			return err
		}
		// A later single write in the same transaction continues the chain from the bulk ones.
		if _, err := tx.CreatePerson(ctx, newPerson("T3")); err != nil {
			return err
		}
		verifyAuditLog(t, ctx, tx)
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("InTx = %v", err)
	}
	if n, _ := s.CountPeople(ctx, directory.PersonFilter{}); n != 0 {
		t.Fatalf("%d people after rollback", n)
	}
	if recs := verifyAuditLog(t, ctx, s); len(recs) != 0 {
		t.Fatalf("%d audit records after rollback", len(recs))
	}
}
