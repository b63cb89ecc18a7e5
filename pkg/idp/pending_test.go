package idp

import (
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore/sqlstoretest"
	"github.com/tenure-id/tenure/pkg/testenv"
)

func testParking(t *testing.T) *sqlstore.Store {
	t.Helper()
	s := sqlstoretest.SQLite(t, sqlstore.Options{})
	return s
}

func TestPendingStore(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	db := testParking(t)
	s := newPendingStore(db, 10*time.Minute, 2)
	// A signed HTTP-Redirect request: the query must come back byte for byte.
	signedQuery := "SAMLRequest=fZJd%2Bb&RelayState=a+b&SigAlg=http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256&Signature=c2ln%2Bbg%3D%3D"
	a, err := s.put(ctx, pending{Method: "GET", RawQuery: signedQuery, ReceivedAt: t0}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ParkedSAMLRequest(ctx, a, t0); err == nil {
		t.Error("the resume key itself finds the row: only its hash may be stored")
	}
	if _, ok, err := s.get(ctx, a, t0.Add(9*time.Minute)); !ok || err != nil {
		t.Errorf("a parked request is gone before its TTL: %v", err)
	}
	p, ok, err := s.take(ctx, a, t0.Add(9*time.Minute))
	if !ok || err != nil || p.RawQuery != signedQuery || p.Method != "GET" || !p.ReceivedAt.Equal(t0) || !p.signed() {
		t.Errorf("take = %+v, %v, %v", p, ok, err)
	}
	if _, ok, _ := s.take(ctx, a, t0.Add(9*time.Minute)); ok {
		t.Error("a parked request resumed twice")
	}

	form := url.Values{"SAMLRequest": {"PHNhbWxwOkF1dGhuUmVxdWVzdD4="}, "RelayState": {"r&x=1"}}
	b, _ := s.put(ctx, pending{Method: "POST", Form: form, ReceivedAt: t0}, t0)
	if p, ok, _ := s.get(ctx, b, t0); !ok || !reflect.DeepEqual(p.Form, form) {
		t.Errorf("posted form after parking = %v, %v; want %v", p.Form, ok, form)
	}
	if _, ok, _ := s.get(ctx, b, t0.Add(10*time.Minute)); ok {
		t.Error("a parked request outlived its TTL")
	}
	// The TTL runs from when the SP's request arrived, not from a later parking.
	c, _ := s.put(ctx, pending{Method: "GET", RawQuery: "SAMLRequest=c", ReceivedAt: t0}, t0.Add(8*time.Minute))
	if _, ok, _ := s.take(ctx, c, t0.Add(10*time.Minute)); ok {
		t.Error("a request parked again got a fresh TTL")
	}
	// Full: the expired ones make room; live ones do not.
	later := t0.Add(11 * time.Minute)
	for range 2 {
		if _, err := s.put(ctx, pending{Method: "GET", RawQuery: "x", ReceivedAt: later}, later); err != nil {
			t.Errorf("put after the others expired: %v", err)
		}
	}
	if _, err := s.put(ctx, pending{Method: "GET", RawQuery: "x", ReceivedAt: later}, later); !errors.Is(err, errTooManyPending) {
		t.Errorf("put into a full store of live requests: %v, want errTooManyPending", err)
	}
	if _, err := s.put(ctx, pending{RawQuery: strings.Repeat("x", maxPendingSize+1)}, t0); !errors.Is(err, errPendingTooBig) {
		t.Errorf("oversized request: %v, want errPendingTooBig", err)
	}
}

// BenchmarkParkAndTake is the database cost one SP-initiated sign-in adds for its detour
// through /login: one park, one read and one take.
func BenchmarkParkAndTake(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			ctx := context.Background()
			url := "sqlite://" + filepath.Join(b.TempDir(), "t.db")
			if backend == "postgres" {
				url = testenv.SharedPostgres(b).NewDatabase(b)
			}
			db, err := sqlstore.Open(ctx, url, sqlstore.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			if err := db.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			s := newPendingStore(db, 10*time.Minute, defaultMaxPending)
			p := pending{Method: "GET", RawQuery: "SAMLRequest=" + strings.Repeat("x", 2000), ReceivedAt: time.Now()}
			b.ResetTimer()
			for b.Loop() {
				now := time.Now()
				key, err := s.put(ctx, p, now)
				if err != nil {
					b.Fatal(err)
				}
				if _, ok, err := s.get(ctx, key, now); !ok || err != nil {
					b.Fatal("get", err)
				}
				if _, ok, err := s.take(ctx, key, now); !ok || err != nil {
					b.Fatal("take", err)
				}
			}
		})
	}
}
