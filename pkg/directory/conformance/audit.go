package conformance

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

func auditTests() []subTest {
	return []subTest{
		{"AuditRecordsWrites", testAuditRecordsWrites},
		{"AuditPaging", testAuditPaging},
		{"AuditFailedWriteAddsNothing", testAuditFailedWrite},
		{"AuditAppend", testAuditAppend},
		{"AuditSystemActor", testAuditSystemActor},
	}
}

// verifyAuditLog feeds the whole log to an audit.Verifier and returns the records.
func verifyAuditLog(t *testing.T, ctx context.Context, s directory.Store) []identity.AuditRecord {
	t.Helper()
	recs, err := s.AuditRecords(ctx, 0, 100000)
	if err != nil {
		t.Fatalf("AuditRecords: %v", err)
	}
	var v audit.Verifier
	for _, r := range recs {
		if err := v.Next(r); err != nil {
			t.Fatalf("audit chain does not verify: %v (record %+v)", err, r)
		}
	}
	if v.Count() != int64(len(recs)) {
		t.Fatalf("verifier counted %d of %d records", v.Count(), len(recs))
	}
	return recs
}

// writeSample makes a few writes of different kinds and returns the person it created.
func writeSample(t *testing.T, ctx context.Context, s directory.Store) (identity.OrgUnit, identity.Person) {
	t.Helper()
	unit := mustCreateOrgUnit(t, ctx, s, "Acme", identity.Organization, "")
	p := mustCreatePerson(t, ctx, s, newPerson("E001", func(p *identity.Person) { p.OrgUnitID = unit.ID }))
	if _, err := s.UpdatePerson(ctx, p.ID, func(q *identity.Person) error { q.JobTitle = "Engineer"; return nil }); err != nil {
		t.Fatalf("UpdatePerson: %v", err)
	}
	g := mustCreateGroup(t, ctx, s, identity.Group{Name: "devs", Source: "local"})
	if err := s.AddGroupMember(ctx, g.ID, p.ID); err != nil {
		t.Fatalf("AddGroupMember: %v", err)
	}
	mustPutApp(t, ctx, s, "github", "github")
	if _, err := s.CreateGrant(ctx, identity.Grant{PersonID: p.ID, App: "github", Source: identity.FromRule, Reason: "rule"}); err != nil {
		t.Fatalf("CreateGrant: %v", err)
	}
	mustPutAccount(t, ctx, s, identity.Account{App: "github", ExternalID: "1", PersonID: p.ID, Status: identity.AccountActive})
	if _, err := s.CreateEvent(ctx, newEvent("E001", baseTime)); err != nil {
		t.Fatalf("CreateEvent: %v", err)
	}
	return unit, p
}

func testAuditRecordsWrites(t *testing.T, s directory.Store) {
	ctx := audit.WithReason(audit.WithActor(testContext(t), "test:alice"), "ticket-1")
	start := time.Now().Add(-time.Minute)
	unit, p := writeSample(t, ctx, s)

	recs := verifyAuditLog(t, ctx, s)
	if len(recs) < 9 {
		t.Fatalf("after 9 writes the audit log has %d records, want at least 9", len(recs))
	}
	for i, r := range recs {
		if r.Seq != int64(i+1) {
			t.Errorf("record %d has Seq %d, want %d (consecutive from 1)", i, r.Seq, i+1)
		}
		if r.Actor != "test:alice" || r.Reason != "ticket-1" {
			t.Errorf("record %d (%s): Actor %q Reason %q, want %q %q", r.Seq, r.Action, r.Actor, r.Reason, "test:alice", "ticket-1")
		}
		if r.Action == "" || r.Target == "" || r.Hash == "" {
			t.Errorf("record %d: Action %q Target %q Hash %q; want all set", r.Seq, r.Action, r.Target, r.Hash)
		}
		if r.Time.Before(start) || r.Time.After(time.Now().Add(time.Minute)) {
			t.Errorf("record %d: Time %v is not around now", r.Seq, r.Time)
		}
		if len(r.After) > 0 && !json.Valid(r.After) || len(r.Before) > 0 && !json.Valid(r.Before) {
			t.Errorf("record %d: Before %q or After %q is not JSON", r.Seq, r.Before, r.After)
		}
		if i > 0 && r.Time.Before(recs[i-1].Time) {
			t.Errorf("record %d: Time %v is before record %d's %v", r.Seq, r.Time, recs[i-1].Seq, recs[i-1].Time)
		}
	}

	find := func(action, target string) *identity.AuditRecord {
		for i := range recs {
			if recs[i].Action == action && recs[i].Target == target {
				return &recs[i]
			}
		}
		var seen []string
		for _, r := range recs {
			seen = append(seen, r.Action+" "+r.Target)
		}
		t.Errorf("no audit record %q for %q; have %q", action, target, seen)
		return nil
	}
	if r := find("org_unit.create", "org_unit:"+unit.ID); r != nil {
		if len(r.Before) != 0 || len(r.After) == 0 {
			t.Errorf("org_unit.create record: Before %q After %q; want Before empty, After set", r.Before, r.After)
		}
	}
	create := find("person.create", "person:"+p.ID)
	if create != nil {
		if len(create.Before) != 0 || len(create.After) == 0 {
			t.Errorf("person.create record: Before %q After %q; want Before empty, After set", create.Before, create.After)
		}
	}
	update := find("person.update", "person:"+p.ID)
	if update != nil {
		if len(update.Before) == 0 || len(update.After) == 0 {
			t.Errorf("person.update record: Before %q After %q; want both set", update.Before, update.After)
		}
		if create != nil && update.Seq < create.Seq {
			t.Errorf("person.update (seq %d) comes before person.create (seq %d)", update.Seq, create.Seq)
		}
	}
}

func testAuditPaging(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	writeSample(t, ctx, s)
	all := verifyAuditLog(t, ctx, s)
	if len(all) < 5 {
		t.Fatalf("only %d audit records", len(all))
	}

	page, err := s.AuditRecords(ctx, 2, 2)
	if err != nil {
		t.Fatalf("AuditRecords(2, 2): %v", err)
	}
	if len(page) != 2 || page[0].Seq != 3 || page[1].Seq != 4 {
		t.Errorf("AuditRecords(after 2, limit 2) = seqs %v, want [3 4]", seqs(page))
	}

	var paged []identity.AuditRecord
	after := int64(0)
	for range len(all) + 2 {
		page, err := s.AuditRecords(ctx, after, 3)
		if err != nil {
			t.Fatalf("AuditRecords(%d, 3): %v", after, err)
		}
		if len(page) > 3 {
			t.Fatalf("AuditRecords(%d, 3) returned %d records", after, len(page))
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		after = page[len(page)-1].Seq
	}
	if len(paged) != len(all) {
		t.Fatalf("paging by 3 returned %d records (seqs %v), want %d", len(paged), seqs(paged), len(all))
	}
	for i := range all {
		if paged[i].Seq != all[i].Seq || paged[i].Hash != all[i].Hash {
			t.Errorf("paged record %d = seq %d hash %s, want seq %d hash %s", i, paged[i].Seq, paged[i].Hash, all[i].Seq, all[i].Hash)
		}
	}

	last := all[len(all)-1].Seq
	if rest, err := s.AuditRecords(ctx, last, 10); err != nil || len(rest) != 0 {
		t.Errorf("AuditRecords(after last) = seqs %v, %v; want none", seqs(rest), err)
	}
	if one, err := s.AuditRecords(ctx, last-1, 10); err != nil || len(one) != 1 || one[0].Seq != last {
		t.Errorf("AuditRecords(after last-1) = seqs %v, %v; want [%d]", seqs(one), err, last)
	}
}

func seqs(recs []identity.AuditRecord) []int64 {
	out := make([]int64, len(recs))
	for i, r := range recs {
		out[i] = r.Seq
	}
	return out
}

func testAuditFailedWrite(t *testing.T, s directory.Store) {
	ctx := audit.WithActor(testContext(t), "test:alice")
	a := mustCreatePerson(t, ctx, s, newPerson("E001", func(p *identity.Person) { p.Username = "alice" }))
	mustCreatePerson(t, ctx, s, newPerson("E002", func(p *identity.Person) { p.Username = "bob" }))
	before := verifyAuditLog(t, ctx, s)

	_, err := s.CreatePerson(ctx, newPerson("E003", func(p *identity.Person) { p.Username = "alice" }))
	wantConflict(t, err, "CreatePerson(duplicate username)", "username")
	_, err = s.UpdatePerson(ctx, a.ID, func(p *identity.Person) error { p.Username = "bob"; return nil })
	wantConflict(t, err, "UpdatePerson(duplicate username)", "username")
	_, err = s.UpdatePerson(ctx, a.ID, func(p *identity.Person) error { p.JobTitle = "x"; return errSentinel })
	wantErrIs(t, err, errSentinel, "UpdatePerson with failing fn")
	_, err = s.CreatePerson(ctx, newPerson("E004", func(p *identity.Person) { p.ManagerID = "no-such-person" }))
	wantErrIs(t, err, identity.ErrInvalid, "CreatePerson(unknown manager)")

	after := verifyAuditLog(t, ctx, s)
	if len(after) != len(before) {
		t.Errorf("failed writes added %d audit records: %v", len(after)-len(before), after[len(before):])
	}
	// The chain continues normally after the failures.
	mustCreatePerson(t, ctx, s, newPerson("E005"))
	if got := verifyAuditLog(t, ctx, s); len(got) != len(before)+1 {
		t.Errorf("after one more write: %d records, want %d", len(got), len(before)+1)
	}
}

func testAuditAppend(t *testing.T, s directory.Store) {
	ctx := audit.WithActor(testContext(t), "test:alice")
	writeSample(t, ctx, s)
	before := verifyAuditLog(t, ctx, s)
	last := before[len(before)-1]

	in := identity.AuditRecord{
		Time:   time.Now(),
		Actor:  "hr:webhook",
		Action: "event.reject",
		Target: "event:ext-42",
		After:  json.RawMessage(`{ "error": "illegal transition",  "state": "rejected" }`),
		Reason: "terminated person cannot go on leave",
	}
	got, err := s.AppendAudit(ctx, in)
	if err != nil {
		t.Fatalf("AppendAudit: %v", err)
	}
	if got.Seq != last.Seq+1 || got.PrevHash != last.Hash || got.Hash == "" || got.Hash != audit.Hash(got) {
		t.Errorf("AppendAudit = seq %d prev %q hash %q; want seq %d prev %q and a hash of the record", got.Seq, got.PrevHash, got.Hash, last.Seq+1, last.Hash)
	}
	after := verifyAuditLog(t, ctx, s)
	if len(after) != len(before)+1 {
		t.Fatalf("after AppendAudit: %d records, want %d", len(after), len(before)+1)
	}
	stored := after[len(after)-1]
	if stored.Seq != got.Seq || stored.Hash != got.Hash || stored.Action != in.Action || stored.Target != in.Target ||
		stored.Reason != in.Reason || stored.Actor != in.Actor || !sameJSON(t, stored.After, in.After) || len(stored.Before) != 0 {
		t.Errorf("stored appended record = %+v, want the fields of %+v (returned %+v)", stored, in, got)
	}

	// A write after the custom record links to it.
	mustCreatePerson(t, ctx, s, newPerson("E999"))
	final := verifyAuditLog(t, ctx, s)
	if len(final) != len(after)+1 || final[len(final)-1].PrevHash != got.Hash {
		t.Errorf("the write after AppendAudit does not link to the appended record")
	}
}

func testAuditSystemActor(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	p := mustCreatePerson(t, ctx, s, newPerson("E001"))
	if _, err := s.UpdatePerson(ctx, p.ID, func(q *identity.Person) error { q.JobTitle = "x"; return nil }); err != nil {
		t.Fatalf("UpdatePerson: %v", err)
	}
	recs := verifyAuditLog(t, ctx, s)
	if len(recs) != 2 {
		t.Fatalf("after two writes: %d audit records, want 2", len(recs))
	}
	for _, r := range recs {
		if r.Actor != audit.SystemActor || r.Reason != "" {
			t.Errorf("record %d (%s) without actor in ctx: Actor %q Reason %q, want %q and no reason", r.Seq, r.Action, r.Actor, r.Reason, audit.SystemActor)
		}
	}
	if recs[0].Seq != 1 || recs[0].PrevHash != "" {
		t.Errorf("first record: Seq %d PrevHash %q, want 1 and empty", recs[0].Seq, recs[0].PrevHash)
	}

	// AppendAudit extends a log written by the system actor.
	got, err := s.AppendAudit(audit.WithActor(ctx, "test:carol"), identity.AuditRecord{Time: time.Now(), Actor: "test:carol", Action: "person.note", Target: "person:" + p.ID})
	if err != nil {
		t.Fatalf("AppendAudit: %v", err)
	}
	if got.Seq != 3 {
		t.Errorf("AppendAudit: Seq %d, want 3", got.Seq)
	}
	verifyAuditLog(t, ctx, s)
}
