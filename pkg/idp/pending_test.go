package idp

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestPendingStore(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	s := newPendingStore(10*time.Minute, 2)
	a, err := s.put(pending{Method: "GET", RawQuery: "SAMLRequest=a", ReceivedAt: t0}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.get(a, t0.Add(9*time.Minute)); !ok {
		t.Error("a parked request is gone before its TTL")
	}
	if p, ok := s.take(a, t0.Add(9*time.Minute)); !ok || p.RawQuery != "SAMLRequest=a" {
		t.Errorf("take = %+v, %v", p, ok)
	}
	if _, ok := s.take(a, t0.Add(9*time.Minute)); ok {
		t.Error("a parked request resumed twice")
	}

	b, _ := s.put(pending{Method: "POST", Form: url.Values{"SAMLRequest": {"b"}}, ReceivedAt: t0}, t0)
	if _, ok := s.get(b, t0.Add(10*time.Minute)); ok {
		t.Error("a parked request outlived its TTL")
	}
	// Full: the expired ones make room; live ones do not.
	s.put(pending{ReceivedAt: t0}, t0)
	s.put(pending{ReceivedAt: t0}, t0)
	if _, err := s.put(pending{ReceivedAt: t0.Add(11 * time.Minute)}, t0.Add(11*time.Minute)); err != nil {
		t.Errorf("put after the others expired: %v", err)
	}
	s.put(pending{ReceivedAt: t0.Add(11 * time.Minute)}, t0.Add(11*time.Minute))
	if _, err := s.put(pending{ReceivedAt: t0.Add(11 * time.Minute)}, t0.Add(11*time.Minute)); !errors.Is(err, errTooManyPending) {
		t.Errorf("put into a full store of live requests: %v, want errTooManyPending", err)
	}
	if _, err := newPendingStore(time.Minute, 10).put(pending{RawQuery: strings.Repeat("x", maxPendingSize+1)}, t0); !errors.Is(err, errPendingTooBig) {
		t.Errorf("oversized request: %v, want errPendingTooBig", err)
	}
}
