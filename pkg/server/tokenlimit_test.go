package server

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestTokenLimiter(t *testing.T) {
	now := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	l := NewTokenLimiter(1, func() time.Time { return now })
	for i := range 2 { // the burst: twice the rate
		if ok, _ := l.Allow("api:a"); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := l.Allow("api:a")
	if ok || wait <= 0 || wait > time.Second {
		t.Fatalf("third request at once: %v, wait %v; want refused, retry within a second", ok, wait)
	}
	if ok, _ := l.Allow("api:b"); !ok {
		t.Error("another token shares the first one's bucket")
	}
	now = now.Add(wait)
	if ok, _ := l.Allow("api:a"); !ok {
		t.Errorf("refused again after waiting the %v it was told", wait)
	}
	if ok, _ := (*TokenLimiter)(nil).Allow("x"); !ok || NewTokenLimiter(0, nil) != nil || NewTokenLimiter(-1, nil) != nil {
		t.Error("no rate configured should mean no limit")
	}
	if got := retryAfter(1500 * time.Millisecond); got != "2" {
		t.Errorf("retryAfter(1.5s) = %s; want whole seconds rounded up", got)
	}
}

// Over its rate, a SCIM token is answered 429 with Retry-After and a SCIM error body; other
// tokens go on.
func TestSCIMTokenOverItsRate(t *testing.T) {
	frozen := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	e := newSCIMEnvWith(t, func(c *SCIMConfig) { c.Limits = NewTokenLimiter(1, func() time.Time { return frozen }) })
	var last int
	var body map[string]any
	for range 3 {
		last, body = e.do(t, scimReq{method: "GET", path: "/Users"})
	}
	detail, _ := body["detail"].(string)
	if last != http.StatusTooManyRequests || body["status"] != "429" || !strings.Contains(detail, "workday") || e.header.Get("Retry-After") != "1" {
		t.Fatalf("third request at once: HTTP %d %v, Retry-After %q; want 429 with a SCIM error naming the token and 1", last, body, e.header.Get("Retry-After"))
	}
}

// Over its rate, an API token is answered 429 with Retry-After and a problem naming the token;
// another token's requests go on.
func TestAPITokenOverItsRate(t *testing.T) {
	frozen := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	e := newAPIEnvWith(t, func(c *AdminAPIConfig) { c.Limits = NewTokenLimiter(1, func() time.Time { return frozen }) })
	var r apiResp
	for range 3 {
		r = e.do(t, "GET", "/api/v1/org/tree", "", e.tokens["auditor"])
	}
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "1" || !strings.Contains(string(r.body), "token auditor is over its request rate") {
		t.Fatalf("third request at once: HTTP %d, Retry-After %q, %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	if r := e.do(t, "GET", "/api/v1/org/tree", "", e.tokens["it"]); r.status != http.StatusOK {
		t.Errorf("another token: HTTP %d; want 200", r.status)
	}
}
