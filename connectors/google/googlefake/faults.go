package googlefake

import (
	"net/http"
	"time"
)

type fault int

const (
	faultRateLimit fault = iota + 1
	faultServerError
)

// RateLimit makes the next n API requests fail as over quota (403 with the configured reason),
// whatever the quota says. Google advertises no wait, so it returns zero.
func (f *Fake) RateLimit(n int) time.Duration {
	f.push(faultRateLimit, n)
	return 0
}

// ServerError makes the next n API requests fail with 503 backendError.
func (f *Fake) ServerError(n int) { f.push(faultServerError, n) }

// Stall delays every API request by d until Reset; a request whose client gives up meanwhile
// takes no effect.
func (f *Fake) Stall(d time.Duration) { f.faults.Stall(d) }

// SetQuota changes the per-minute quota (-1: none), as a quota increase granted in the Cloud
// console does.
func (f *Fake) SetQuota(perMinute int) {
	f.mu.Lock()
	f.opts.QuotaPerMinute = perMinute
	f.mu.Unlock()
}

// Reset clears injected faults and the stall.
func (f *Fake) Reset() { f.faults.Reset() }

func (f *Fake) push(k fault, n int) { f.faults.Push(k, n) }

// injected answers with the next injected fault, if any.
func (f *Fake) injected(w http.ResponseWriter) bool {
	k, ok := f.faults.Next()
	if !ok {
		return false
	}
	switch k {
	case faultRateLimit:
		f.writeRateLimited(w)
	default:
		writeError(w, http.StatusServiceUnavailable, "global", "backendError", "Backend Error")
	}
	return true
}
