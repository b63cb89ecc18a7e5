package metrics_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/lifecycle"
	"github.com/tenure-id/tenure/pkg/metrics"
	"github.com/tenure-id/tenure/pkg/server"
)

// Pushes to the HR webhook show up by result and by what became of their events, and every
// request by its route pattern and status class, never by its raw path.
func TestHRWebhookAndHTTPSeries(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := openStore(t, sqlstore.Options{Clock: clock})
	reg := metrics.New(metrics.Options{Version: "v-test", Clock: clock})
	eng := lifecycle.New(s, lifecycle.Options{Clock: clock, Naming: lifecycle.Naming{Domain: "piedpiper.test"}})
	hook, err := server.NewHRWebhook(server.HRWebhookConfig{Engine: eng, Token: "t0ken", Clock: clock, Observer: reg})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Config{DB: s, HREvents: hook, Metrics: reg.Handler(), Observer: reg}))
	t.Cleanup(srv.Close)

	before := scrape(t, srv.URL, "")
	if _, ok := before.value("tenure_hr_webhook_requests_total", nil); ok {
		t.Fatal("HR webhook series before any push")
	}
	hire := fmt.Sprintf(`{"id": "evt-1", "type": "hire", "employee_id": "PP900", "effective_at": %q,
		"data": {"first_name": "Monica", "last_name": "Hall", "organization": "Pied Piper", "employment_type": "employee"}}`,
		now.Add(-time.Hour).Format(time.RFC3339))
	for _, p := range []struct {
		token, body string
		status      int
	}{
		{"wrong", hire, http.StatusUnauthorized},
		{"t0ken", hire, http.StatusAccepted},
		{"t0ken", hire, http.StatusConflict}, // the same event again: a replay
		{"t0ken", `{"id": `, http.StatusBadRequest},
	} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/hr/events", strings.NewReader(p.body))
		req.Header.Set("Authorization", "Bearer "+p.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != p.status {
			t.Fatalf("push with %q: status %d, want %d", p.token, resp.StatusCode, p.status)
		}
	}
	for _, path := range []string{"/healthz", "/no/such/page/PP900"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	after := scrape(t, srv.URL, "")
	hr := "POST /api/v1/hr/events"
	after.check(t, []series{
		{"tenure_hr_webhook_requests_total", map[string]string{"result": "unauthorized"}, 1},
		{"tenure_hr_webhook_requests_total", map[string]string{"result": "accepted"}, 1},
		{"tenure_hr_webhook_requests_total", map[string]string{"result": "replay"}, 1},
		{"tenure_hr_webhook_requests_total", map[string]string{"result": "invalid"}, 1},
		{"tenure_hr_webhook_events_total", map[string]string{"outcome": "applied"}, 1},
		{"tenure_hr_webhook_events_total", map[string]string{"outcome": "duplicate"}, 1},
		{"tenure_http_requests_total", map[string]string{"route": hr, "method": "POST", "code": "2xx"}, 1},
		{"tenure_http_requests_total", map[string]string{"route": hr, "method": "POST", "code": "4xx"}, 3},
		{"tenure_http_requests_total", map[string]string{"route": "GET /healthz", "method": "GET", "code": "2xx"}, 1},
		{"tenure_http_requests_total", map[string]string{"route": "unmatched", "method": "GET", "code": "4xx"}, 1},
		{"tenure_http_request_duration_seconds", map[string]string{"route": hr, "method": "POST"}, 4},
		{"tenure_build_info", map[string]string{"version": "v-test"}, 1},
	})
	for _, m := range after["tenure_http_requests_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if strings.Contains(l.GetValue(), "PP900") {
				t.Errorf("a label carries a raw path: %s=%q", l.GetName(), l.GetValue())
			}
		}
	}
}

// With a token, /metrics answers only scrapes that present it.
func TestMetricsBearerToken(t *testing.T) {
	reg := metrics.New(metrics.Options{})
	srv := httptest.NewServer(server.New(server.Config{DB: openStore(t, sqlstore.Options{}),
		Metrics: server.BearerOnly("scrape-me", reg.Handler())}))
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		auth string
		want int
	}{
		{"", http.StatusUnauthorized},
		{"Bearer wrong", http.StatusUnauthorized},
		{"Basic scrape-me", http.StatusUnauthorized},
		{"Bearer scrape-me", http.StatusOK},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/metrics", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("Authorization %q: %d, want %d", tc.auth, resp.StatusCode, tc.want)
		}
	}
	if e := scrape(t, srv.URL, "scrape-me"); len(e) == 0 {
		t.Error("empty exposition")
	}
}
