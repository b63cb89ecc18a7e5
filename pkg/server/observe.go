package server

import (
	"crypto/subtle"
	"net/http"
	"strings"
	"time"
)

// HTTPObserver hears every request the server answered, for metrics. route is the pattern
// that served it ("GET /healthz", "/saml/") or "unmatched"; method is a standard method or
// "other". It must be safe for concurrent use.
type HTTPObserver interface {
	HTTPRequest(route, method string, status int, took time.Duration)
}

// HRObserver hears how each push to the HR webhook ended, and what became of its events, for
// metrics. It must be safe for concurrent use.
type HRObserver interface {
	// HRPush gets one of the HRPush* results.
	HRPush(result string)
	// HREvents gets one of the HREvents* outcomes and how many of the push's events had it.
	HREvents(outcome string, n int)
}

// Results of a push to the HR webhook.
const (
	HRPushAccepted     = "accepted"     // 202: every event recorded
	HRPushPartial      = "partial"      // 422: some events rejected
	HRPushReplay       = "replay"       // 409: every event had been received before
	HRPushHeld         = "held"         // 409: the breaker held the batch for review
	HRPushUnauthorized = "unauthorized" // 401
	HRPushInvalid      = "invalid"      // 400 or 413: the body could not be taken
	HRPushError        = "error"        // 500: the server could not record it
)

// What became of the events of an accepted push (lifecycle.Report).
const (
	HREventsApplied   = "applied"
	HREventsScheduled = "scheduled"
	HREventsRejected  = "rejected"
	HREventsDuplicate = "duplicate"
)

type nopHRObserver struct{}

func (nopHRObserver) HRPush(string)        {}
func (nopHRObserver) HREvents(string, int) {}

func routeOf(pattern string) string {
	if pattern == "" {
		return "unmatched"
	}
	return pattern
}

func methodOf(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// StatusClass is "2xx", "4xx"... for a status code.
func StatusClass(code int) string {
	if code < 100 || code > 599 {
		return "other"
	}
	return string(rune('0'+code/100)) + "xx"
}

// BearerOnly wraps h so that it answers only requests carrying "Authorization: Bearer token";
// an empty token leaves h open.
func BearerOnly(token string, h http.Handler) http.Handler {
	if token == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !constantTimeEqual(strings.TrimSpace(got), token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tenure-metrics"`)
			writeError(w, http.StatusUnauthorized, "bearer token required")
			return
		}
		h.ServeHTTP(w, r)
	})
}

func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
