package provision

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/tenure-id/tenure/pkg/connector"
)

// AppLimits override an app's documented traits; zero keeps the connector's value.
type AppLimits struct {
	Rate        float64 // requests per second
	Burst       int
	Concurrency int
	// QuarantineAfter consecutive failures quarantine the app; DefaultQuarantineAfter when 0,
	// never when negative.
	QuarantineAfter int
}

// DefaultQuarantineAfter is how many consecutive failures quarantine an app.
const DefaultQuarantineAfter = 10

// gate paces one app: a token bucket at the app's documented rate, and a pause the whole app
// honours when it answers "rate limited", so one app's 429 storm holds up only that app.
//
// Pauses are kept on the wall clock (like the token bucket), not on the injected clock: they
// are real waiting, while the injected clock only dates what is stored.
type gate struct {
	limiter *rate.Limiter

	mu          sync.Mutex
	pausedUntil time.Time
	// limited counts the app's rate-limit answers since its last success, so an app that says
	// "too many" without saying how long to wait is given exponentially longer pauses.
	limited int
}

func newGate(t connector.Traits, o AppLimits) *gate {
	r, burst := t.Rate, t.Burst
	if o.Rate > 0 {
		r = o.Rate
	}
	if o.Burst > 0 {
		burst = o.Burst
	}
	lim := rate.Inf
	if r > 0 {
		lim = rate.Limit(r)
	}
	if burst <= 0 {
		burst = max(1, int(math.Ceil(r)))
	}
	return &gate{limiter: rate.NewLimiter(lim, burst)}
}

// concurrency is how many requests the app may have in flight.
func concurrency(t connector.Traits, o AppLimits) int {
	switch {
	case o.Concurrency > 0:
		return o.Concurrency
	case t.Concurrency > 0:
		return t.Concurrency
	}
	return 4
}

// pause stops the app's requests for d from now (extending, never shortening, a pause).
func (g *gate) pause(d time.Duration) {
	until := time.Now().Add(d)
	g.mu.Lock()
	if until.After(g.pausedUntil) {
		g.pausedUntil = until
	}
	g.mu.Unlock()
}

// rateLimited pauses the app after a rate-limit answer: for as long as it asked, else for
// base·2^(n-1) (capped) after its nth such answer in a row. It returns the pause.
func (g *gate) rateLimited(retryAfter, base, ceiling time.Duration) time.Duration {
	g.mu.Lock()
	g.limited++
	n := g.limited
	g.mu.Unlock()
	d := retryAfter
	if d <= 0 {
		d = ceiling
		if n < 40 {
			if e := base << (n - 1); e > 0 && e < ceiling {
				d = e
			}
		}
	}
	g.pause(d)
	return d
}

// succeeded ends a run of rate-limit answers.
func (g *gate) succeeded() {
	g.mu.Lock()
	g.limited = 0
	g.mu.Unlock()
}

// pausedFor is how long the app's pause still lasts.
func (g *gate) pausedFor() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	return time.Until(g.pausedUntil)
}

// wait blocks until the app is not paused and the bucket has a token.
func (g *gate) wait(ctx context.Context) error {
	for {
		d := g.pausedFor()
		if d <= 0 {
			break
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	return g.limiter.Wait(ctx)
}

// backoff is exponential backoff with full jitter: a uniform delay up to base·2^(attempt-1)
// (capped), so replicas retrying together spread out, but never less than the app asked for.
func backoff(attempt int, base, ceiling, retryAfter time.Duration, rnd func() float64) time.Duration {
	upper := ceiling
	if attempt < 40 {
		if e := base << (attempt - 1); e > 0 && e < ceiling {
			upper = e
		}
	}
	d := time.Duration(rnd() * float64(upper))
	return max(d, retryAfter)
}
