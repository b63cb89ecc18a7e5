package provision_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/provision"
	"github.com/tenure-id/tenure/pkg/testenv"
)

// Three replicas' executors share one PostgreSQL outbox, as several `tenure serve` processes
// do: every op is applied exactly once, and the work is spread over the replicas.
func TestExecutorsOnReplicasShareWorkOnPostgres(t *testing.T) {
	pg := testenv.StartPostgres(t)
	ctx := context.Background()
	url := pg.NewDatabase(t)
	open := func() *sqlstore.Store {
		s, err := sqlstore.Open(ctx, url, sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	first := open()
	if err := first.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	app1, app2 := newProbe(probeTraits), newProbe(probeTraits)
	app1.SetLatency(2 * time.Millisecond)
	app2.SetLatency(2 * time.Millisecond)
	ops := mustEnqueuePlan(t, first, planOf(createSteps("app1", "a", 150), createSteps("app2", "b", 150)))

	var applied [3]atomic.Int64
	var wg sync.WaitGroup
	for i := range 3 {
		s := open() // each replica has its own connection pool
		conns := map[string]connector.Connector{"app1": counting{app1, &applied[i]}, "app2": counting{app2, &applied[i]}}
		x := provision.NewExecutor(s, conns, provision.ExecutorConfig{Workers: 4, Prefetch: 2, Poll: 20 * time.Millisecond})
		wg.Go(func() { runUntilSettled(t, s, x, idsOf(ops), time.Minute) })
	}
	wg.Wait()
	worked := 0
	for i := range applied {
		if applied[i].Load() > 0 {
			worked++
		}
	}
	t.Logf("ops applied per replica: %d %d %d", applied[0].Load(), applied[1].Load(), applied[2].Load())
	if worked < 2 {
		t.Errorf("only %d of 3 replicas applied ops; want the work shared", worked)
	}
	if got := statesOf(t, first, idsOf(ops)); got[directory.OpDone] != 300 {
		t.Fatalf("op states = %v; want 300 done", got)
	}
	if n := len(app1.seen()) + len(app2.seen()); n != 300 {
		t.Errorf("the apps saw %d Apply calls for 300 ops; want each op applied once", n)
	}
	if n := len(app1.Snapshot()) + len(app2.Snapshot()); n != 300 {
		t.Errorf("the apps hold %d accounts; want 300", n)
	}
	recs, err := first.AuditRecords(ctx, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]int{}
	for _, r := range recs {
		if r.Action == "provision.create.done" {
			by[r.Actor]++
		}
	}
	if by["provisioner"] != 300 {
		t.Errorf("done audit records by actor: %v; want 300 by provisioner", by)
	}
}

// counting counts the Apply calls one replica makes.
type counting struct {
	*probe
	n *atomic.Int64
}

func (c counting) Apply(ctx context.Context, op connector.Op) (connector.Account, error) {
	c.n.Add(1)
	return c.probe.Apply(ctx, op)
}
