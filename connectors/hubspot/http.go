package hubspot

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tenure-id/tenure/connectors/internal/jsonapi"
	"github.com/tenure-id/tenure/pkg/connector"
)

// do sends one request to path (with its query) and decodes the answer into out.
func (c *Connector) do(ctx context.Context, method, path string, in, out any) error {
	return jsonapi.Do(ctx, c.http, "hubspot", c.base, method, path, "Bearer "+c.token, in, out, responseError)
}

// responseError reads HubSpot's error body ({"status":"error","message","correlationId",
// "category"}; rate limits say errorType and policyName instead of category).
func responseError(resp *http.Response, body []byte) error {
	var e struct {
		Message       string `json:"message"`
		Category      string `json:"category"`
		ErrorType     string `json:"errorType"`
		CorrelationID string `json:"correlationId"`
	}
	_ = json.Unmarshal(body, &e)
	detail := strings.TrimSpace(e.Category + e.ErrorType)
	if e.Message != "" {
		detail = strings.TrimPrefix(detail+": "+e.Message, ": ")
	}
	if detail == "" {
		detail = http.StatusText(resp.StatusCode)
	}
	if len(detail) > 300 {
		detail = detail[:300] + "…"
	}
	if e.CorrelationID != "" { // what HubSpot support asks for
		detail += " (correlation id " + e.CorrelationID + ")"
	}
	ce := &connector.Error{Status: resp.StatusCode, Detail: detail}
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests:
		ce.Kind = connector.ErrRateLimited
		ce.RetryAfter = rateWait(resp.Header)
	case s == http.StatusUnauthorized, s == http.StatusForbidden:
		ce.Kind = connector.ErrUnauthorized
	case s == http.StatusNotFound:
		ce.Kind = connector.ErrNotFound
	case s == http.StatusConflict:
		ce.Kind = connector.ErrConflict
	case s >= 500:
		ce.Kind = connector.ErrUnavailable
	default:
		ce.Kind = connector.ErrInvalid
	}
	return ce
}

// rateWait is Retry-After when sent; else, with the window spent, the window's length (the
// rolling window has certainly moved on by then); else zero.
func rateWait(h http.Header) time.Duration {
	if secs, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After"))); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if h.Get("X-HubSpot-RateLimit-Remaining") == "0" {
		if ms, err := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Interval-Milliseconds")); err == nil && ms > 0 {
			return time.Duration(ms) * time.Millisecond
		}
	}
	return 0
}
