package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/authn"
	"github.com/tenure-id/tenure/pkg/authn/authntest"
	"github.com/tenure-id/tenure/pkg/clientip"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore/sqlstoretest"
	"github.com/tenure-id/tenure/pkg/server"
)

// forwardedFor is a visitor's browser arriving through the company's edge, which names it in
// X-Forwarded-For before the reverse proxy in front of Tenure adds its own hop.
type forwardedFor struct{ addr string }

func (f forwardedFor) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.addr)
	return http.DefaultTransport.RoundTrip(r)
}

// Behind a reverse proxy every visitor reaches Tenure from the proxy's address. With the proxy
// trusted, one visitor's guessing locks only that visitor's address; without, it locks out
// everyone behind the proxy.
func TestSignInThrottleBehindAReverseProxy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		proxies []string
		other   int // what another visitor's first wrong password gets
	}{
		{"proxy trusted: each visitor has their own address", []string{"127.0.0.1"}, http.StatusUnauthorized},
		{"proxy not trusted: all visitors share the proxy's address", nil, http.StatusTooManyRequests},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := audit.WithActor(context.Background(), "test")
			now := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
			s := sqlstoretest.SQLite(t, sqlstore.Options{Clock: func() time.Time { return now }})
			m, err := authn.New(authn.Options{Store: s, Clock: func() time.Time { return now },
				Throttle: authn.ThrottlePolicy{AccountFree: 100, IPFree: 2, BaseDelay: time.Minute}})
			if err != nil {
				t.Fatal(err)
			}
			trust, err := clientip.Parse("http.trusted_proxies", tc.proxies)
			if err != nil {
				t.Fatal(err)
			}
			tenure := httptest.NewServer(server.New(server.Config{DB: s, Auth: m.Handler(), Proxies: trust}))
			defer tenure.Close()
			target, _ := url.Parse(tenure.URL)
			proxy := httptest.NewServer(httputil.NewSingleHostReverseProxy(target))
			defer proxy.Close()

			try := func(visitor, login string) int {
				t.Helper()
				c := authntest.NewClient()
				c.Transport = forwardedFor{visitor}
				pg, err := authntest.Get(ctx, c, proxy.URL+"/login")
				if err != nil {
					t.Fatal(err)
				}
				pg, err = authntest.Submit(ctx, c, pg, "/login", url.Values{"login": {login}, "password": {"not the password"}})
				if err != nil {
					t.Fatal(err)
				}
				return pg.Status
			}
			// The third failure from one address locks it (IPFree 2), whatever names it tries.
			for i, name := range []string{"a.guess", "b.guess", "c.guess"} {
				if got := try("203.0.113.1", name); got != http.StatusUnauthorized {
					t.Fatalf("guess %d: HTTP %d, want 401", i+1, got)
				}
			}
			if got := try("203.0.113.1", "d.guess"); got != http.StatusTooManyRequests {
				t.Fatalf("the guessing visitor after the lock: HTTP %d, want 429", got)
			}
			if got := try("198.51.100.20", "monica.hall"); got != tc.other {
				t.Errorf("another visitor: HTTP %d, want %d", got, tc.other)
			}
		})
	}
}
