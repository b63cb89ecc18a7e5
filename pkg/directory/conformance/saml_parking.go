package conformance

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

func samlParkingTests() []subTest {
	return []subTest{
		{"SAMLParkingTakeOnce", testSAMLParkingTakeOnce},
		{"SAMLParkingExpiry", testSAMLParkingExpiry},
		{"SAMLParkingLimit", testSAMLParkingLimit},
		{"SAMLParkingInvalid", testSAMLParkingInvalid},
		{"SAMLParkingConcurrentTakes", testSAMLParkingConcurrentTakes},
	}
}

var parkedAt = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func parked(key, request string, ttl time.Duration) directory.ParkedSAMLRequest {
	return directory.ParkedSAMLRequest{KeyHash: hashOf(key), Request: request, ExpiresAt: parkedAt.Add(ttl)}
}

func mustPark(t *testing.T, s directory.Store, r directory.ParkedSAMLRequest, now time.Time, limit int) {
	t.Helper()
	if err := s.ParkSAMLRequest(testContext(t), r, now, limit); err != nil {
		t.Fatalf("ParkSAMLRequest: %v", err)
	}
}

func testSAMLParkingTakeOnce(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	// Bytes a signature covers: percent-escapes, '+' and a newline must come back unchanged.
	request := `{"method":"GET","raw_query":"SAMLRequest=fZJd%2Bb+x&Signature=a%2F%3D%0A"}` + "\n"
	mustPark(t, s, parked("k1", request, 10*time.Minute), parkedAt, 0)
	if err := s.ParkSAMLRequest(ctx, parked("k1", "{}", time.Minute), parkedAt, 0); !errors.Is(err, identity.ErrConflict) {
		t.Errorf("parking under a key hash already parked: %v, want ErrConflict", err)
	}
	peek, err := s.ParkedSAMLRequest(ctx, hashOf("k1"), parkedAt.Add(time.Minute))
	if err != nil || peek.Request != request {
		t.Fatalf("ParkedSAMLRequest = %+v, %v", peek, err)
	}
	got, err := s.TakeParkedSAMLRequest(ctx, hashOf("k1"), parkedAt.Add(time.Minute))
	if err != nil {
		t.Fatalf("TakeParkedSAMLRequest: %v", err)
	}
	if got.Request != request || got.KeyHash != hashOf("k1") || !got.ExpiresAt.Equal(parkedAt.Add(10*time.Minute)) {
		t.Errorf("taken = %+v", got)
	}
	if _, err := s.TakeParkedSAMLRequest(ctx, hashOf("k1"), parkedAt.Add(time.Minute)); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("second take: %v, want ErrNotFound (a request resumes once)", err)
	}
	if _, err := s.ParkedSAMLRequest(ctx, hashOf("k1"), parkedAt.Add(time.Minute)); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("read after take: %v, want ErrNotFound", err)
	}
	if _, err := s.TakeParkedSAMLRequest(ctx, hashOf("never"), parkedAt); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("take of an unknown key: %v, want ErrNotFound", err)
	}
}

func testSAMLParkingExpiry(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	mustPark(t, s, parked("k1", "one", 10*time.Minute), parkedAt, 0)
	end := parkedAt.Add(10 * time.Minute)
	if _, err := s.ParkedSAMLRequest(ctx, hashOf("k1"), end.Add(-time.Microsecond)); err != nil {
		t.Errorf("read just before expiry: %v", err)
	}
	if _, err := s.ParkedSAMLRequest(ctx, hashOf("k1"), end); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("read at expiry: %v, want ErrNotFound", err)
	}
	if _, err := s.TakeParkedSAMLRequest(ctx, hashOf("k1"), end); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("take at expiry: %v, want ErrNotFound", err)
	}
	// The expired take removed it: even a clock set back finds nothing.
	if _, err := s.TakeParkedSAMLRequest(ctx, hashOf("k1"), parkedAt); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("take after an expired take: %v, want ErrNotFound", err)
	}
}

func testSAMLParkingLimit(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	mustPark(t, s, parked("a", "a", 10*time.Minute), parkedAt, 2)
	mustPark(t, s, parked("b", "b", 10*time.Minute), parkedAt, 2)
	if err := s.ParkSAMLRequest(ctx, parked("c", "c", 10*time.Minute), parkedAt, 2); !errors.Is(err, directory.ErrParkingFull) {
		t.Fatalf("park beyond the limit: %v, want ErrParkingFull", err)
	}
	// Once they expire, the expired ones make room.
	later := parkedAt.Add(11 * time.Minute)
	mustPark(t, s, directory.ParkedSAMLRequest{KeyHash: hashOf("d"), Request: "d", ExpiresAt: later.Add(10 * time.Minute)}, later, 2)
	mustPark(t, s, directory.ParkedSAMLRequest{KeyHash: hashOf("e"), Request: "e", ExpiresAt: later.Add(10 * time.Minute)}, later, 2)
	if err := s.ParkSAMLRequest(ctx, directory.ParkedSAMLRequest{KeyHash: hashOf("f"), Request: "f", ExpiresAt: later.Add(10 * time.Minute)}, later, 2); !errors.Is(err, directory.ErrParkingFull) {
		t.Errorf("park into a store full of live requests: %v, want ErrParkingFull", err)
	}
	for _, k := range []string{"d", "e"} {
		if _, err := s.ParkedSAMLRequest(ctx, hashOf(k), later); err != nil {
			t.Errorf("live request %s: %v", k, err)
		}
	}
}

func testSAMLParkingInvalid(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	for name, r := range map[string]directory.ParkedSAMLRequest{
		"key not a hash": {KeyHash: "the-key-itself", Request: "x", ExpiresAt: parkedAt.Add(time.Minute)},
		"empty request":  {KeyHash: hashOf("k"), ExpiresAt: parkedAt.Add(time.Minute)},
		"oversized":      {KeyHash: hashOf("k"), Request: strings.Repeat("x", directory.MaxParkedSAMLRequest+1), ExpiresAt: parkedAt.Add(time.Minute)},
		"no expiry":      {KeyHash: hashOf("k"), Request: "x"},
	} {
		if err := s.ParkSAMLRequest(ctx, r, parkedAt, 0); !errors.Is(err, identity.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

// Two replicas resuming the same sign-in at once: exactly one gets the request.
func testSAMLParkingConcurrentTakes(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	const keys, racers = 10, 2
	for i := range keys {
		mustPark(t, s, parked(string(rune('a'+i)), "r", 10*time.Minute), parkedAt, 0)
	}
	var mu sync.Mutex
	won := map[string]int{}
	var wg sync.WaitGroup
	for i := range keys {
		k := string(rune('a' + i))
		start := make(chan struct{})
		for range racers {
			wg.Go(func() {
				<-start
				_, err := s.TakeParkedSAMLRequest(ctx, hashOf(k), parkedAt.Add(time.Minute))
				switch {
				case err == nil:
					mu.Lock()
					won[k]++
					mu.Unlock()
				case !errors.Is(err, identity.ErrNotFound):
					t.Errorf("take %s: %v", k, err)
				}
			})
		}
		close(start)
	}
	wg.Wait()
	for i := range keys {
		if k := string(rune('a' + i)); won[k] != 1 {
			t.Errorf("request %s was taken %d times, want exactly once", k, won[k])
		}
	}
}
