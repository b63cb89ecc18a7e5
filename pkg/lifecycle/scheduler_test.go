package lifecycle

import (
	"context"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/hr"
	"github.com/tenure-id/tenure/pkg/identity"
)

// fakeTimers hands out timers the test fires by hand, and reports each one armed.
type fakeTimers struct{ armed chan fakeTimer }

type fakeTimer struct {
	d time.Duration
	c chan time.Time
}

func (f fakeTimer) C() <-chan time.Time { return f.c }
func (f fakeTimer) Stop() bool          { return true }

func (f *fakeTimers) new(d time.Duration) Timer {
	t := fakeTimer{d: d, c: make(chan time.Time, 1)}
	f.armed <- t
	return t
}

func TestSchedulerAppliesEventsAtTheirMoment(t *testing.T) {
	backends(t, func(t *testing.T, s directory.Store, c *clock) {
		e := newEngine(s, c)
		e.opt.PreHireDays = 7
		importDay1(t, e)
		ctx := ctxAs("cli:hr-admin")
		start := time.Date(2026, 12, 14, 0, 0, 0, 0, time.UTC)
		at17 := e.LeaveAt(c.Now())
		rep, err := e.Submit(ctx, []identity.Event{
			hrEvent(identity.Terminate, "PP011", at17, hr.Data{}),
			hrEvent(identity.Hire, "PP100", start.AddDate(0, 0, -7), hr.Data{FirstName: "Ada", LastName: "Lovelace",
				EmploymentType: identity.Employee, Organization: "Pied Piper", ManagerID: "PP001", StartDate: &start}),
		}, SubmitOptions{})
		if err != nil || rep.Scheduled != 2 {
			t.Fatalf("submit: scheduled %d, %v", rep.Scheduled, err)
		}
		timers := &fakeTimers{armed: make(chan fakeTimer, 4)}
		sch := NewScheduler(e, timers.new, "@every 1h", nil)
		passes := make(chan int, 8)
		sch.OnRunDue = func(n int, err error) {
			if err != nil {
				t.Errorf("pass: %v", err)
			}
			passes <- n
		}
		runCtx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- sch.Run(runCtx) }()
		defer func() { cancel(); <-done }()

		step := func(wantWait time.Duration, to time.Time, wantApplied int) {
			t.Helper()
			tm := <-timers.armed
			if tm.d != wantWait {
				t.Fatalf("timer armed for %s, want %s", tm.d, wantWait)
			}
			c.Set(to)
			tm.c <- to
			if n := <-passes; n != wantApplied {
				t.Fatalf("pass at %s applied %d, want %d", to, n, wantApplied)
			}
		}
		if n := <-passes; n != 0 {
			t.Fatalf("first pass applied %d", n)
		}
		if person(t, s, "PP011").Status != identity.Active {
			t.Fatal("termination applied before 17:00")
		}
		step(8*time.Hour, at17, 1) // 09:00 → 17:00, to the second
		if p := person(t, s, "PP011"); p.Status != identity.Terminated || p.EndDate.Format(time.DateOnly) != "2026-11-28" {
			t.Fatalf("after 17:00: %s %v", p.Status, p.EndDate)
		}
		preHire := start.AddDate(0, 0, -7)
		step(preHire.Sub(at17), preHire, 1)
		if p := person(t, s, "PP100"); p.Status != identity.PreHire || p.Username != "ada.lovelace" {
			t.Fatalf("seven days before the start: %+v", p)
		}
		step(7*24*time.Hour, start, 1)
		if p := person(t, s, "PP100"); p.Status != identity.Active {
			t.Fatalf("on the start date: %s", p.Status)
		}
		applied := events(t, s, directory.EventFilter{EmployeeID: "PP011", States: []identity.EventState{identity.EventApplied}})
		last := applied[len(applied)-1]
		if last.Type != identity.Terminate || last.AppliedAt == nil || !last.AppliedAt.Equal(at17) {
			t.Fatalf("termination event: %+v", last)
		}
		// Nothing is left, so the scheduler waits without a timer until woken.
		sch.Wake()
		if n := <-passes; n != 0 {
			t.Fatalf("idle pass applied %d", n)
		}
	})
}

func TestRosterSupersedesMovedDates(t *testing.T) {
	backends(t, func(t *testing.T, s directory.Store, c *clock) {
		e := newEngine(s, c)
		importDay1(t, e)
		r := loadRoster(t, "piedpiper.csv")
		for i := range r.Records {
			if r.Records[i].EmployeeID == "PP016" { // Gwart's contract is extended
				ext := time.Date(2027, 8, 31, 0, 0, 0, 0, time.UTC)
				r.Records[i].EndDate = &ext
			}
		}
		rep, err := e.ImportRoster(ctxAs("cli:hr-admin"), r, ImportOptions{Source: "roster:extended.csv"})
		if err != nil || rep.Superseded != 1 {
			t.Fatalf("superseded %d, %v", rep.Superseded, err)
		}
		var pending []string
		for _, ev := range events(t, s, directory.EventFilter{EmployeeID: "PP016"}) {
			if ev.Type == identity.ContractEnd {
				pending = append(pending, string(ev.State)+"@"+ev.EffectiveAt.Format(time.DateOnly))
			}
		}
		if len(pending) != 2 || pending[0] != "rejected@2027-02-28" || pending[1] != "pending@2027-08-31" {
			t.Fatalf("contract end events: %v", pending)
		}
	})
}

func TestUsernamesAreNotReusedWithinThePeriod(t *testing.T) {
	backends(t, func(t *testing.T, s directory.Store, c *clock) {
		e := newEngine(s, c)
		importDay1(t, e)
		if n, err := e.ReleaseUsernames(context.Background(), 0); n != 0 || err != nil {
			t.Fatalf("period 0 released %d, %v", n, err)
		}
		// Erlich left on 2025-06-30, Jack on 2025-10-31; 400 days before day 1 is 2025-10-24.
		n, err := e.ReleaseUsernames(ctxAs("system:scheduler"), 400*24*time.Hour)
		if err != nil || n != 1 {
			t.Fatalf("released %d, %v", n, err)
		}
		if p := person(t, s, "PP015"); p.Username != "" || p.Attributes["released_username"] != "erlich.bachman" {
			t.Fatalf("Erlich after release: %+v", p)
		}
		d := func(first, last string) hr.Data {
			return hr.Data{FirstName: first, LastName: last, EmploymentType: identity.Employee, Organization: "Pied Piper"}
		}
		rep, err := e.Submit(ctxAs("cli:hr-admin"), []identity.Event{
			hrEvent(identity.Hire, "PP200", c.Now(), d("Erlich", "Bachman")),
			hrEvent(identity.Hire, "PP201", c.Now(), d("Jack", "Barker")),
			hrEvent(identity.Rehire, "PP015", c.Now(), d("Erlich", "Bachman")),
		}, SubmitOptions{})
		if err != nil || rep.Applied != 3 {
			t.Fatalf("hires: %+v %v", rep, err)
		}
		for emp, want := range map[string]string{"PP200": "erlich.bachman", "PP201": "jack.barker2", "PP015": "erlich.bachman2", "PP040": "jack.barker"} {
			if got := person(t, s, emp).Username; got != want {
				t.Errorf("%s username %q, want %q", emp, got, want)
			}
		}
	})
}

func TestSingleEventsKeepScheduledDatesCurrent(t *testing.T) {
	backends(t, func(t *testing.T, s directory.Store, c *clock) {
		e := newEngine(s, c)
		ctx := ctxAs("hr:webhook")
		day := func(s string) *time.Time { d, _ := hr.ParseDate(s); return &d }
		pending := func(emp string) []string {
			var out []string
			for _, ev := range events(t, s, directory.EventFilter{EmployeeID: emp, States: []identity.EventState{identity.EventPending}}) {
				out = append(out, string(ev.Type)+"@"+ev.EffectiveAt.Format(time.RFC3339))
			}
			return out
		}
		submit := func(evs ...identity.Event) {
			t.Helper()
			if rep, err := e.Submit(ctx, evs, SubmitOptions{}); err != nil || rep.Rejected > 0 {
				t.Fatalf("submit: %+v %v", rep, err)
			}
		}
		now := c.Now()
		joiner := hr.Data{FirstName: "Ada", LastName: "L", EmploymentType: identity.Employee, StartDate: day("2026-12-14")}
		contractor := hr.Data{FirstName: "Gwart", LastName: "G", EmploymentType: identity.Contractor, EndDate: day("2027-02-28")}
		submit(hrEvent(identity.Hire, "J1", now, joiner), hrEvent(identity.Hire, "C1", now, contractor))
		if got := pending("J1"); len(got) != 1 || got[0] != "hire@2026-12-14T00:00:00Z" {
			t.Fatalf("activation: %v", got)
		}
		if got := pending("C1"); len(got) != 1 || got[0] != "contract_end@2027-02-28T17:00:00Z" {
			t.Fatalf("contract end: %v", got)
		}
		// HR moves the start date and extends the contract: one pending event each, at the new dates.
		joiner.StartDate, contractor.EndDate = day("2027-01-04"), day("2027-08-31")
		submit(hrEvent(identity.AttributeChange, "J1", now, joiner), hrEvent(identity.AttributeChange, "C1", now, contractor))
		if got := pending("J1"); len(got) != 1 || got[0] != "hire@2027-01-04T00:00:00Z" || person(t, s, "J1").Status != identity.PreHire {
			t.Fatalf("moved activation: %v", got)
		}
		if got := pending("C1"); len(got) != 1 || got[0] != "contract_end@2027-08-31T17:00:00Z" {
			t.Fatalf("extended contract: %v", got)
		}
		// A start date moved into the past activates at once.
		joiner.StartDate = day("2026-11-01")
		submit(hrEvent(identity.AttributeChange, "J1", now, joiner))
		if got := pending("J1"); len(got) != 0 || person(t, s, "J1").Status != identity.Active {
			t.Fatalf("start moved to the past: %v %s", got, person(t, s, "J1").Status)
		}
	})
}
