package provision_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/connector/memconn"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore/sqlstoretest"
	"github.com/tenure-id/tenure/pkg/provision"
)

// openOutboxStore is a migrated SQLite store in a temp file.
func openOutboxStore(t testing.TB) *sqlstore.Store {
	t.Helper()
	s := sqlstoretest.SQLite(t, sqlstore.Options{})
	return s
}

// attempt is one Apply call as the probe saw it.
type attempt struct {
	kind       connector.OpKind
	user       string
	start, end time.Time
	err        error
}

// probe is a memconn app that remembers every Apply attempt, failed or not, and can be told
// to refuse every call until further notice.
type probe struct {
	*memconn.App
	mu       sync.Mutex
	attempts []attempt
	refuse   error
	// hold, when set, runs at the start of every call with the call's number (from 1) and may
	// block it, so a test can keep a request in flight.
	hold  func(n int)
	calls int
}

func newProbe(traits connector.Traits) *probe { return &probe{App: memconn.New(traits)} }

func (p *probe) Apply(ctx context.Context, op connector.Op) (connector.Account, error) {
	start := time.Now()
	p.mu.Lock()
	refuse, hold := p.refuse, p.hold
	p.calls++
	n := p.calls
	p.mu.Unlock()
	if hold != nil {
		hold(n)
	}
	var acc connector.Account
	err := refuse
	if err == nil {
		acc, err = p.App.Apply(ctx, op)
	}
	p.mu.Lock()
	p.attempts = append(p.attempts, attempt{kind: op.Kind, user: op.Account.UserName, start: start, end: time.Now(), err: err})
	p.mu.Unlock()
	return acc, err
}

func (p *probe) setRefuse(err error) {
	p.mu.Lock()
	p.refuse = err
	p.mu.Unlock()
}

func (p *probe) seen() []attempt {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]attempt(nil), p.attempts...)
}

var probeTraits = connector.Traits{CanDisable: true, MembershipKinds: []string{"group"}, Concurrency: 4}

// createSteps are creates for n users of app, person IDs p-<prefix>-<i>.
func createSteps(app, prefix string, n int) []provision.Step {
	out := make([]provision.Step, n)
	for i := range out {
		id := fmt.Sprintf("p-%s-%04d", prefix, i)
		user := fmt.Sprintf("%s%04d", prefix, i)
		out[i] = provision.Step{Op: connector.Op{Kind: connector.OpCreate, App: app, PersonID: id,
			Account: connector.Account{ExternalID: id, UserName: user, Email: user + "@example.com", Active: true},
			Reason:  "rule everyone"}}
	}
	return out
}

func planOf(steps ...[]provision.Step) provision.Plan {
	byApp := map[string]int{}
	var p provision.Plan
	for _, ss := range steps {
		for _, st := range ss {
			i, ok := byApp[st.App]
			if !ok {
				i = len(p.Apps)
				byApp[st.App] = i
				p.Apps = append(p.Apps, provision.AppPlan{App: st.App})
			}
			p.Apps[i].Ops = append(p.Apps[i].Ops, st)
		}
	}
	return p
}

func mustEnqueuePlan(t testing.TB, s *sqlstore.Store, p provision.Plan) []directory.OutboxOp {
	t.Helper()
	ops, err := provision.Enqueue(context.Background(), s, p)
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	return ops
}

// runUntilSettled runs x until every op in ids is done, failed or dead, or its app is
// quarantined; it fails the test after limit.
func runUntilSettled(t testing.TB, s *sqlstore.Store, x *provision.Executor, ids []int64, limit time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	err := x.RunUntil(ctx, provision.UntilSettled(s, ids, 0))
	if err != nil {
		t.Fatalf("RunUntil: %v", err)
	}
}

func idsOf(ops []directory.OutboxOp) []int64 {
	out := make([]int64, len(ops))
	for i, o := range ops {
		out[i] = o.ID
	}
	return out
}

func statesOf(t testing.TB, s *sqlstore.Store, ids []int64) map[directory.OpState]int {
	t.Helper()
	ops, err := s.ListOps(context.Background(), directory.OutboxFilter{IDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	out := map[directory.OpState]int{}
	for _, o := range ops {
		out[o.State]++
	}
	return out
}

func mustListOps(t testing.TB, s *sqlstore.Store, ids []int64) []directory.OutboxOp {
	t.Helper()
	ops, err := s.ListOps(context.Background(), directory.OutboxFilter{IDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	return ops
}
