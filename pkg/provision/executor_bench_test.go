package provision_test

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/connector/memconn"
	"github.com/tenure-id/tenure/pkg/provision"
)

const benchOps = 4000

// benchSteps are benchOps creates spread over four apps.
func benchSteps(round int) (provision.Plan, []string) {
	// Fresh app names each round: a round's apps are new, so are their account IDs.
	var apps []string
	var all [][]provision.Step
	for i := range 4 {
		app := fmt.Sprintf("r%d-app%d", round, i)
		apps = append(apps, app)
		all = append(all, createSteps(app, app, benchOps/4))
	}
	return planOf(all...), apps
}

// BenchmarkApplyThroughput applies creates to in-process apps, two ways per iteration so the
// shared machine's load hits both alike. The engine ("outbox-ops/s"): every op stored, claimed,
// applied by the workers and recorded (outcome, account record, audit) in SQLite. The baseline
// ("direct-ops/s"): the same creates through Apply in a loop with the same parallelism (8),
// storing nothing. "overhead-x" is how many times longer the engine takes.
func BenchmarkApplyThroughput(b *testing.B) {
	s := openOutboxStore(b)
	round := 0
	var engine, direct, engineCPU time.Duration
	for b.Loop() {
		round++
		plan, apps := benchSteps(round)
		direct += applyDirect(b, plan, apps)

		conns := map[string]connector.Connector{}
		for _, app := range apps {
			conns[app] = memconn.New(probeTraits)
		}
		start, cpu := time.Now(), cpuTime()
		ops := mustEnqueuePlan(b, s, plan)
		x := provision.NewExecutor(s, conns, provision.ExecutorConfig{})
		runUntilSettled(b, s, x, idsOf(ops), 5*time.Minute)
		engine += time.Since(start)
		engineCPU += cpuTime() - cpu
	}
	b.ReportMetric(float64(benchOps*b.N)/engine.Seconds(), "outbox-ops/s")
	b.ReportMetric(float64(benchOps*b.N)/direct.Seconds(), "direct-ops/s")
	b.ReportMetric(engine.Seconds()/direct.Seconds(), "overhead-x")
	// On a shared machine the wall-clock rate says as much about the neighbours as about the
	// engine; ops per CPU-second of this process does not.
	b.ReportMetric(float64(benchOps*b.N)/engineCPU.Seconds(), "outbox-ops/cpu-s")
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// applyDirect applies plan's steps to fresh apps with eight goroutines and no outbox.
func applyDirect(b *testing.B, plan provision.Plan, apps []string) time.Duration {
	conns := map[string]*memconn.App{}
	for _, app := range apps {
		conns[app] = memconn.New(probeTraits)
	}
	start := time.Now()
	var wg sync.WaitGroup
	work := make(chan provision.Step)
	for range 8 {
		wg.Go(func() {
			for st := range work {
				if _, err := conns[st.App].Apply(context.Background(), st.Op); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for _, a := range plan.Apps {
		for _, st := range a.Ops {
			work <- st
		}
	}
	close(work)
	wg.Wait()
	return time.Since(start)
}
