package conformance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

func outboxTests() []subTest {
	return []subTest{
		{"OutboxEnqueueDeduplicatesOpenKeys", testOutboxEnqueueDedup},
		{"OutboxClaimOrder", testOutboxClaimOrder},
		{"OutboxClaimChainWaits", testOutboxChain},
		{"OutboxLeaseExpires", testOutboxLeaseExpiry},
		{"OutboxConcurrentClaimersNeverShare", testOutboxConcurrentClaims},
		{"OutboxFinishRecordsAccountAndAudit", testOutboxFinish},
		{"OutboxQuarantineAndRetry", testOutboxQuarantine},
		{"OutboxQuarantineThenSuccessInOneBatch", testOutboxQuarantineThenSuccessInOneBatch},
		{"OutboxPurge", testOutboxPurge},
		{"OutboxUrgentReleaseAndOpenCounts", testOutboxRelease},
	}
}

func newOp(app, key string, urgent bool) directory.OutboxOp {
	return directory.OutboxOp{Key: key, App: app, Kind: "disable", Chain: app + "/" + key, Urgent: urgent,
		Payload: []byte(`{"kind":"disable","app":"` + app + `"}`)}
}

func mustEnqueue(t *testing.T, ctx context.Context, s directory.Store, ops ...directory.OutboxOp) []directory.OutboxOp {
	t.Helper()
	got, err := s.EnqueueOps(ctx, ops)
	if err != nil {
		t.Fatalf("EnqueueOps: %v", err)
	}
	if len(got) != len(ops) {
		t.Fatalf("EnqueueOps returned %d ops for %d", len(got), len(ops))
	}
	return got
}

func mustClaim(t *testing.T, ctx context.Context, s directory.Store, c directory.OutboxClaim) []directory.OutboxOp {
	t.Helper()
	if c.Lease == 0 {
		c.Lease = time.Minute
	}
	got, err := s.ClaimOps(ctx, c)
	if err != nil {
		t.Fatalf("ClaimOps(%s): %v", c.Owner, err)
	}
	return got
}

func opKeys(ops []directory.OutboxOp) []string {
	out := make([]string, len(ops))
	for i, o := range ops {
		out[i] = o.Key
	}
	return out
}

func finish(t *testing.T, ctx context.Context, s directory.Store, owner string, res ...directory.OutboxResult) []int64 {
	t.Helper()
	stale, err := s.FinishOps(ctx, owner, res)
	if err != nil {
		t.Fatalf("FinishOps(%s): %v", owner, err)
	}
	return stale
}

func testOutboxEnqueueDedup(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	first := mustEnqueue(t, ctx, s, newOp("slack", "k1", false), newOp("slack", "k2", false), newOp("slack", "k1", false))
	if first[0].ID == 0 || first[0].State != directory.OpPending || first[0].Attempts != 0 {
		t.Fatalf("new op = %+v; want an ID, pending, no attempts", first[0])
	}
	if first[2].ID != first[0].ID {
		t.Errorf("a key repeated within one batch got IDs %d and %d; want one op", first[0].ID, first[2].ID)
	}
	again := mustEnqueue(t, ctx, s, newOp("slack", "k1", false))
	if again[0].ID != first[0].ID {
		t.Errorf("re-enqueuing a pending key made op %d; want the existing %d", again[0].ID, first[0].ID)
	}
	claimed := mustClaim(t, ctx, s, directory.OutboxClaim{Owner: "w1", Limit: 10})
	if len(claimed) != 2 {
		t.Fatalf("claimed %v; want both ops", opKeys(claimed))
	}
	if again := mustEnqueue(t, ctx, s, newOp("slack", "k1", false)); again[0].ID != first[0].ID {
		t.Errorf("re-enqueuing a running key made op %d; want the existing %d", again[0].ID, first[0].ID)
	}
	finish(t, ctx, s, "w1", directory.OutboxResult{ID: first[0].ID, State: directory.OpDone})
	later := mustEnqueue(t, ctx, s, newOp("slack", "k1", false))
	if later[0].ID == first[0].ID || later[0].State != directory.OpPending {
		t.Errorf("enqueuing a key whose op is done = %+v; want a new pending op", later[0])
	}
	all, err := s.ListOps(ctx, directory.OutboxFilter{App: "slack"})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 {
		t.Errorf("ListOps = %d ops; want 3 (k1 done, k2 running, k1 pending)", len(all))
	}
	if _, err := s.EnqueueOps(ctx, []directory.OutboxOp{{Key: "x", App: "slack", Kind: "create"}}); err == nil {
		t.Error("EnqueueOps without a payload succeeded; want an error naming the field")
	}
}

func testOutboxClaimOrder(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	later := newOp("slack", "later", false)
	later.NextAttemptAt = time.Now().Add(time.Hour)
	mustEnqueue(t, ctx, s, newOp("slack", "n1", false), newOp("github", "n2", false), later,
		newOp("github", "u1", true), newOp("slack", "n3", false), newOp("slack", "u2", true))
	got := mustClaim(t, ctx, s, directory.OutboxClaim{Owner: "w1", Limit: 3})
	if want := []string{"u1", "u2", "n1"}; !slices.Equal(opKeys(got), want) {
		t.Errorf("first claim = %v; want urgent first, then oldest: %v", opKeys(got), want)
	}
	for _, o := range got {
		if o.State != directory.OpRunning || o.LeaseOwner != "w1" || o.LeaseUntil == nil || o.Attempts != 1 {
			t.Errorf("claimed op %s = %+v; want running, leased by w1, attempt 1", o.Key, o)
		}
	}
	got = mustClaim(t, ctx, s, directory.OutboxClaim{Owner: "w2", Limit: 10, Skip: []string{"github"}})
	if want := []string{"n3"}; !slices.Equal(opKeys(got), want) {
		t.Errorf("claim skipping github = %v; want %v (the op due in an hour waits)", opKeys(got), want)
	}
	got = mustClaim(t, ctx, s, directory.OutboxClaim{Owner: "w2", Limit: 10, Apps: []string{"github"}})
	if want := []string{"n2"}; !slices.Equal(opKeys(got), want) {
		t.Errorf("claim of github = %v; want %v", opKeys(got), want)
	}
	if got := mustClaim(t, ctx, s, directory.OutboxClaim{Owner: "w3", Limit: 10}); len(got) != 0 {
		t.Errorf("claim with nothing due = %v; want none", opKeys(got))
	}
	if _, err := s.ClaimOps(ctx, directory.OutboxClaim{Limit: 1, Lease: time.Minute}); err == nil {
		t.Error("ClaimOps without an owner succeeded; want an error")
	}
}

func testOutboxChain(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	create, member := newOp("slack", "create", false), newOp("slack", "member", false)
	create.Chain, member.Chain = "slack/p1", "slack/p1"
	other := newOp("slack", "other", false)
	ops := mustEnqueue(t, ctx, s, create, member, other)
	got := mustClaim(t, ctx, s, directory.OutboxClaim{Owner: "w1", Limit: 10})
	if want := []string{"create", "other"}; !slices.Equal(opKeys(got), want) {
		t.Fatalf("claim = %v; want %v (the membership waits for its account's create)", opKeys(got), want)
	}
	finish(t, ctx, s, "w1", directory.OutboxResult{ID: ops[0].ID, State: directory.OpPending, NextAttemptAt: time.Now().Add(-time.Second), Error: "retry"})
	got = mustClaim(t, ctx, s, directory.OutboxClaim{Owner: "w1", Limit: 10})
	if want := []string{"create"}; !slices.Equal(opKeys(got), want) {
		t.Fatalf("claim after the create's retryable failure = %v; want %v", opKeys(got), want)
	}
	finish(t, ctx, s, "w1", directory.OutboxResult{ID: ops[0].ID, State: directory.OpDone})
	got = mustClaim(t, ctx, s, directory.OutboxClaim{Owner: "w1", Limit: 10})
	if want := []string{"member"}; !slices.Equal(opKeys(got), want) {
		t.Fatalf("claim after the create = %v; want %v", opKeys(got), want)
	}
}

func testOutboxLeaseExpiry(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	ops := mustEnqueue(t, ctx, s, newOp("slack", "k", false))
	if got := mustClaim(t, ctx, s, directory.OutboxClaim{Owner: "crashed", Limit: 1, Lease: 50 * time.Millisecond}); len(got) != 1 {
		t.Fatalf("first claim = %v", opKeys(got))
	}
	if got := mustClaim(t, ctx, s, directory.OutboxClaim{Owner: "w2", Limit: 1}); len(got) != 0 {
		t.Fatalf("claim while leased = %v; want none", opKeys(got))
	}
	time.Sleep(120 * time.Millisecond)
	got := mustClaim(t, ctx, s, directory.OutboxClaim{Owner: "w2", Limit: 1})
	if len(got) != 1 || got[0].LeaseOwner != "w2" || got[0].Attempts != 2 {
		t.Fatalf("claim after the lease expired = %+v; want the op leased by w2 at attempt 2", got)
	}
	if stale := finish(t, ctx, s, "crashed", directory.OutboxResult{ID: ops[0].ID, State: directory.OpDone}); !slices.Equal(stale, []int64{ops[0].ID}) {
		t.Errorf("FinishOps by the expired owner: stale = %v; want [%d]", stale, ops[0].ID)
	}
	if op, _ := s.GetOp(ctx, ops[0].ID); op.State != directory.OpRunning || op.LeaseOwner != "w2" {
		t.Errorf("after a stale result the op is %s/%s; want running under w2", op.State, op.LeaseOwner)
	}
	if _, err := s.GetOp(ctx, 987654); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("GetOp(unknown) = %v; want ErrNotFound", err)
	}
}

func testOutboxConcurrentClaims(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	const n = 200
	ops := make([]directory.OutboxOp, n)
	for i := range ops {
		ops[i] = newOp(fmt.Sprintf("app%d", i%4), fmt.Sprintf("k%03d", i), i%7 == 0)
	}
	mustEnqueue(t, ctx, s, ops...)
	var mu sync.Mutex
	seen := map[int64]string{}
	var dup []string
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		owner := fmt.Sprintf("w%d", w)
		wg.Go(func() {
			for {
				got, err := s.ClaimOps(ctx, directory.OutboxClaim{Owner: owner, Limit: 7, Lease: time.Minute})
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, o := range got {
					if prev, ok := seen[o.ID]; ok {
						dup = append(dup, fmt.Sprintf("op %d by %s and %s", o.ID, prev, owner))
					}
					seen[o.ID] = owner
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("ClaimOps: %v", err)
	}
	if len(dup) > 0 {
		t.Errorf("ops claimed twice: %v", dup)
	}
	if len(seen) != n {
		t.Errorf("claimed %d distinct ops; want %d", len(seen), n)
	}
}

func testOutboxFinish(t *testing.T, s directory.Store) {
	ctx := audit.WithActor(testContext(t), "provisioner")
	p := mustCreatePerson(t, ctx, s, newPerson("E001"))
	ops := mustEnqueue(t, ctx, s, newOp("slack", "ok", false), newOp("slack", "bad", false))
	mustClaim(t, ctx, s, directory.OutboxClaim{Owner: "w1", Limit: 2})
	head, err := s.AuditRecords(ctx, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	acc := identity.Account{App: "slack", ExternalID: "U123", PersonID: p.ID, Username: "ada", Status: identity.AccountDisabled,
		Memberships: []string{"channel:general"}}
	stale := finish(t, ctx, s, "w1",
		directory.OutboxResult{ID: ops[0].ID, State: directory.OpDone, Account: &acc, Audit: map[string]string{"kind": "disable"}},
		directory.OutboxResult{ID: ops[1].ID, State: directory.OpFailed, Error: "the app refused the request as invalid (HTTP 400)"})
	if len(stale) != 0 {
		t.Fatalf("stale = %v; want none", stale)
	}
	got, err := s.GetAccount(ctx, "slack", "U123")
	if err != nil {
		t.Fatalf("GetAccount after a done op: %v", err)
	}
	if got.PersonID != p.ID || got.Status != identity.AccountDisabled || !slices.Equal(got.Memberships, acc.Memberships) {
		t.Errorf("account record = %+v; want the app's account", got)
	}
	done, _ := s.GetOp(ctx, ops[0].ID)
	failed, _ := s.GetOp(ctx, ops[1].ID)
	if done.State != directory.OpDone || done.LeaseOwner != "" || done.LeaseUntil != nil {
		t.Errorf("done op = %+v; want done with the lease released", done)
	}
	if failed.State != directory.OpFailed || failed.LastError == "" {
		t.Errorf("failed op = %+v; want failed with its error", failed)
	}
	recs, err := s.AuditRecords(ctx, head[len(head)-1].Seq, 100)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range recs {
		actions = append(actions, r.Action)
		if r.Actor != "provisioner" {
			t.Errorf("audit record %s by %q; want provisioner", r.Action, r.Actor)
		}
	}
	for _, want := range []string{"account.create", "provision.disable.done", "provision.disable.failed"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit actions %v lack %s", actions, want)
		}
	}
	if stale := finish(t, ctx, s, "w1", directory.OutboxResult{ID: ops[0].ID, State: directory.OpDone}); len(stale) != 1 {
		t.Errorf("finishing a done op again: stale = %v; want it refused", stale)
	}
}

func testOutboxQuarantine(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	var bad []directory.OutboxOp
	for i := range 4 {
		bad = append(bad, newOp("zendesk", fmt.Sprintf("z%d", i), false))
	}
	ops := mustEnqueue(t, ctx, s, append(bad, newOp("slack", "s1", false))...)
	claimed := mustClaim(t, ctx, s, directory.OutboxClaim{Owner: "w1", Limit: 3, Apps: []string{"zendesk"}})
	for _, o := range claimed {
		finish(t, ctx, s, "w1", directory.OutboxResult{ID: o.ID, State: directory.OpFailed, Error: "unauthorized", QuarantineAfter: 3})
	}
	apps, err := s.OutboxApps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 1 || apps[0].App != "zendesk" || apps[0].Failures != 3 || apps[0].QuarantinedAt == nil {
		t.Fatalf("OutboxApps = %+v; want zendesk quarantined after 3 failures", apps)
	}
	got := mustClaim(t, ctx, s, directory.OutboxClaim{Owner: "w1", Limit: 10})
	if want := []string{"s1"}; !slices.Equal(opKeys(got), want) {
		t.Errorf("claim with zendesk quarantined = %v; want %v", opKeys(got), want)
	}
	n, err := s.RetryOps(ctx, directory.OutboxRetry{App: "zendesk"})
	if err != nil || n != 3 {
		t.Fatalf("RetryOps(zendesk) = %d, %v; want 3 requeued", n, err)
	}
	if apps, _ := s.OutboxApps(ctx); len(apps) != 0 {
		t.Errorf("OutboxApps after retry = %+v; want the quarantine lifted", apps)
	}
	got = mustClaim(t, ctx, s, directory.OutboxClaim{Owner: "w2", Limit: 10})
	if len(got) != 4 {
		t.Errorf("claim after retry = %v; want the 3 requeued and the untried zendesk op", opKeys(got))
	}
	for _, o := range got {
		if o.ID == ops[0].ID && o.Attempts != 1 {
			t.Errorf("requeued op attempts = %d; want a fresh count (1 after this claim)", o.Attempts)
		}
	}
}

// A streak that reaches the threshold quarantines the app even when a success follows in the
// same batch (a request that was already in flight when the app broke), whether the streak
// began in an earlier batch or in this one.
func testOutboxQuarantineThenSuccessInOneBatch(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	var ops []directory.OutboxOp
	for i := range 4 {
		ops = append(ops, newOp("hubspot", fmt.Sprintf("h%d", i), false), newOp("github", fmt.Sprintf("g%d", i), false))
	}
	mustEnqueue(t, ctx, s, ops...)
	claimed := mustClaim(t, ctx, s, directory.OutboxClaim{Owner: "w1", Limit: 8})
	byApp := map[string][]directory.OutboxOp{}
	for _, o := range claimed {
		byApp[o.App] = append(byApp[o.App], o)
	}
	failed := func(o directory.OutboxOp) directory.OutboxResult {
		return directory.OutboxResult{ID: o.ID, State: directory.OpFailed, Error: "HTTP 401", QuarantineAfter: 3}
	}
	h, g := byApp["hubspot"], byApp["github"]
	// HubSpot: one failure recorded earlier, then two more and a success in one batch.
	finish(t, ctx, s, "w1", failed(h[0]))
	finish(t, ctx, s, "w1", failed(h[1]), failed(h[2]), directory.OutboxResult{ID: h[3].ID, State: directory.OpDone},
		// GitHub: three failures and then a success, all in one batch.
		failed(g[0]), failed(g[1]), failed(g[2]), directory.OutboxResult{ID: g[3].ID, State: directory.OpDone})
	apps, err := s.OutboxApps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, a := range apps {
		got[a.App] = a.QuarantinedAt != nil
	}
	if !got["hubspot"] || !got["github"] {
		t.Errorf("OutboxApps = %+v; want hubspot and github quarantined: each reached 3 failures in a row", apps)
	}
}

func testOutboxRelease(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	ops := mustEnqueue(t, ctx, s, newOp("a", "a1", false), newOp("a", "a2", true), newOp("b", "b1", false))
	ids := []int64{ops[0].ID, ops[1].ID, ops[2].ID}
	got := mustClaim(t, ctx, s, directory.OutboxClaim{Owner: "w1", Limit: 10, UrgentOnly: true})
	if want := []string{"a2"}; !slices.Equal(opKeys(got), want) {
		t.Fatalf("urgent-only claim = %v; want %v", opKeys(got), want)
	}
	open, err := s.OpenOps(ctx, ids)
	if err != nil || open["a"] != 2 || open["b"] != 1 || len(open) != 2 {
		t.Fatalf("OpenOps = %v, %v; want a:2 b:1", open, err)
	}
	finish(t, ctx, s, "w1", directory.OutboxResult{ID: ops[1].ID, State: directory.OpPending, NextAttemptAt: time.Now().Add(-time.Second), Release: true})
	if op, _ := s.GetOp(ctx, ops[1].ID); op.State != directory.OpPending || op.Attempts != 0 || op.LeaseOwner != "" {
		t.Errorf("released op = %+v; want pending, its attempt taken back, no lease", op)
	}
	if _, err := s.FinishOps(ctx, "w1", []directory.OutboxResult{{ID: ops[1].ID, State: directory.OpDone, Release: true}}); err != nil {
		t.Errorf("finishing an op no longer leased: %v; want it reported stale, not an error", err)
	}
	got = mustClaim(t, ctx, s, directory.OutboxClaim{Owner: "w1", Limit: 10})
	if len(got) != 3 {
		t.Fatalf("claim = %v; want all three", opKeys(got))
	}
	finish(t, ctx, s, "w1",
		directory.OutboxResult{ID: ops[0].ID, State: directory.OpPending, NextAttemptAt: time.Now().Add(time.Hour), Error: "rate limited", QuarantineAfter: 2},
		directory.OutboxResult{ID: ops[1].ID, State: directory.OpDone},
		directory.OutboxResult{ID: ops[2].ID, State: directory.OpPending, NextAttemptAt: time.Now().Add(time.Hour), Error: "HTTP 503", QuarantineAfter: 1})
	apps, err := s.OutboxApps(ctx)
	if err != nil || len(apps) != 1 || apps[0].App != "b" || apps[0].QuarantinedAt == nil {
		t.Errorf("OutboxApps = %+v, %v; want b quarantined at its threshold 1, and a's failure wiped by its success after it", apps, err)
	}
	if open, _ := s.OpenOps(ctx, ids); open["a"] != 1 || open["b"] != 1 {
		t.Errorf("OpenOps after one op done = %v; want a:1 b:1", open)
	}
}
