package provision

import (
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
)

// Attempt results an Observer is told about.
const (
	AttemptDone        = "done"         // the app holds the change
	AttemptRetry       = "retry"        // failed, tried again after a backoff
	AttemptFailed      = "failed"       // refused for good
	AttemptDead        = "dead"         // retried too often
	AttemptRateLimited = "rate_limited" // the app said "later"; the op waits out the pause
)

// Observer hears how each attempt at an op ended, for metrics. It is called on worker
// goroutines, so it must be safe for concurrent use and quick.
type Observer interface {
	OpAttempted(app, result string, took time.Duration)
}

type nopObserver struct{}

func (nopObserver) OpAttempted(string, string, time.Duration) {}

// attemptResult names what res says of an attempt; "" for an op handed back untried.
func attemptResult(res directory.OutboxResult) string {
	switch {
	case res.Release && res.Error != "":
		// classify is the only place that hands an op back with an error: a rate limit.
		return AttemptRateLimited
	case res.Release:
		return ""
	case res.State == directory.OpDone:
		return AttemptDone
	case res.State == directory.OpPending:
		return AttemptRetry
	case res.State == directory.OpDead:
		return AttemptDead
	default:
		return AttemptFailed
	}
}

// Paused reports, for each app, how long its rate-limit pause still runs (zero when it is not
// paused).
func (x *Executor) Paused() map[string]time.Duration {
	out := make(map[string]time.Duration, len(x.names))
	for _, name := range x.names {
		out[name] = max(x.apps[name].gate.pausedFor(), 0)
	}
	return out
}

// Apps lists the apps this executor runs ops for, sorted.
func (x *Executor) Apps() []string { return append([]string(nil), x.names...) }
