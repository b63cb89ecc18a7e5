package server

import (
	"math"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// TokenLimiter paces the requests of each API or SCIM token, so a runaway script or a leaked
// token cannot take the directory's whole capacity. The buckets are per replica: N replicas
// let a token through N times as fast.
type TokenLimiter struct {
	r     rate.Limit
	burst int
	now   func() time.Time

	mu sync.Mutex
	m  map[string]*rate.Limiter
}

// NewTokenLimiter allows each token perSecond requests on average, in bursts of twice that;
// nil (no limit) when perSecond is not positive.
func NewTokenLimiter(perSecond float64, now func() time.Time) *TokenLimiter {
	if perSecond <= 0 {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	return &TokenLimiter{r: rate.Limit(perSecond), burst: max(1, int(math.Ceil(2*perSecond))), now: now, m: map[string]*rate.Limiter{}}
}

// Allow takes one request from the token's bucket, or says how long until one is there. Keys
// are token names, so the map holds no more entries than there are tokens.
func (t *TokenLimiter) Allow(token string) (bool, time.Duration) {
	if t == nil {
		return true, 0
	}
	t.mu.Lock()
	lim, ok := t.m[token]
	if !ok {
		lim = rate.NewLimiter(t.r, t.burst)
		t.m[token] = lim
	}
	t.mu.Unlock()
	now := t.now()
	res := lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// retryAfter is d in whole seconds, at least one, as Retry-After wants.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}
