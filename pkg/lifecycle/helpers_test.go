package lifecycle

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/hr"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.RunMain(m)) }

// clock is a settable clock shared by the store and the engine.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

var day1 = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

// backends runs fn against SQLite and PostgreSQL, each with a fresh store on its own clock.
func backends(t *testing.T, fn func(t *testing.T, s directory.Store, c *clock)) {
	t.Helper()
	open := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "t.db") },
		"postgres": func(t *testing.T) string { return testenv.SharedPostgres(t).NewDatabase(t) },
	}
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			c := &clock{t: day1}
			fn(t, openStore(t, open[name](t), c), c)
		})
	}
}

func openStore(t testing.TB, url string, c *clock) *sqlstore.Store {
	t.Helper()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, url, sqlstore.Options{Clock: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

func newEngine(s directory.Store, c *clock) *Engine {
	return New(s, Options{Clock: c.Now, Naming: Naming{Domain: "piedpiper.test"}, LeaveTime: 17 * time.Hour})
}

func ctxAs(actor string) context.Context { return audit.WithActor(context.Background(), actor) }

func loadRoster(t *testing.T, name string) hr.Roster {
	t.Helper()
	f, err := os.Open("../../testdata/hr/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := hr.Parse(f, hr.CSV, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func person(t *testing.T, s directory.Store, emp string) identity.Person {
	t.Helper()
	p, err := s.LookupPerson(context.Background(), emp)
	if err != nil {
		t.Fatalf("LookupPerson(%s): %v", emp, err)
	}
	return p
}

func events(t *testing.T, s directory.Store, f directory.EventFilter) []identity.Event {
	t.Helper()
	evs, err := s.ListEvents(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func auditActions(t *testing.T, s directory.Store) map[string][]identity.AuditRecord {
	t.Helper()
	recs, err := s.AuditRecords(context.Background(), 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]identity.AuditRecord{}
	for _, r := range recs {
		out[r.Action] = append(out[r.Action], r)
	}
	return out
}

func hrEvent(typ identity.EventType, emp string, at time.Time, d hr.Data) identity.Event {
	return identity.Event{Type: typ, EmployeeID: emp, EffectiveAt: at, Source: "test", Payload: mustJSON(d)}
}
