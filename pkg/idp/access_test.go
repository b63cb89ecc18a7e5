package idp_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/idp"
	"github.com/tenure-id/tenure/pkg/policy"
)

// PolicyAccess over an in-memory snapshot, with the real resolver: a change in the directory
// view (here an approved exception) shows up once the snapshot is MaxAge old, not before.
func TestPolicyAccessRefreshesAfterMaxAge(t *testing.T) {
	set, err := policy.LoadDir("testdata/policy")
	if err != nil {
		t.Fatal(err)
	}
	alice := identity.Person{ID: "p-alice", EmployeeID: "E1", EmploymentType: identity.Employee, Status: identity.Active, JobTitle: "Staff Engineer"}
	carl := identity.Person{ID: "p-carl", EmployeeID: "C1", EmploymentType: identity.Contractor, Status: identity.Active}
	start := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	now := start
	var exceptions []identity.Grant
	loads := 0
	a := &idp.PolicyAccess{Resolver: policy.NewResolver(set), MaxAge: 30 * time.Second, Clock: func() time.Time { return now },
		Load: func(_ context.Context, at time.Time) (*policy.Snapshot, error) {
			loads++
			return policy.NewSnapshot(policy.SnapshotData{Now: at, People: []identity.Person{alice, carl}, Exceptions: slices.Clone(exceptions)}), nil
		}}
	ctx := context.Background()

	ok, ents, err := a.AppAccess(ctx, alice, "wiki")
	if err != nil || !ok || !slices.Equal(ents, []string{"group:editors", "group:readers"}) {
		t.Fatalf("alice/wiki = %v %v %v, want allowed with editors and readers", ok, ents, err)
	}
	if ok, _, _ := a.AppAccess(ctx, alice, "payroll"); ok {
		t.Error("alice may use payroll; no rule grants it")
	}
	if ok, _, _ := a.AppAccess(ctx, carl, "wiki"); ok {
		t.Error("carl (contractor) may use the wiki; no rule grants it")
	}

	expires := start.Add(30 * 24 * time.Hour)
	exceptions = append(exceptions, identity.Grant{ID: "x1", PersonID: carl.ID, App: "wiki", Source: identity.FromException,
		Reason: "audit", Approver: alice.ID, GrantedAt: start, ExpiresAt: &expires})
	now = start.Add(20 * time.Second)
	if ok, _, _ := a.AppAccess(ctx, carl, "wiki"); ok {
		t.Error("the new exception showed up before the snapshot was MaxAge old")
	}
	now = start.Add(31 * time.Second)
	if ok, _, _ := a.AppAccess(ctx, carl, "wiki"); !ok {
		t.Error("the exception did not show up once the snapshot was older than MaxAge")
	}
	if loads != 2 {
		t.Errorf("snapshot loads = %d, want 2 (one initial, one refresh)", loads)
	}

	// A failing reload refuses rather than serving a view older than the bound.
	now = start.Add(2 * time.Minute)
	a.Load = func(context.Context, time.Time) (*policy.Snapshot, error) { return nil, errors.New("database down") }
	if _, _, err := a.AppAccess(ctx, alice, "wiki"); err == nil {
		t.Error("a failed reload past MaxAge still answered")
	}
}

// Many sign-ins at once share one snapshot and one reload per MaxAge window.
func TestPolicyAccessConcurrentReloadsOnce(t *testing.T) {
	set, err := policy.LoadDir("testdata/policy")
	if err != nil {
		t.Fatal(err)
	}
	alice := identity.Person{ID: "p-alice", EmployeeID: "E1", EmploymentType: identity.Employee, Status: identity.Active}
	var mu sync.Mutex
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	var loads atomic.Int32
	a := &idp.PolicyAccess{Resolver: policy.NewResolver(set), MaxAge: time.Minute,
		Clock: func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
		Load: func(_ context.Context, at time.Time) (*policy.Snapshot, error) {
			loads.Add(1)
			time.Sleep(5 * time.Millisecond) // a reload takes a while; others must not pile in
			return policy.NewSnapshot(policy.SnapshotData{Now: at, People: []identity.Person{alice}}), nil
		}}
	for window := range 3 {
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if ok, _, err := a.AppAccess(context.Background(), alice, "wiki"); err != nil || !ok {
					t.Errorf("window %d: %v %v", window, ok, err)
				}
			}()
		}
		wg.Wait()
		mu.Lock()
		now = now.Add(61 * time.Second)
		mu.Unlock()
	}
	if n := loads.Load(); n != 3 {
		t.Errorf("snapshot loads = %d for 3 windows of 20 concurrent sign-ins, want 3", n)
	}
}
