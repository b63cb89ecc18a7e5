package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/authn"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore/sqlstoretest"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/testenv"
)

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// seedSignInRows stores, for one new person, a session and a parked SAML request that are dead
// at now and one of each that is alive.
func seedSignInRows(t *testing.T, s *sqlstore.Store, now time.Time) {
	t.Helper()
	ctx := context.Background()
	p, err := s.CreatePerson(ctx, identity.Person{EmployeeID: "E900", LegalFirstName: "Pat", LegalLastName: "Purge",
		EmploymentType: identity.Employee, Status: identity.Active})
	if err != nil {
		t.Fatal(err)
	}
	for token, times := range map[string][2]time.Time{
		"dead": {now.Add(-3 * time.Hour), now.Add(-2 * time.Hour)},
		"live": {now.Add(-5 * time.Minute), now.Add(time.Hour)},
	} {
		if _, err := s.CreateAuthSession(ctx, directory.AuthSession{TokenHash: sha(token), PersonID: p.ID, Stage: directory.StageSigned,
			Methods: []string{"pwd", "totp"}, AuthnAt: times[0], LastSeen: times[0], ExpiresAt: times[1]}); err != nil {
			t.Fatal(err)
		}
	}
	for key, expires := range map[string]time.Time{"dead": now.Add(-time.Hour), "live": now.Add(5 * time.Minute)} {
		if err := s.ParkSAMLRequest(ctx, directory.ParkedSAMLRequest{KeyHash: sha(key), Request: "{}", ExpiresAt: expires},
			expires.Add(-10*time.Minute), 0); err != nil {
			t.Fatal(err)
		}
	}
}

// The leader's purge job decides what is dead by the clock it is given: with the clock stopped
// years before the real one, the dead rows go, the live ones stay (the real clock would have
// taken them too), and the run logs its counts.
func TestAuthnPurgeJobUsesTheInjectedClock(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2020, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := sqlstoretest.SQLite(t, sqlstore.Options{Clock: clock})
	seedSignInRows(t, s, now)
	m, err := authn.New(authn.Options{Store: s, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	var logs testenv.SyncBuffer
	stop := startAuthnPurge(ctx, m, time.Hour, slog.New(slog.NewTextHandler(&logs, nil)))
	stop() // waits for the run made on becoming leader

	if _, err := s.GetAuthSession(ctx, sha("dead")); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("expired session: %v, want it purged", err)
	}
	if _, err := s.GetAuthSession(ctx, sha("live")); err != nil {
		t.Errorf("live session: %v, want it kept", err)
	}
	if _, err := s.ParkedSAMLRequest(ctx, sha("live"), now); err != nil {
		t.Errorf("live parked request: %v, want it kept", err)
	}
	if _, err := s.TakeParkedSAMLRequest(ctx, sha("dead"), now.Add(-2*time.Hour)); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("expired parked request: %v, want it purged", err)
	}
	if l := logs.String(); !strings.Contains(l, `msg="authn purge" sessions=1 activations=0 throttle=0 saml_requests=1`) {
		t.Errorf("purge log:\n%s\nwant one line with the counts", l)
	}
}

// `tenure serve` runs the purge on the replica holding the scheduler lock as soon as it leads.
func TestServePurgesDeadSignInRows(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "tenure.db")
	if r := run(t, map[string]string{"TENURE_DB": db}, "init"); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	func() {
		s, err := sqlstore.Open(context.Background(), db, sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		seedSignInRows(t, s, time.Now())
	}()
	// Not startServe: it reads the log up to "serving", and the purge may log before that.
	cmd, logs := spawnServe(t, freePort(t), "TENURE_DB="+db)
	waitFor(t, logs, `msg="authn purge" sessions=1 activations=0 throttle=0 saml_requests=1`)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
}

// purgeCalls records the cutoffs an outbox purge was asked for.
type purgeCalls struct {
	mu   sync.Mutex
	cuts []time.Time
}

func (p *purgeCalls) PurgeOps(_ context.Context, before time.Time) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cuts = append(p.cuts, before)
	return 3, nil
}

// The outbox purge runs at once with the cutoff from the injected clock and the retention,
// and not at all when done ops are kept forever.
func TestOutboxPurgeJob(t *testing.T) {
	now := time.Date(2020, 5, 1, 12, 0, 0, 0, time.UTC)
	var calls purgeCalls
	var logs testenv.SyncBuffer
	stop := startOutboxPurge(context.Background(), &calls, 30*24*time.Hour, time.Hour, func() time.Time { return now },
		slog.New(slog.NewTextHandler(&logs, nil)))
	stop() // waits for the first run
	if len(calls.cuts) != 1 || !calls.cuts[0].Equal(now.Add(-30*24*time.Hour)) {
		t.Fatalf("cutoffs %v; want one, 30 days before the injected now", calls.cuts)
	}
	if !strings.Contains(logs.String(), `msg="outbox purge" ops=3`) {
		t.Errorf("log: %s", logs.String())
	}
	var never purgeCalls
	startOutboxPurge(context.Background(), &never, 0, time.Hour, func() time.Time { return now }, slog.New(slog.DiscardHandler))()
	if len(never.cuts) != 0 {
		t.Errorf("retention forever still purged: %v", never.cuts)
	}
}
