package scim

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/connector"
)

var errNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func TestParseError(t *testing.T) {
	for _, tc := range []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		kind       error
		detail     string
		retryAfter time.Duration
	}{
		{"RFC uniqueness", 409, nil,
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"409","scimType":"uniqueness","detail":"userName is taken"}`,
			connector.ErrConflict, "uniqueness: userName is taken", 0},
		{"RFC uniqueness sent as 400", 400, nil, `{"status":"400","scimType":"uniqueness","detail":"duplicate"}`,
			connector.ErrConflict, "uniqueness: duplicate", 0},
		{"RFC invalid filter", 400, nil, `{"status":"400","scimType":"invalidFilter","detail":"bad filter"}`,
			connector.ErrInvalid, "invalidFilter: bad filter", 0},
		{"GitHub integer status", 409, nil,
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":409,"scimType":"uniqueness","detail":"User already exists","message":"User already exists","documentation_url":"https://docs.github.com/rest"}`,
			connector.ErrConflict, "uniqueness: User already exists", 0},
		{"GitHub REST message", 422, nil, `{"message":"Validation Failed","documentation_url":"https://docs.github.com"}`,
			connector.ErrInvalid, "Validation Failed", 0},
		{"GitHub primary rate limit", 403, map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1795867290"},
			`{"message":"API rate limit exceeded for user ID 1."}`, connector.ErrRateLimited, "API rate limit exceeded", 90 * time.Second},
		{"GitHub secondary rate limit", 403, map[string]string{"Retry-After": "60"},
			`{"message":"You have exceeded a secondary rate limit."}`, connector.ErrRateLimited, "secondary rate limit", time.Minute},
		{"forbidden", 403, nil, `{"message":"Resource not accessible by personal access token"}`,
			connector.ErrUnauthorized, "not accessible", 0},
		{"unauthorized", 401, nil, `{"status":"401","detail":"Authorization failure."}`, connector.ErrUnauthorized, "Authorization failure", 0},
		{"Slack v1", 409, nil, `{"Errors":{"description":"username_taken","code":409}}`,
			connector.ErrConflict, "username_taken (code 409)", 0},
		{"Slack v1 list", 404, nil, `{"Errors":[{"description":"no_such_user","code":404}]}`,
			connector.ErrNotFound, "no_such_user", 0},
		{"not found", 404, nil, `{"status":"404","detail":"Resource 2819c223 not found."}`, connector.ErrNotFound, "2819c223", 0},
		{"precondition failed", 412, nil, `{"status":"412","detail":"version mismatch"}`, connector.ErrConflict, "version mismatch", 0},
		{"429 with seconds", 429, map[string]string{"Retry-After": "7"}, `{"status":"429","detail":"Too many requests."}`,
			connector.ErrRateLimited, "Too many", 7 * time.Second},
		{"429 without a wait", 429, nil, ``, connector.ErrRateLimited, "Too Many Requests", 0},
		{"server error", 500, nil, `{"status":"500"}`, connector.ErrUnavailable, "Internal Server Error", 0},
		{"unavailable with a wait", 503, map[string]string{"Retry-After": "30"}, `maintenance until noon`,
			connector.ErrUnavailable, "maintenance until noon", 30 * time.Second},
		{"Google shape", 400, nil, `{"error":{"code":400,"message":"Invalid Given/Family Name"}}`,
			connector.ErrInvalid, "Invalid Given/Family Name", 0},
		{"plain text bad request", 400, nil, `bad things`, connector.ErrInvalid, "bad things", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.header {
				h.Set(k, v)
			}
			e := ParseError(tc.status, h, []byte(tc.body), errNow)
			if !errors.Is(e, tc.kind) {
				t.Fatalf("kind %v, want %v (%v)", e.Kind, tc.kind, e)
			}
			if e.Status != tc.status || !strings.Contains(e.Detail, tc.detail) {
				t.Fatalf("status %d detail %q, want %d and %q", e.Status, e.Detail, tc.status, tc.detail)
			}
			if e.RetryAfter != tc.retryAfter {
				t.Fatalf("RetryAfter %v, want %v", e.RetryAfter, tc.retryAfter)
			}
			retry := tc.kind == connector.ErrRateLimited || tc.kind == connector.ErrUnavailable
			if connector.Retryable(e) != retry {
				t.Fatalf("Retryable = %v, want %v", !retry, retry)
			}
		})
	}
}

func TestRetryAfterForms(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header map[string]string
		want   time.Duration
	}{
		{"seconds", map[string]string{"Retry-After": "120"}, 2 * time.Minute},
		{"HTTP date", map[string]string{"Retry-After": errNow.Add(45 * time.Second).Format(http.TimeFormat)}, 45 * time.Second},
		{"RFC 850 date", map[string]string{"Retry-After": errNow.Add(time.Minute).Format(time.RFC850)}, time.Minute},
		{"date in the past", map[string]string{"Retry-After": errNow.Add(-time.Minute).Format(http.TimeFormat)}, 0},
		{"zero", map[string]string{"Retry-After": "0"}, 0},
		{"negative", map[string]string{"Retry-After": "-5"}, 0},
		{"garbage", map[string]string{"Retry-After": "soon"}, 0},
		{"reset when exhausted", map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1795867230"}, 30 * time.Second},
		{"reset while requests remain", map[string]string{"X-RateLimit-Remaining": "12", "X-RateLimit-Reset": "1795867230"}, 0},
		{"Retry-After wins over reset", map[string]string{"Retry-After": "3", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1795867230"}, 3 * time.Second},
		{"none", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.header {
				h.Set(k, v)
			}
			if got := retryAfter(h, errNow); got != tc.want {
				t.Fatalf("retryAfter = %v, want %v", got, tc.want)
			}
		})
	}
}
