package provision_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/provision"
)

func TestExecutorAppliesInOrderAndRecords(t *testing.T) {
	s := openOutboxStore(t)
	ctx := context.Background()
	slack, github := newProbe(probeTraits), newProbe(probeTraits)
	create := createSteps("slack", "ada", 1)[0]
	member := provision.Step{Op: connector.Op{Kind: connector.OpAddMember, App: "slack", PersonID: create.PersonID,
		Account: create.Account, Entitlement: "group:eng", Reason: "rule eng"}}
	plan := planOf([]provision.Step{create, member}, createSteps("github", "gh", 3))
	ops := mustEnqueuePlan(t, s, plan)
	if again := mustEnqueuePlan(t, s, plan); !slices.Equal(idsOf(again), idsOf(ops)) {
		t.Fatalf("re-enqueuing the same plan gave ops %v; want the queued %v", idsOf(again), idsOf(ops))
	}
	x := provision.NewExecutor(s, map[string]connector.Connector{"slack": slack, "github": github}, provision.ExecutorConfig{})
	runUntilSettled(t, s, x, idsOf(ops), 30*time.Second)

	if got := statesOf(t, s, idsOf(ops)); got[directory.OpDone] != 5 {
		t.Fatalf("op states = %v; want 5 done", got)
	}
	snap := slack.Snapshot()
	if len(snap) != 1 || !slices.Equal(snap[0].Memberships, []string{"group:eng"}) {
		t.Fatalf("slack holds %+v; want ada in group:eng (the membership found the account the create made)", snap)
	}
	recs, err := s.ListAccounts(ctx, directory.AccountFilter{App: "slack", PersonID: create.PersonID})
	if err != nil || len(recs) != 1 {
		t.Fatalf("account records = %+v, %v; want one", recs, err)
	}
	if recs[0].ExternalID != snap[0].ID || recs[0].Status != identity.AccountActive || !slices.Equal(recs[0].Memberships, []string{"group:eng"}) {
		t.Errorf("account record = %+v; want the app's ID %s, active, in group:eng", recs[0], snap[0].ID)
	}
	if n := len(github.Snapshot()); n != 3 {
		t.Errorf("github holds %d accounts; want 3", n)
	}
	audits, _ := s.AuditRecords(ctx, 0, 1000)
	applied := 0
	for _, r := range audits {
		if strings.HasPrefix(r.Action, "provision.") {
			applied++
			if r.Actor != "provisioner" || !strings.HasSuffix(r.Action, ".done") {
				t.Errorf("audit %s by %s; want done ops by provisioner", r.Action, r.Actor)
			}
		}
	}
	if applied != 5 {
		t.Errorf("%d provision audit records; want one per op (5)", applied)
	}
}

func TestExecutorFailures(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		want     directory.OpState
		attempts int
	}{
		{"invalid is not retried", &connector.Error{Kind: connector.ErrInvalid, Status: 400, Detail: "bad email"}, directory.OpFailed, 1},
		{"conflict is not retried", &connector.Error{Kind: connector.ErrConflict, Status: 409}, directory.OpFailed, 1},
		{"unauthorized is not retried", &connector.Error{Kind: connector.ErrUnauthorized, Status: 401}, directory.OpFailed, 1},
		{"unavailable dies after max attempts", &connector.Error{Kind: connector.ErrUnavailable, Status: 503}, directory.OpDead, 3},
		{"network errors are retried", errors.New("dial tcp 127.0.0.1:1: connection refused"), directory.OpDead, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openOutboxStore(t)
			app := newProbe(probeTraits)
			app.setRefuse(tc.err)
			ops := mustEnqueuePlan(t, s, planOf(createSteps("slack", "ada", 1)))
			x := provision.NewExecutor(s, map[string]connector.Connector{"slack": app}, provision.ExecutorConfig{
				MaxAttempts: 3, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Poll: 10 * time.Millisecond})
			runUntilSettled(t, s, x, idsOf(ops), 30*time.Second)
			op, err := s.GetOp(context.Background(), ops[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			if op.State != tc.want || op.Attempts != tc.attempts || len(app.seen()) != tc.attempts {
				t.Errorf("op = %s after %d attempts (%d calls); want %s after %d", op.State, op.Attempts, len(app.seen()), tc.want, tc.attempts)
			}
			if !strings.Contains(op.LastError, tc.err.Error()) {
				t.Errorf("last error %q does not carry the app's answer %q", op.LastError, tc.err)
			}
		})
	}
}

// A 429 storm on one app pauses that app's whole bucket for the Retry-After it gave, while
// another app's ops go through meanwhile.
func TestExecutorRateLimitPausesOnlyThatApp(t *testing.T) {
	s := openOutboxStore(t)
	const retryAfter, nLimited = 1500 * time.Millisecond, 16
	limited, fast := newProbe(probeTraits), newProbe(probeTraits)
	limited.FailNext(&connector.Error{Kind: connector.ErrRateLimited, Status: 429, RetryAfter: retryAfter}, 1)
	// The other app's work takes a while (ten rounds of 25 ms), so it is still going when the
	// 429 comes back.
	fast.SetLatency(25 * time.Millisecond)
	ops := mustEnqueuePlan(t, s, planOf(createSteps("limited", "lim", nLimited), createSteps("fast", "fast", 40)))
	// A lease shorter than twice the pause makes the limited app hand its queued ops back
	// (due when the pause ends) rather than hold them past their lease.
	x := provision.NewExecutor(s, map[string]connector.Connector{"limited": limited, "fast": fast}, provision.ExecutorConfig{
		BaseBackoff: 10 * time.Millisecond, Poll: 20 * time.Millisecond, Lease: 2 * time.Second})
	runUntilSettled(t, s, x, idsOf(ops), time.Minute)

	if got := statesOf(t, s, idsOf(ops)); got[directory.OpDone] != nLimited+40 {
		t.Fatalf("op states = %v; want all %d done", got, nLimited+40)
	}
	for _, o := range mustListOps(t, s, idsOf(ops[:nLimited])) {
		if o.Attempts > 2 {
			t.Errorf("limited op %d took %d attempts; want at most 2 (handing back is no attempt)", o.ID, o.Attempts)
		}
	}
	if apps, err := s.OutboxApps(context.Background()); err != nil || len(apps) != 0 {
		t.Errorf("OutboxApps = %+v, %v; want the streak reset by the successes after the 429", apps, err)
	}
	limitedAt := rateLimitedAt(t, limited)
	// The app's other workers may each have sent one request before the executor could see
	// the 429 (requests in flight together); after that, nothing until the pause ends. Were
	// the pause ignored, all the app's remaining ops would go out in it.
	if early := callsWithin(limited, limitedAt, retryAfter-50*time.Millisecond); len(early) > probeTraits.Concurrency-1 {
		t.Errorf("limited app called %d times during its pause (%v after the 429); want at most the %d requests already on their way",
			len(early), early, probeTraits.Concurrency-1)
	}
	// The other app kept going meanwhile: of its calls after the 429, some started within the
	// pause. (Judged by order, not by how long its work took, which a loaded machine stretches.)
	var fastAfter, fastInPause int
	for _, c := range fast.seen() {
		if c.start.After(limitedAt) {
			fastAfter++
			if c.start.Before(limitedAt.Add(retryAfter)) {
				fastInPause++
			}
		}
	}
	switch {
	case fastAfter == 0:
		t.Errorf("the fast app finished before the other app's 429: the test shows nothing about the pause")
	case fastInPause == 0:
		t.Errorf("the fast app's %d calls after the other app's 429 all waited out that app's pause (%s)", fastAfter, retryAfter)
	}
}

// An op that passed the app's gate and then waited for one of the executor's Workers slots
// must not be sent when the slot comes free if the app said "rate limited" meanwhile.
func TestExecutorOpWaitingForASlotHonoursAPauseBegunMeanwhile(t *testing.T) {
	s := openOutboxStore(t)
	const retryAfter = time.Second
	limited := newProbe(probeTraits)
	limited.FailNext(&connector.Error{Kind: connector.ErrRateLimited, Status: 429, RetryAfter: retryAfter}, 1)
	release := make(chan struct{})
	limited.hold = func(n int) {
		if n == 1 {
			<-release
		}
	}
	ops := mustEnqueuePlan(t, s, planOf(createSteps("limited", "lim", 2)))
	// One slot: the first op holds it while its request is in flight; the second passes the
	// app's gate and waits for the slot.
	x := provision.NewExecutor(s, map[string]connector.Connector{"limited": limited}, provision.ExecutorConfig{
		Workers: 1, BaseBackoff: 10 * time.Millisecond, Poll: 20 * time.Millisecond, Lease: 5 * time.Second})
	go func() {
		time.Sleep(200 * time.Millisecond) // lets the second op reach the slot wait
		close(release)
	}()
	runUntilSettled(t, s, x, idsOf(ops), time.Minute)

	if got := statesOf(t, s, idsOf(ops)); got[directory.OpDone] != 2 {
		t.Fatalf("op states = %v; want both done", got)
	}
	limitedAt := rateLimitedAt(t, limited)
	if early := callsWithin(limited, limitedAt, retryAfter-50*time.Millisecond); len(early) > 0 {
		t.Errorf("limited app called %v after its 429; want no call for %s: the slot came free only after the pause began", early, retryAfter)
	}
}

// rateLimitedAt is when the app's (last) rate-limit answer returned.
func rateLimitedAt(t *testing.T, p *probe) time.Time {
	t.Helper()
	var at time.Time
	for _, c := range p.seen() {
		if errors.Is(c.err, connector.ErrRateLimited) {
			at = c.end
		}
	}
	if at.IsZero() {
		t.Fatal("the app never answered 429")
	}
	return at
}

// callsWithin lists how long after from each call that started within d of it began.
func callsWithin(p *probe, from time.Time, d time.Duration) []time.Duration {
	var out []time.Duration
	for _, c := range p.seen() {
		if c.start.After(from) && c.start.Before(from.Add(d)) {
			out = append(out, c.start.Sub(from))
		}
	}
	return out
}

// A quota storm longer than the quarantine threshold and the attempt limit: the app said
// "later" each time, so its ops wait it out and finish, and the app is never quarantined.
func TestExecutorRateLimitStormNeitherKillsNorQuarantines(t *testing.T) {
	s := openOutboxStore(t)
	storm := newProbe(probeTraits)
	// Google's form: 403 over quota with no Retry-After, so the pauses grow on their own.
	storm.FailNext(&connector.Error{Kind: connector.ErrRateLimited, Status: 403, Detail: "userRateLimitExceeded"}, 12)
	ops := mustEnqueuePlan(t, s, planOf(createSteps("storm", "s", 3)))
	x := provision.NewExecutor(s, map[string]connector.Connector{"storm": storm}, provision.ExecutorConfig{
		BaseBackoff: time.Millisecond, MaxBackoff: 40 * time.Millisecond, MaxAttempts: 3, Poll: 5 * time.Millisecond,
		Apps: map[string]provision.AppLimits{"storm": {QuarantineAfter: 4}}})
	runUntilSettled(t, s, x, idsOf(ops), time.Minute)

	if got := statesOf(t, s, idsOf(ops)); got[directory.OpDone] != 3 {
		t.Fatalf("op states = %v; want all 3 done after the storm", got)
	}
	for _, o := range mustListOps(t, s, idsOf(ops)) {
		if o.Attempts > 1 {
			t.Errorf("op %d counts %d attempts; rate-limit answers are not failed attempts", o.ID, o.Attempts)
		}
	}
	if apps, err := s.OutboxApps(context.Background()); err != nil || len(apps) != 0 {
		t.Errorf("OutboxApps = %+v, %v; want no failure streak and no quarantine", apps, err)
	}
}

func TestExecutorQuarantinesAFailingAppOnly(t *testing.T) {
	s := openOutboxStore(t)
	ctx := context.Background()
	bad, good := newProbe(probeTraits), newProbe(probeTraits)
	bad.setRefuse(&connector.Error{Kind: connector.ErrUnauthorized, Status: 401, Detail: "token revoked"})
	ops := mustEnqueuePlan(t, s, planOf(createSteps("bad", "b", 8), createSteps("good", "g", 8)))
	cfg := provision.ExecutorConfig{Apps: map[string]provision.AppLimits{"bad": {QuarantineAfter: 3, Concurrency: 1}},
		Poll: 20 * time.Millisecond}
	x := provision.NewExecutor(s, map[string]connector.Connector{"bad": bad, "good": good}, cfg)
	runUntilSettled(t, s, x, idsOf(ops), 30*time.Second)

	if n := len(bad.seen()); n != 3 {
		t.Errorf("the bad app was called %d times; want 3, then quarantine", n)
	}
	if got := statesOf(t, s, idsOf(ops[8:])); got[directory.OpDone] != 8 {
		t.Errorf("good app op states = %v; want all done", got)
	}
	if got := statesOf(t, s, idsOf(ops[:8])); got[directory.OpFailed] != 3 || got[directory.OpPending] != 5 {
		t.Errorf("bad app op states = %v; want 3 failed, 5 still pending", got)
	}
	apps, err := s.OutboxApps(ctx)
	if err != nil || len(apps) != 1 || apps[0].App != "bad" || apps[0].QuarantinedAt == nil {
		t.Fatalf("OutboxApps = %+v, %v; want bad quarantined", apps, err)
	}

	bad.setRefuse(nil)
	if n, err := s.RetryOps(ctx, directory.OutboxRetry{App: "bad"}); err != nil || n != 3 {
		t.Fatalf("RetryOps = %d, %v; want the 3 failed ops requeued", n, err)
	}
	x = provision.NewExecutor(s, map[string]connector.Connector{"bad": bad, "good": good}, cfg)
	runUntilSettled(t, s, x, idsOf(ops), 30*time.Second)
	if got := statesOf(t, s, idsOf(ops)); got[directory.OpDone] != 16 {
		t.Errorf("after retry, op states = %v; want all 16 done", got)
	}
	if n := len(bad.Snapshot()); n != 8 {
		t.Errorf("bad app holds %d accounts after retry; want 8", n)
	}
}

// A leaver's disables jump a queued backlog in every app.
func TestExecutorLeaverFastPath(t *testing.T) {
	s := openOutboxStore(t)
	ctx := context.Background()
	apps := []string{"a1", "a2", "a3", "a4", "a5", "a6"}
	conns := map[string]connector.Connector{}
	probes := map[string]*probe{}
	var backlog, disables []provision.Step
	for _, app := range apps {
		p := newProbe(probeTraits)
		p.SetLatency(25 * time.Millisecond)
		acc := p.Put(connector.Account{ExternalID: "leaver", UserName: "leaver", Active: true})
		probes[app], conns[app] = p, p
		backlog = append(backlog, createSteps(app, app+"u", 1000/len(apps)+1)...)
		disables = append(disables, provision.Step{Urgent: true, Op: connector.Op{Kind: connector.OpDisable, App: app,
			PersonID: "leaver", AccountID: acc.ID, Account: acc, Reason: "terminated on 2026-11-28"}})
	}
	backlogOps := mustEnqueuePlan(t, s, planOf(backlog[:1000]))
	x := provision.NewExecutor(s, conns, provision.ExecutorConfig{Poll: 50 * time.Millisecond})
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- x.Run(runCtx) }()

	// Let the backlog get going, then terminate.
	for statesOf(t, s, idsOf(backlogOps))[directory.OpDone] < 50 {
		time.Sleep(5 * time.Millisecond)
	}
	notified := time.Now()
	leaverOps := mustEnqueuePlan(t, s, planOf(disables))
	x.Notify()
	// Timed by the apps themselves: when each disable ended, and how many backlog creates the
	// apps completed meanwhile.
	var lastDisable time.Time
	deadline := time.Now().Add(time.Minute)
	for disabled := 0; disabled < len(apps); {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d disables done after a minute", disabled, len(apps))
		}
		time.Sleep(2 * time.Millisecond)
		disabled = 0
		for _, app := range apps {
			for _, a := range probes[app].seen() {
				if a.kind == connector.OpDisable && a.err == nil {
					disabled++
					if a.end.After(lastDisable) {
						lastDisable = a.end
					}
				}
			}
		}
	}
	before, meanwhile := 0, 0
	for _, app := range apps {
		for _, a := range probes[app].seen() {
			switch {
			case a.kind != connector.OpCreate:
			case a.end.Before(notified):
				before++
			case !a.end.After(lastDisable):
				meanwhile++
			}
		}
	}
	cancel()
	if err := <-stopped; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v; want context.Canceled", err)
	}
	// Behind the backlog, the disables would have waited for all of it; ahead of it, only for
	// the ops already in the apps' hands.
	t.Logf("backlog creates: %d before the termination, %d more before its last disable ended", before, meanwhile)
	if remaining := 1000 - before; meanwhile*4 > remaining {
		t.Errorf("%d backlog ops finished between the termination and its last disable, of %d queued; want the disables well ahead of the backlog",
			meanwhile, remaining)
	}
	if got := statesOf(t, s, idsOf(leaverOps)); got[directory.OpDone] != len(apps) {
		t.Errorf("leaver op states = %v; want all %d done", got, len(apps))
	}
	for _, app := range apps {
		for _, acc := range probes[app].Snapshot() {
			if acc.UserName == "leaver" && acc.Active {
				t.Errorf("%s: the leaver is still active", app)
			}
		}
	}
	// Stopping hands the claimed but unstarted ops back: nothing stays leased by a stopped executor.
	running, err := s.ListOps(ctx, directory.OutboxFilter{States: []directory.OpState{directory.OpRunning}})
	if err != nil || len(running) != 0 {
		t.Errorf("after Run stopped, %d ops are still running (%v); want them handed back", len(running), err)
	}
}
