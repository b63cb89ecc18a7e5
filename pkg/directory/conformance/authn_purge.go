package conformance

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

func authnPurgeTests() []subTest {
	return []subTest{
		{"AuthnPurgeRemovesOnlyDeadRows", testAuthnPurgeRemovesOnlyDeadRows},
		{"AuthnPurgeNeedsNow", testAuthnPurgeNeedsNow},
	}
}

func testAuthnPurgeRemovesOnlyDeadRows(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	idleBefore, throttleBefore := now.Add(-30*time.Minute), now.Add(-12*time.Hour)
	p1 := mustCreatePerson(t, ctx, s, newPerson("E001"))
	p2 := mustCreatePerson(t, ctx, s, newPerson("E002"))
	p3 := mustCreatePerson(t, ctx, s, newPerson("E003"))

	session := func(token, stage string, lastSeen, expires time.Time) {
		t.Helper()
		if _, err := s.CreateAuthSession(ctx, directory.AuthSession{TokenHash: hashOf(token), PersonID: p1.ID, Stage: stage,
			Methods: []string{"pwd"}, AuthnAt: lastSeen, LastSeen: lastSeen, ExpiresAt: expires}); err != nil {
			t.Fatal(err)
		}
	}
	session("expired", directory.StageSigned, now.Add(-time.Minute), now)
	session("idle", directory.StageSigned, idleBefore, now.Add(time.Hour))
	session("pending-expired", directory.StageMFA, now.Add(-20*time.Minute), now.Add(-10*time.Minute))
	session("live", directory.StageSigned, idleBefore.Add(time.Second), now.Add(time.Second))
	session("pending-live", directory.StageMFA, now.Add(-time.Minute), now.Add(9*time.Minute))

	link := func(token string, p identity.Person, expires time.Time) directory.Activation {
		t.Helper()
		a, err := s.CreateActivation(ctx, directory.Activation{TokenHash: hashOf(token), PersonID: p.ID, ExpiresAt: expires})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	link("expired", p1, now)
	used := link("used", p2, now.Add(time.Hour))
	if _, err := s.UseActivation(ctx, used.ID, now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	link("live", p3, now.Add(time.Second))

	for _, st := range []directory.ThrottleState{
		{Key: "ip:stale", Failures: 9, LastFailure: throttleBefore, LockedUntil: throttleBefore.Add(15 * time.Minute)},
		{Key: "ip:recent", Failures: 9, LastFailure: throttleBefore.Add(time.Second), LockedUntil: throttleBefore},
		// Old failures but still locked (an operator's long max_delay): the lock must hold.
		{Key: "account:locked", Failures: 9, LastFailure: throttleBefore.Add(-time.Hour), LockedUntil: now.Add(time.Minute)},
	} {
		if err := s.PutThrottleState(ctx, st); err != nil {
			t.Fatal(err)
		}
	}

	mustPark(t, s, directory.ParkedSAMLRequest{KeyHash: hashOf("old"), Request: "old", ExpiresAt: now}, now.Add(-10*time.Minute), 0)
	mustPark(t, s, directory.ParkedSAMLRequest{KeyHash: hashOf("new"), Request: "new", ExpiresAt: now.Add(time.Second)}, now, 0)
	headBefore := int64(auditCount(t, ctx, s))

	got, err := s.PurgeAuthn(ctx, directory.AuthnPurge{Now: now, IdleBefore: idleBefore, ThrottleBefore: throttleBefore})
	if err != nil {
		t.Fatalf("PurgeAuthn: %v", err)
	}
	want := directory.AuthnPurged{Sessions: 3, Activations: 2, Throttle: 1, SAMLRequests: 1}
	if got != want {
		t.Errorf("PurgeAuthn = %+v, want %+v", got, want)
	}
	for _, tok := range []string{"expired", "idle", "pending-expired"} {
		if _, err := s.GetAuthSession(ctx, hashOf(tok)); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("dead session %q survived the purge: %v", tok, err)
		}
	}
	for _, tok := range []string{"live", "pending-live"} {
		if _, err := s.GetAuthSession(ctx, hashOf(tok)); err != nil {
			t.Errorf("live session %q: %v", tok, err)
		}
	}
	for _, tok := range []string{"expired", "used"} {
		if _, err := s.GetActivation(ctx, hashOf(tok)); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("dead activation link %q survived the purge: %v", tok, err)
		}
	}
	if _, err := s.GetActivation(ctx, hashOf("live")); err != nil {
		t.Errorf("live activation link: %v", err)
	}
	states, err := s.ThrottleStates(ctx, []string{"ip:stale", "ip:recent", "account:locked"})
	if err != nil {
		t.Fatal(err)
	}
	if keys := pluck(states, func(st directory.ThrottleState) string { return st.Key }); !sameSet(keys, []string{"ip:recent", "account:locked"}) {
		t.Errorf("throttle counters after the purge: %v, want ip:recent and account:locked", keys)
	}
	if _, err := s.ParkedSAMLRequest(ctx, hashOf("new"), now); err != nil {
		t.Errorf("live parked request: %v", err)
	}
	if _, err := s.TakeParkedSAMLRequest(ctx, hashOf("old"), now.Add(-time.Hour)); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("expired parked request survived the purge: %v", err)
	}

	// One summary record for the run, with the counts and no identifiers.
	recs := auditSince(t, s, headBefore)
	if len(recs) != 1 || recs[0].Action != "authn.purge" {
		t.Fatalf("audit records of the purge: %+v, want one authn.purge", recs)
	}
	var after struct {
		Sessions     int `json:"sessions"`
		Activations  int `json:"activations"`
		Throttle     int `json:"throttle"`
		SAMLRequests int `json:"saml_requests"`
	}
	if err := json.Unmarshal(recs[0].After, &after); err != nil || after.Sessions != 3 || after.Activations != 2 || after.Throttle != 1 || after.SAMLRequests != 1 {
		t.Errorf("authn.purge record = %s (%v), want the counts", recs[0].After, err)
	}

	// Nothing left to remove: no rows go and the audit log does not grow.
	head := auditCount(t, ctx, s)
	again, err := s.PurgeAuthn(ctx, directory.AuthnPurge{Now: now, IdleBefore: idleBefore, ThrottleBefore: throttleBefore})
	if err != nil || again != (directory.AuthnPurged{}) {
		t.Errorf("second PurgeAuthn = %+v, %v; want nothing removed", again, err)
	}
	if n := auditCount(t, ctx, s); n != head {
		t.Errorf("an empty purge appended %d audit records, want none", n-head)
	}
}

func testAuthnPurgeNeedsNow(t *testing.T, s directory.Store) {
	if _, err := s.PurgeAuthn(testContext(t), directory.AuthnPurge{}); !errors.Is(err, identity.ErrInvalid) {
		t.Errorf("PurgeAuthn without Now: %v, want ErrInvalid (a zero time would purge nothing or everything)", err)
	}
}

func auditSince(t *testing.T, s directory.Store, seq int64) []identity.AuditRecord {
	t.Helper()
	recs, err := s.AuditRecords(testContext(t), seq, 100000)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}
