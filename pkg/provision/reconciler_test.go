package provision_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/provision"
)

// leaverPlanner plans a disable of each named person's account in its app, and for a full plan
// every account it knows: a stand-in for the policy-driven planner, whose own tests cover what
// it decides.
type leaverPlanner struct {
	app      string
	accounts map[string]connector.Account // by person ID
	mu       sync.Mutex
	asked    [][]string
}

func (p *leaverPlanner) PlanPeople(_ context.Context, ids []string, _ ...string) (provision.Plan, error) {
	p.mu.Lock()
	p.asked = append(p.asked, slices.Clone(ids))
	p.mu.Unlock()
	var steps []provision.Step
	for _, id := range ids {
		acc := p.accounts[id]
		steps = append(steps, provision.Step{Urgent: true, Op: connector.Op{Kind: connector.OpDisable, App: p.app,
			PersonID: id, AccountID: acc.ID, Account: acc, Reason: "terminated on 2026-11-28"}})
	}
	return planOf(steps), nil
}

func (p *leaverPlanner) Plan(ctx context.Context, _ ...string) (provision.Plan, error) {
	ids := make([]string, 0, len(p.accounts))
	for id := range p.accounts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return p.PlanPeople(ctx, ids)
}

func TestReconcilerQueuesChangedPeopleAtOnce(t *testing.T) {
	s := openOutboxStore(t)
	app := newProbe(probeTraits)
	pl := &leaverPlanner{app: "slack", accounts: map[string]connector.Account{}}
	for _, id := range []string{"p1", "p2", "p3"} {
		pl.accounts[id] = app.Put(connector.Account{ExternalID: id, UserName: id, Active: true})
	}
	x := provision.NewExecutor(s, map[string]connector.Connector{"slack": app}, provision.ExecutorConfig{Poll: time.Hour})
	r := &provision.Reconciler{Planner: pl, Queue: s, Notify: x.Notify}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go x.Run(ctx)
	go r.Run(ctx)

	r.Changed([]string{"p2"})
	r.Changed([]string{"p1", "p2"})
	// The executor polls once an hour here: only Notify can have brought the work in.
	deadline := time.Now().Add(20 * time.Second)
	for {
		done, err := s.ListOps(ctx, directory.OutboxFilter{States: []directory.OpState{directory.OpDone}})
		if err != nil {
			t.Fatal(err)
		}
		if len(done) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d ops done after 20s; want p1's and p2's disables", len(done))
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, acc := range app.Snapshot() {
		if want := acc.UserName == "p3"; acc.Active != want {
			t.Errorf("%s active = %v; want only p3 left active", acc.UserName, acc.Active)
		}
	}
	if err := r.Full(ctx); err != nil {
		t.Fatal(err)
	}
	all, _ := s.ListOps(ctx, directory.OutboxFilter{})
	if len(all) != 5 {
		t.Errorf("after a full reconciliation, %d ops; want 5 (the 3 disables, 2 of them re-planned after theirs were done)", len(all))
	}
}
