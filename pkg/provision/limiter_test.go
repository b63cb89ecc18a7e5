package provision

import (
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/tenure-id/tenure/pkg/connector"
)

func TestBackoffFullJitterHonoursRetryAfter(t *testing.T) {
	const base, ceiling = time.Second, time.Minute
	tests := []struct {
		name       string
		attempt    int
		rnd        float64
		retryAfter time.Duration
		want       time.Duration
	}{
		{"first retry, top of the window", 1, 0.999999, 0, 999999 * time.Microsecond},
		{"first retry, bottom of the window", 1, 0, 0, 0},
		{"window doubles per attempt", 4, 0.5, 0, 4 * time.Second},
		{"window stops at the ceiling", 12, 0.5, 0, 30 * time.Second},
		{"huge attempt counts do not overflow", 500, 0.5, 0, 30 * time.Second},
		{"Retry-After beats a shorter draw", 2, 0.1, 45 * time.Second, 45 * time.Second},
		{"a longer draw beats Retry-After", 7, 0.9, time.Second, 54 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := backoff(tc.attempt, base, ceiling, tc.retryAfter, func() float64 { return tc.rnd })
			if got != tc.want {
				t.Errorf("backoff(attempt %d, rand %v, retry-after %s) = %s; want %s", tc.attempt, tc.rnd, tc.retryAfter, got, tc.want)
			}
		})
	}
}

func TestGateAndConcurrencyTakeConfigOverTraits(t *testing.T) {
	traits := connector.Traits{Rate: 10, Burst: 5, Concurrency: 3}
	tests := []struct {
		name      string
		traits    connector.Traits
		limits    AppLimits
		wantRate  rate.Limit
		wantBurst int
		wantConc  int
	}{
		{"documented limits", traits, AppLimits{}, 10, 5, 3},
		{"config overrides", traits, AppLimits{Rate: 2.5, Burst: 1, Concurrency: 8}, 2.5, 1, 8},
		{"no stated limit is unlimited", connector.Traits{}, AppLimits{}, rate.Inf, 1, 4},
		{"a rate without a burst gets one second's worth", connector.Traits{Rate: 7}, AppLimits{}, 7, 7, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newGate(tc.traits, tc.limits)
			if g.limiter.Limit() != tc.wantRate || g.limiter.Burst() != tc.wantBurst {
				t.Errorf("bucket = %v/s burst %d; want %v/s burst %d", g.limiter.Limit(), g.limiter.Burst(), tc.wantRate, tc.wantBurst)
			}
			if got := concurrency(tc.traits, tc.limits); got != tc.wantConc {
				t.Errorf("concurrency = %d; want %d", got, tc.wantConc)
			}
		})
	}
}

func TestPauseOnlyExtends(t *testing.T) {
	g := newGate(connector.Traits{}, AppLimits{})
	g.pause(time.Hour)
	g.pause(time.Second)
	if d := g.pausedFor(); d < 59*time.Minute {
		t.Errorf("after pausing an hour then a second, paused for %s; want the hour kept", d)
	}
}
