package zendeskfake

import (
	"net/http"
	"strconv"
	"time"
)

// faultRetryAfter is the wait injected rate limits advertise.
const faultRetryAfter = 7

// RateLimit makes the next n requests answer 429 as the real service does (Retry-After and body
// as configured). It returns the advertised wait, zero when Retry-After is omitted.
func (f *Fake) RateLimit(n int) time.Duration {
	f.push(http.StatusTooManyRequests, n)
	if f.opts.OmitRetryAfter {
		return 0
	}
	return faultRetryAfter * time.Second
}

// ServerError makes the next n requests answer 503.
func (f *Fake) ServerError(n int) { f.push(http.StatusServiceUnavailable, n) }

// Stall delays every request by d until Reset; a request whose client gives up meanwhile takes
// no effect.
func (f *Fake) Stall(d time.Duration) { f.faults.Stall(d) }

// Reset clears injected faults and the stall.
func (f *Fake) Reset() { f.faults.Reset() }

func (f *Fake) push(status, n int) { f.faults.Push(status, n) }

func (f *Fake) fault(w http.ResponseWriter) bool {
	status, ok := f.faults.Next()
	if !ok {
		return false
	}
	if status == http.StatusTooManyRequests {
		w.Header().Set("X-Rate-Limit", strconv.Itoa(f.opts.RatePerMinute))
		w.Header().Set("X-Rate-Limit-Remaining", "0")
		f.writeTooMany(w, faultRetryAfter)
		return true
	}
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(status)
	_, _ = w.Write([]byte("<html><body><h1>503 Service Unavailable</h1></body></html>\n"))
	return true
}
