package metrics_test

import (
	"context"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/authn"
	"github.com/tenure-id/tenure/pkg/authn/authntest"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/metrics"
	"github.com/tenure-id/tenure/pkg/server"
)

// Wrong passwords count as rejected until the throttle locks the login; then attempts count
// as throttled, refused unchecked. The login typed appears in no label.
func TestLoginSeries(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := openStore(t, sqlstore.Options{Clock: clock})
	reg := metrics.New(metrics.Options{Clock: clock})
	m, err := authn.New(authn.Options{Store: s, Clock: clock, Observer: reg, Hash: authn.DefaultHashParams,
		Throttle: authn.ThrottlePolicy{AccountFree: 1, BaseDelay: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Config{DB: s, Auth: m.Handler(), Metrics: reg.Handler(), Observer: reg}))
	t.Cleanup(srv.Close)

	ctx := context.Background()
	c := authntest.NewClient()
	for range 3 {
		p, err := authntest.Get(ctx, c, srv.URL+"/login")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := authntest.Submit(ctx, c, p, "/login", url.Values{"login": {"gilfoyle"}, "password": {"wrong"}}); err != nil {
			t.Fatal(err)
		}
	}
	e := scrape(t, srv.URL, "")
	e.check(t, []series{
		{"tenure_login_attempts_total", map[string]string{"step": "password", "result": "rejected"}, 2},
		{"tenure_login_attempts_total", map[string]string{"step": "password", "result": "throttled"}, 1},
		{"tenure_http_requests_total", map[string]string{"route": "/login", "method": "POST", "code": "4xx"}, 3},
	})
	if _, ok := e.value("tenure_login_attempts_total", map[string]string{"result": "success"}); ok {
		t.Error("a success counted for wrong passwords")
	}
}

// A scheduled LDAP sync moves the run counter by result, the entries read and the last
// duration; only a success moves the last-success time, which comes from the registry's clock.
func TestLDAPSyncSeries(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	reg := metrics.New(metrics.Options{Clock: func() time.Time { return now }})
	for _, run := range []struct {
		source string
		read   int
		took   time.Duration
		err    error
	}{
		{"corp", 120, 2 * time.Second, nil},
		{"corp", 30, 3 * time.Second, context.DeadlineExceeded},
		{"lab", 7, time.Second, nil},
	} {
		reg.LDAPSynced(run.source, run.read, run.took, run.err)
		now = now.Add(time.Minute)
	}
	srv := httptest.NewServer(server.New(server.Config{DB: openStore(t, sqlstore.Options{}), Metrics: reg.Handler()}))
	t.Cleanup(srv.Close)
	start := float64(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).Unix())
	scrape(t, srv.URL, "").check(t, []series{
		{"tenure_ldap_sync_runs_total", map[string]string{"source": "corp", "result": "success"}, 1},
		{"tenure_ldap_sync_runs_total", map[string]string{"source": "corp", "result": "error"}, 1},
		{"tenure_ldap_sync_entries_read_total", map[string]string{"source": "corp"}, 150},
		{"tenure_ldap_sync_last_duration_seconds", map[string]string{"source": "corp"}, 3},
		{"tenure_ldap_sync_last_success_timestamp_seconds", map[string]string{"source": "corp"}, start},
		{"tenure_ldap_sync_last_success_timestamp_seconds", map[string]string{"source": "lab"}, start + 120},
	})
}
