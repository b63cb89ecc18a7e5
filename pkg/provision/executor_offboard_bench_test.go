package provision_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/connector/memconn"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/lifecycle"
	"github.com/tenure-id/tenure/pkg/policy"
	"github.com/tenure-id/tenure/pkg/provision"
	"github.com/tenure-id/tenure/pkg/provision/provisiontest"
)

// offboardApps are the six apps an engineer holds under the sample policy, with the latency
// each answers with (a local target's few milliseconds, not the internet's).
var offboardApps = map[string]struct {
	traits  connector.Traits
	latency time.Duration
}{
	"google-workspace": {connector.Traits{CanDisable: true, MembershipKinds: []string{"group"}, Concurrency: 4}, 5 * time.Millisecond},
	"slack":            {connector.Traits{CanDisable: true, MembershipKinds: []string{"channel"}, Concurrency: 4}, 8 * time.Millisecond},
	"github":           {connector.Traits{CanDisable: false, MembershipKinds: []string{"team"}, Concurrency: 4}, 12 * time.Millisecond},
	"zendesk":          {connector.Traits{CanDisable: true, MembershipKinds: []string{"group"}, Concurrency: 4}, 15 * time.Millisecond},
	"aws":              {connector.Traits{CanDisable: true, MembershipKinds: []string{"role"}, Concurrency: 4}, 18 * time.Millisecond},
	"expenses":         {connector.Traits{CanDisable: true, MembershipKinds: []string{"role"}, Concurrency: 4}, 20 * time.Millisecond},
}

// seedOrg creates the org units the policy names, parents first.
func seedOrg(b *testing.B, s *sqlstore.Store, set *policy.Set) map[string]string {
	ctx := context.Background()
	ids := map[string]string{}
	var paths []string
	for _, d := range set.OrgUnits {
		parts := strings.Split(d.Path, "/")
		for i := range parts {
			paths = append(paths, strings.Join(parts[:i+1], "/"))
		}
	}
	slices.SortFunc(paths, func(a, b string) int { return strings.Count(a, "/") - strings.Count(b, "/") })
	for _, p := range slices.Compact(paths) {
		if _, ok := ids[p]; ok {
			continue
		}
		depth := strings.Count(p, "/")
		u := identity.OrgUnit{Name: p[strings.LastIndex(p, "/")+1:], Kind: identity.OrgUnitKinds[depth]}
		if depth > 0 {
			u.ParentID = ids[p[:strings.LastIndex(p, "/")]]
		}
		created, err := s.CreateOrgUnit(ctx, u)
		if err != nil {
			b.Fatalf("org unit %s: %v", p, err)
		}
		ids[p] = created.ID
	}
	return ids
}

// BenchmarkOffboard measures one leaver: from the termination event handed to the lifecycle
// engine to the person's accounts disabled (deleted where the app cannot disable) in all six
// apps. The path is the one `tenure serve` wires: engine → Changed hook → Reconciler →
// Planner.PlanPeople → outbox → workers. Each op is one termination; run it with
// -benchtime=60x for 60 samples, reported as p50 and p99.
func BenchmarkOffboard(b *testing.B) {
	ctx := context.Background()
	s := openOutboxStore(b)
	set, err := policy.LoadDir("../../policies")
	if err != nil {
		b.Fatal(err)
	}
	units := seedOrg(b, s, set)
	const staff = 200
	batch := make([]directory.NewPerson, staff)
	for i := range batch {
		u := fmt.Sprintf("eng%03d", i)
		batch[i] = directory.NewPerson{Person: identity.Person{EmployeeID: fmt.Sprintf("E%03d", i), LegalFirstName: "Eng",
			LegalLastName: fmt.Sprintf("Neer%03d", i), Username: u, WorkEmail: u + "@piedpiper.test", JobTitle: "Software Engineer",
			EmploymentType: identity.Employee, Status: identity.Active, OrgUnitID: units["Pied Piper/Engineering/Platform/Compression"]}}
	}
	people, err := s.CreatePeople(ctx, batch)
	if err != nil {
		b.Fatal(err)
	}
	gone := make(chan provisiontest.Gone, 1024)
	conns := map[string]connector.Connector{}
	apps := map[string]*memconn.App{}
	for name, a := range offboardApps {
		apps[name] = memconn.New(a.traits)
		conns[name] = provisiontest.Watch{App: apps[name], Name: name, Gone: gone}
	}
	planner := &provision.Planner{Store: s, Policy: set, Connectors: conns, Apps: map[string]config.AppConfig{}, Clock: time.Now}
	plan, err := planner.Plan(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for _, ap := range plan.Apps {
		if ap.Error != "" || len(ap.Ops) == 0 {
			b.Fatalf("initial plan for %s: %d ops, error %q", ap.App, len(ap.Ops), ap.Error)
		}
	}
	ops := mustEnqueuePlan(b, s, plan)
	runUntilSettled(b, s, provision.NewExecutor(s, conns, provision.ExecutorConfig{}), idsOf(ops), 5*time.Minute)
	for name, a := range apps {
		if n := len(a.Snapshot()); n != staff {
			b.Fatalf("%s holds %d accounts after the initial apply; want %d", name, n, staff)
		}
		a.SetLatency(offboardApps[name].latency)
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	x := provision.NewExecutor(s, conns, provision.ExecutorConfig{})
	r := &provision.Reconciler{Planner: planner, Queue: s, Notify: x.Notify}
	go x.Run(runCtx)
	go r.Run(runCtx)
	eng := lifecycle.New(s, lifecycle.Options{Changed: r.Changed})

	var took []time.Duration
	i := 0
	for b.Loop() {
		if i >= staff {
			b.Fatalf("only %d people to offboard; use -benchtime=%dx or fewer", staff, staff)
		}
		p := people[i]
		i++
		start := time.Now()
		ev := identity.Event{Type: identity.Terminate, EmployeeID: p.EmployeeID, EffectiveAt: start.UTC(), Source: "bench",
			Payload: []byte(`{}`)}
		if _, err := eng.Submit(ctx, []identity.Event{ev}, lifecycle.SubmitOptions{}); err != nil {
			b.Fatal(err)
		}
		if err := provisiontest.WaitGone(gone, p.ID, slices.Collect(maps.Keys(offboardApps)), time.Minute); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	b.ReportMetric(provisiontest.Millis(took, 0.50), "p50-ms")
	b.ReportMetric(provisiontest.Millis(took, 0.99), "p99-ms")
	b.ReportMetric(float64(len(took)), "leavers")
}
