package cli

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/lifecycle"
	"github.com/tenure-id/tenure/pkg/provision"
	"github.com/tenure-id/tenure/pkg/provision/provisiontest"
)

// BenchmarkOffboardSandboxApps measures the sample company's leavers against the sandbox
// fakes over HTTP (GitHub, Slack, Google Workspace, HubSpot, Zendesk, Zapier and the SCIM apps,
// each with its own rate limits): from the termination handed to the lifecycle engine to the
// person's access removed in every app they held. The path is the one `tenure serve` wires:
// engine → Changed hook → Reconciler → Planner.PlanPeople → urgent outbox ops → workers. Each
// op is one leaver (the company has about 35 active people: use -benchtime=30x).
func BenchmarkOffboardSandboxApps(b *testing.B) {
	c := newSandboxCompany(b)
	c.must("hr", "import", "../../testdata/hr/piedpiper.csv")
	c.must("apply")
	holds := map[string][]string{} // email → apps with an enabled account
	for app, emails := range c.desired() {
		for _, e := range emails {
			holds[e] = append(holds[e], app)
		}
	}

	ctx := context.Background()
	s, err := sqlstore.Open(ctx, c.db, sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	gone := make(chan provisiontest.Gone, 1024)
	conns := map[string]connector.Connector{}
	getenv := c.sb.Getenv(nil)
	for name, a := range c.sb.Apps() {
		conn, err := connectorFor(name, a.Connector, a.Config, getenv, quiet)
		if err != nil {
			b.Fatal(err)
		}
		app, ok := conn.(provisiontest.App)
		if !ok {
			b.Fatalf("%s: the connector cannot find one account", name)
		}
		conns[name] = provisiontest.Watch{App: app, Name: name, Gone: gone}
	}
	planner := &provision.Planner{Store: s, Policy: c.set, Connectors: conns, Apps: c.sb.Configs(), Clock: time.Now}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	x := provision.NewExecutor(s, conns, provision.ExecutorConfig{})
	r := &provision.Reconciler{Planner: planner, Queue: s, Notify: x.Notify}
	go x.Run(runCtx)
	go r.Run(runCtx)
	eng := lifecycle.New(s, lifecycle.Options{Changed: r.Changed})

	people, err := s.ListPeople(ctx, directory.PersonFilter{Statuses: []identity.Status{identity.Active}})
	if err != nil {
		b.Fatal(err)
	}
	var took []time.Duration
	apps := 0
	i := 0
	for b.Loop() {
		for i < len(people) && len(holds[strings.ToLower(people[i].WorkEmail)]) == 0 {
			i++
		}
		if i >= len(people) {
			b.Fatalf("only %d leavers in the sample company; use a smaller -benchtime", len(took))
		}
		p := people[i]
		i++
		held := holds[strings.ToLower(p.WorkEmail)]
		apps += len(held)
		start := time.Now()
		ev := identity.Event{Type: identity.Terminate, EmployeeID: p.EmployeeID, EffectiveAt: start.UTC(), Source: "bench", Payload: []byte(`{}`)}
		if _, err := eng.Submit(ctx, []identity.Event{ev}, lifecycle.SubmitOptions{}); err != nil {
			b.Fatal(err)
		}
		if err := provisiontest.WaitGone(gone, p.ID, held, 2*time.Minute); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	b.ReportMetric(provisiontest.Millis(took, 0.50), "p50-ms")
	b.ReportMetric(provisiontest.Millis(took, 0.99), "p99-ms")
	b.ReportMetric(float64(apps)/float64(len(took)), "apps/leaver")
}
