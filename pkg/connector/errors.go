package connector

import (
	"errors"
	"time"
)

// Sentinels for the kinds of failure. The workers retry ErrRateLimited and ErrUnavailable with
// backoff (waiting at least RetryAfter), and give up at once on the rest: repeating a request the
// app refused as invalid or conflicting would never succeed.
var (
	ErrNotFound     = errors.New("not found in the app")
	ErrConflict     = errors.New("conflicts with an existing account in the app")
	ErrInvalid      = errors.New("the app refused the request as invalid")
	ErrUnauthorized = errors.New("the app refused the credentials")
	ErrRateLimited  = errors.New("rate limited by the app")
	ErrUnavailable  = errors.New("the app is unavailable")
)

// Retryable reports whether err is worth trying again later: rate limits, server errors,
// timeouts and network failures are; refusals are not.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrRateLimited) || errors.Is(err, ErrUnavailable) {
		return true
	}
	var e *Error
	if errors.As(err, &e) {
		return false
	}
	// Not an app answer at all (connection refused, timeout, context deadline on the request):
	// the app may well answer next time.
	return !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrConflict) && !errors.Is(err, ErrInvalid) &&
		!errors.Is(err, ErrUnauthorized)
}

// RetryAfter returns how long the app asked to wait, or zero.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}
