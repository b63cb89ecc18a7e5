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
)

// leaverWatch reports each person whose account an app disabled or deleted.
type leaverWatch struct {
	connector.Connector
	app  string
	gone chan<- [2]string // app, person ID
}

func (w leaverWatch) Apply(ctx context.Context, op connector.Op) (connector.Account, error) {
	acc, err := w.Connector.Apply(ctx, op)
	if err == nil && (op.Kind == connector.OpDisable || op.Kind == connector.OpDelete) {
		w.gone <- [2]string{w.app, op.PersonID}
	}
	return acc, err
}

// Traits passes the wrapped connector's traits on, so the workers keep each app's limits.
func (w leaverWatch) Traits() connector.Traits { return connector.TraitsOf(w.Connector) }

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
	gone := make(chan [2]string, 1024)
	conns := map[string]connector.Connector{}
	getenv := c.sb.Getenv(nil)
	for name, a := range c.sb.Apps() {
		conn, err := connectorFor(name, a.Connector, a.Config, getenv)
		if err != nil {
			b.Fatal(err)
		}
		conns[name] = leaverWatch{Connector: conn, app: name, gone: gone}
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
		left := map[string]bool{}
		for _, app := range holds[strings.ToLower(p.WorkEmail)] {
			left[app] = true
		}
		apps += len(left)
		start := time.Now()
		ev := identity.Event{Type: identity.Terminate, EmployeeID: p.EmployeeID, EffectiveAt: start.UTC(), Source: "bench", Payload: []byte(`{}`)}
		if _, err := eng.Submit(ctx, []identity.Event{ev}, lifecycle.SubmitOptions{}); err != nil {
			b.Fatal(err)
		}
		timeout := time.After(2 * time.Minute)
		for len(left) > 0 {
			select {
			case g := <-gone:
				if g[1] == p.ID {
					delete(left, g[0])
				}
			case <-timeout:
				b.Fatalf("%s still has access in %v two minutes after the termination", p.EmployeeID, left)
			}
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	pct := func(q float64) float64 {
		return float64(took[min(len(took)-1, int(q*float64(len(took))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(apps)/float64(len(took)), "apps/leaver")
}
