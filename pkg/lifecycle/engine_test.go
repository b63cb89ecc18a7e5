package lifecycle

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/hr"
	"github.com/tenure-id/tenure/pkg/identity"
)

func importDay1(t *testing.T, e *Engine) ImportReport {
	t.Helper()
	rep, err := e.ImportRoster(ctxAs("cli:hr-admin"), loadRoster(t, "piedpiper.csv"), ImportOptions{Source: "roster:piedpiper.csv"})
	if err != nil {
		t.Fatalf("import day 1: %v", err)
	}
	return rep
}

func TestPiedPiperDayOneAndDayTwo(t *testing.T) {
	backends(t, func(t *testing.T, s directory.Store, c *clock) {
		ctx := context.Background()
		e := newEngine(s, c)
		rep := importDay1(t, e)
		if rep.Rejected != 0 || rep.Held != nil || rep.Applied != 43 || rep.Scheduled != 5 {
			t.Fatalf("day 1: applied %d scheduled %d rejected %d held %v", rep.Applied, rep.Scheduled, rep.Rejected, rep.Held)
		}
		checks := []struct{ emp, username, email string }{
			{"PP006", "jose.nunez", "jose.nunez@piedpiper.test"},
			{"PP004", "dinesh.chugtai", "dinesh.chugtai@piedpiper.test"},
			{"PP009", "dinesh.chugtai2", "dinesh.chugtai2@piedpiper.test"}, // same name, next free
			{"PP007", "bighead.bighetti", "bighead.bighetti@piedpiper.test"},
			{"PP012", "zoe.bronte", "zoe.bronte@piedpiper.test"},
		}
		for _, ck := range checks {
			if p := person(t, s, ck.emp); p.Username != ck.username || p.WorkEmail != ck.email {
				t.Errorf("%s: username %q email %q, want %q %q", ck.emp, p.Username, p.WorkEmail, ck.username, ck.email)
			}
		}
		// Erlich's contract ended before day 1 and Jack left before it: both are recorded as
		// terminated, keeping their identity for a rehire.
		statuses := map[string]identity.Status{"PP001": identity.Active, "PP013": identity.OnLeave, "PP015": identity.Terminated,
			"PP040": identity.Terminated}
		for emp, want := range statuses {
			if got := person(t, s, emp).Status; got != want {
				t.Errorf("%s status %s, want %s", emp, got, want)
			}
		}
		if end := person(t, s, "PP040").EndDate; end == nil || end.Format(time.DateOnly) != "2025-10-31" {
			t.Errorf("PP040 end date %v, want the termination date", end)
		}
		// The org tree comes from the roster; the reporting line too.
		carla := person(t, s, "PP005")
		ancestors, err := s.OrgAncestors(ctx, carla.OrgUnitID)
		if err != nil || len(ancestors) != 3 || ancestors[0].Name != "Pied Piper" || ancestors[2].Name != "Platform" {
			t.Fatalf("ancestors of Carla's team: %v %v", unitNames(ancestors), err)
		}
		if chain, _ := s.ManagerChain(ctx, carla.ID); len(chain) != 3 || chain[2].EmployeeID != "PP001" {
			t.Fatalf("Carla's manager chain: %v", chain)
		}
		// Contract ends ahead are scheduled at 17:00 on the end date.
		pending := events(t, s, directory.EventFilter{States: []identity.EventState{identity.EventPending}})
		if len(pending) != 5 {
			t.Fatalf("pending after day 1: %d %v", len(pending), pending)
		}
		if pending[0].EmployeeID != "PP023" || pending[0].Type != identity.ContractEnd ||
			!pending[0].EffectiveAt.Equal(time.Date(2026, 12, 18, 17, 0, 0, 0, time.UTC)) {
			t.Fatalf("first pending: %+v", pending[0])
		}
		// Every change carries the actor and the event as its reason.
		acts := auditActions(t, s)
		if n := len(acts["person.create"]); n != 40 {
			t.Fatalf("person.create audit records: %d", n)
		}
		if r := acts["person.create"][0]; r.Actor != "cli:hr-admin" || !strings.HasPrefix(r.Reason, "hr hire PP001 (roster:piedpiper.csv)") {
			t.Fatalf("audit record actor %q reason %q", r.Actor, r.Reason)
		}

		erlich := person(t, s, "PP015")
		c.Set(day1.Add(24 * time.Hour))
		rep2, err := e.ImportRoster(ctxAs("cli:hr-admin"), loadRoster(t, "piedpiper-day2.csv"), ImportOptions{Source: "roster:piedpiper-day2.csv"})
		if err != nil {
			t.Fatalf("import day 2: %v", err)
		}
		var got []string
		for _, o := range rep2.Outcomes {
			if !o.Duplicate {
				got = append(got, string(o.Event.Type)+":"+o.Event.EmployeeID+":"+string(o.Event.State))
			}
		}
		want := "rehire:PP015:applied hire:PP041:applied return:PP013:applied transfer:PP005:applied " +
			"manager_change:PP030:applied attribute_change:PP018:applied " +
			"contract_end:PP015:pending terminate:PP008:pending hire:PP042:pending"
		if strings.Join(got, " ") != want {
			t.Fatalf("day 2 events:\n%s\nwant:\n%s", strings.Join(got, " "), want)
		}
		back := person(t, s, "PP015")
		if back.ID != erlich.ID || back.Username != erlich.Username || back.Status != identity.Active || back.EndDate.Format(time.DateOnly) != "2027-06-30" {
			t.Fatalf("rehire: %+v (was %+v)", back, erlich)
		}
		if p := person(t, s, "PP005"); p.JobTitle != "Staff Engineer" {
			t.Fatalf("transfer: %+v", p)
		} else if u, _ := s.GetOrgUnit(ctx, p.OrgUnitID); u.Name != "Compression" {
			t.Fatalf("transfer: unit %q", u.Name)
		}
		if p, m := person(t, s, "PP030"), person(t, s, "PP029"); p.ManagerID != m.ID {
			t.Fatal("manager change not applied")
		}
		if person(t, s, "PP018").LegalLastName != "Kessler-Hall" || person(t, s, "PP013").Status != identity.Active {
			t.Fatal("attribute change or return not applied")
		}
		if p := person(t, s, "PP041"); p.Username != "jack.hendricks" {
			t.Fatalf("new joiner: %+v", p)
		}
		// Importing the same roster again changes nothing.
		rep3, err := e.ImportRoster(ctxAs("cli:hr-admin"), loadRoster(t, "piedpiper-day2.csv"), ImportOptions{Source: "roster:piedpiper-day2.csv"})
		// Only the still-pending events are derived again, and each is recognised by its key.
		if err != nil || rep3.Applied != 0 || rep3.Scheduled != 0 || rep3.Duplicates != 8 || rep3.Superseded != 0 {
			t.Fatalf("re-import: applied %d scheduled %d duplicates %d superseded %d, %v", rep3.Applied, rep3.Scheduled, rep3.Duplicates, rep3.Superseded, err)
		}
	})
}

func TestBreakerHoldsMassTermination(t *testing.T) {
	backends(t, func(t *testing.T, s directory.Store, c *clock) {
		e := newEngine(s, c)
		importDay1(t, e)
		before := auditActions(t, s)
		full := loadRoster(t, "piedpiper.csv")
		cut := full
		cut.Records = full.Records[:30] // a truncated export: 9 current people missing
		opt := ImportOptions{Source: "roster:truncated.csv", MissingTerminates: true}
		rep, err := e.ImportRoster(ctxAs("cli:hr-admin"), cut, opt)
		var he *HeldError
		if !errors.As(err, &he) || he.ByType[identity.Terminate] != 9 || he.Changes != 9 || rep.Applied != 0 || rep.Held == nil {
			t.Fatalf("held? err %v report %+v", err, rep.Report)
		}
		after := auditActions(t, s)
		if len(after["person.update"]) != len(before["person.update"]) || len(after["event.create"]) != len(before["event.create"]) {
			t.Fatal("a held batch changed something")
		}
		if h := after["hr.batch.held"]; len(h) != 1 || h[0].Actor != "cli:hr-admin" || !strings.Contains(h[0].Reason, "9 terminate") {
			t.Fatalf("hold not audited: %+v", h)
		}
		if n, _ := s.CountPeople(context.Background(), directory.PersonFilter{Statuses: []identity.Status{identity.Terminated}}); n != 2 {
			t.Fatalf("terminated people after the hold: %d", n)
		}
		opt.AllowMassChange = true
		rep, err = e.ImportRoster(ctxAs("cli:hr-admin"), cut, opt)
		if err != nil || rep.Applied != 9 {
			t.Fatalf("released: %+v %v", rep.Report, err)
		}
		if r := auditActions(t, s)["hr.batch.mass_change_allowed"]; len(r) != 1 || r[0].Actor != "cli:hr-admin" {
			t.Fatalf("release not audited: %+v", r)
		}
	})
}

func TestIllegalTransitionsAreRejectedAndRecorded(t *testing.T) {
	backends(t, func(t *testing.T, s directory.Store, c *clock) {
		e := newEngine(s, c)
		importDay1(t, e)
		e.opt.Breaker = Breaker{MinChanges: 100} // this batch is about transitions, not volume
		now := c.Now()
		d := hr.Data{FirstName: "X", LastName: "Y"}
		batch := []identity.Event{
			hrEvent(identity.Leave, "PP015", now, d),       // terminated
			hrEvent(identity.Return, "PP001", now, d),      // active, not on leave
			hrEvent(identity.ContractEnd, "PP002", now, d), // an employee
			hrEvent(identity.Hire, "PP003", now, d),        // already hired
			hrEvent(identity.Rehire, "PP999", now, d),      // unknown
			hrEvent(identity.ManagerChange, "PP011", now, hr.Data{ManagerID: "PP404"}),
			hrEvent(identity.AttributeChange, "PP012", now, hr.Data{FirstName: "Zoë", LastName: "Brontë", WorkEmail: "jose.nunez@piedpiper.test"}),
			hrEvent(identity.Leave, "PP011", now, d), // legal: applied beside the rejections
		}
		rep, err := e.Submit(ctxAs("hr:webhook"), batch, SubmitOptions{})
		if err != nil || rep.Rejected != 7 || rep.Applied != 1 {
			t.Fatalf("report %+v, %v", rep, err)
		}
		rejected := events(t, s, directory.EventFilter{States: []identity.EventState{identity.EventRejected}})
		recs := auditActions(t, s)["hr.event.rejected"]
		if len(rejected) != 7 || len(recs) != 7 {
			t.Fatalf("recorded %d rejected events, %d audit records", len(rejected), len(recs))
		}
		for _, r := range recs {
			if r.Actor != "hr:webhook" || r.Reason == "" {
				t.Fatalf("audit record %+v", r)
			}
		}
		var msgs []string
		for _, ev := range rejected {
			msgs = append(msgs, ev.Error)
		}
		all := strings.Join(msgs, "\n")
		for _, want := range []string{"leave for employee PP015 (terminated): only an active person can go on leave",
			"contract_end applies to contractors", "use hire", "unknown manager PP404",
			"work email jose.nunez@piedpiper.test belongs to someone else"} {
			if !strings.Contains(all, want) {
				t.Errorf("no rejection says %q:\n%s", want, all)
			}
		}
		if person(t, s, "PP015").Status != identity.Terminated || person(t, s, "PP011").Status != identity.OnLeave {
			t.Fatal("states after the batch are wrong")
		}
	})
}

func TestDryRunChangesNothing(t *testing.T) {
	backends(t, func(t *testing.T, s directory.Store, c *clock) {
		e := newEngine(s, c)
		rep, err := e.ImportRoster(context.Background(), loadRoster(t, "piedpiper.csv"), ImportOptions{SubmitOptions: SubmitOptions{DryRun: true}})
		if err != nil || rep.Applied != 43 || rep.Scheduled != 5 || len(rep.Changes) != 48 {
			t.Fatalf("dry run: applied %d scheduled %d changes %d, %v", rep.Applied, rep.Scheduled, len(rep.Changes), err)
		}
		if recs, _ := s.AuditRecords(context.Background(), 0, 10); len(recs) != 0 {
			t.Fatalf("dry run wrote %d audit records", len(recs))
		}
	})
}

func TestConcurrentEventsForOnePersonAreSerialized(t *testing.T) {
	backends(t, func(t *testing.T, s directory.Store, c *clock) {
		e := newEngine(s, c)
		importDay1(t, e)
		before := person(t, s, "PP020")
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				d := hr.Data{FirstName: "Yolanda", LastName: "Nguyen", Location: []string{"Austin", "Boston"}[i%2], EmploymentType: identity.Employee}
				_, err := e.Submit(context.Background(), []identity.Event{hrEvent(identity.AttributeChange, "PP020", c.Now(), d)}, SubmitOptions{})
				errs <- err
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if after := person(t, s, "PP020"); after.Version != before.Version+8 {
			t.Fatalf("version %d after 8 updates from %d: an update was lost", after.Version, before.Version)
		}
	})
}

func unitNames(us []identity.OrgUnit) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.Name)
	}
	return out
}
