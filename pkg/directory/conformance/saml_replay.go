package conformance

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

func samlReplayTests() []subTest {
	return []subTest{
		{"SAMLReplayFirstWins", testSAMLReplayFirstWins},
		{"SAMLReplayConcurrentMarks", testSAMLReplayConcurrentMarks},
		{"SAMLReplayExpiry", testSAMLReplayExpiry},
		{"SAMLReplayPurge", testSAMLReplayPurge},
		{"SAMLReplayInvalid", testSAMLReplayInvalid},
	}
}

func testSAMLReplayFirstWins(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	until := parkedAt.Add(90 * time.Second)
	if err := s.MarkSAMLRequest(ctx, hashOf("AuthnRequest:sp id-1"), until, parkedAt); err != nil {
		t.Fatalf("first mark: %v", err)
	}
	if err := s.MarkSAMLRequest(ctx, hashOf("AuthnRequest:sp id-1"), until, parkedAt.Add(time.Second)); !errors.Is(err, identity.ErrConflict) {
		t.Errorf("second mark of the same request: %v, want ErrConflict (a request is answered once)", err)
	}
	for _, other := range []string{"AuthnRequest:sp id-2", "AuthnRequest:other-sp id-1"} {
		if err := s.MarkSAMLRequest(ctx, hashOf(other), until, parkedAt); err != nil {
			t.Errorf("mark of %q: %v, want success (another request)", other, err)
		}
	}
}

func testSAMLReplayConcurrentMarks(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	const racers = 8
	errs := make([]error, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			<-start
			errs[i] = s.MarkSAMLRequest(ctx, hashOf("AuthnRequest:sp raced"), parkedAt.Add(time.Minute), parkedAt)
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, identity.ErrConflict):
			t.Errorf("racing mark: %v, want nil or ErrConflict", err)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d racing marks succeeded, want exactly 1", won, racers)
	}
}

func testSAMLReplayExpiry(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	key := hashOf("AuthnRequest:sp expiring")
	if err := s.MarkSAMLRequest(ctx, key, parkedAt.Add(time.Minute), parkedAt); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSAMLRequest(ctx, key, parkedAt.Add(2*time.Minute), parkedAt.Add(59*time.Second)); !errors.Is(err, identity.ErrConflict) {
		t.Errorf("mark just before expiry: %v, want ErrConflict", err)
	}
	if err := s.MarkSAMLRequest(ctx, key, parkedAt.Add(3*time.Minute), parkedAt.Add(time.Minute)); err != nil {
		t.Errorf("mark at expiry: %v, want success (the old mark is dead)", err)
	}
	if err := s.MarkSAMLRequest(ctx, key, parkedAt.Add(3*time.Minute), parkedAt.Add(2*time.Minute)); !errors.Is(err, identity.ErrConflict) {
		t.Errorf("mark after the renewed mark: %v, want ErrConflict", err)
	}
}

func testSAMLReplayPurge(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	for _, m := range []struct {
		key string
		ttl time.Duration
	}{{"dead-1", time.Minute}, {"dead-2", 2 * time.Minute}, {"live", 10 * time.Minute}} {
		if err := s.MarkSAMLRequest(ctx, hashOf(m.key), parkedAt.Add(m.ttl), parkedAt); err != nil {
			t.Fatal(err)
		}
	}
	before := auditSince(t, s, 0)
	n, err := s.PurgeAuthn(ctx, directory.AuthnPurge{Now: parkedAt.Add(5 * time.Minute)})
	if err != nil {
		t.Fatalf("PurgeAuthn: %v", err)
	}
	if n.SAMLReplays != 2 || n.Total() != 2 {
		t.Errorf("purged %+v, want the 2 expired replay marks only", n)
	}
	if recs := auditSince(t, s, 0); len(recs) != len(before) {
		t.Errorf("purging replay marks only wrote %d audit records, want none (marks are not audited)", len(recs)-len(before))
	}
	if err := s.MarkSAMLRequest(ctx, hashOf("live"), parkedAt.Add(time.Hour), parkedAt.Add(5*time.Minute)); !errors.Is(err, identity.ErrConflict) {
		t.Errorf("live mark after purge: %v, want ErrConflict (the purge must spare it)", err)
	}
}

func testSAMLReplayInvalid(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	for name, err := range map[string]error{
		"short hash":  s.MarkSAMLRequest(ctx, "abc", parkedAt.Add(time.Minute), parkedAt),
		"no hex":      s.MarkSAMLRequest(ctx, "AuthnRequest:sp id-1-AuthnRequest:sp id-1-AuthnRequest:sp id-1-xx", parkedAt.Add(time.Minute), parkedAt),
		"zero expiry": s.MarkSAMLRequest(ctx, hashOf("x"), time.Time{}, parkedAt),
	} {
		if !errors.Is(err, identity.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}
