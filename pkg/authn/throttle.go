package authn

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
)

// ThrottlePolicy slows password and code guessing. After the free failures, each further one
// locks the key for BaseDelay, doubling up to MaxDelay; failures are forgotten ResetAfter the
// last one. Counters live in the database, so they hold across restarts and replicas.
type ThrottlePolicy struct {
	AccountFree int           // failures per account before locking (5)
	IPFree      int           // failures per client address before locking (50: offices share one)
	BaseDelay   time.Duration // first lock (30 s)
	MaxDelay    time.Duration // longest lock (15 min)
	ResetAfter  time.Duration // quiet time that clears the count (12 h)
}

func (p ThrottlePolicy) withDefaults() ThrottlePolicy {
	if p.AccountFree == 0 {
		p.AccountFree = 5
	}
	if p.IPFree == 0 {
		p.IPFree = 50
	}
	if p.BaseDelay == 0 {
		p.BaseDelay = 30 * time.Second
	}
	if p.MaxDelay == 0 {
		p.MaxDelay = 15 * time.Minute
	}
	if p.ResetAfter == 0 {
		p.ResetAfter = 12 * time.Hour
	}
	return p
}

// lockFor is how long failure number n (1-based) locks a key allowed free failures.
func (p ThrottlePolicy) lockFor(n, free int) time.Duration {
	if n <= free {
		return 0
	}
	d := p.BaseDelay
	for i := free + 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	return min(d, p.MaxDelay)
}

type throttleStore interface {
	ThrottleStates(ctx context.Context, keys []string) ([]directory.ThrottleState, error)
	PutThrottleState(ctx context.Context, st directory.ThrottleState) error
	DeleteThrottleState(ctx context.Context, key string) error
}

type throttle struct {
	store  throttleStore
	policy ThrottlePolicy
}

// throttleKeys are the counters one attempt touches: the account (by person ID when the login
// names someone, else by what was typed, so unknown names are slowed the same way) and the
// client address.
type throttleKeys struct{ account, ip string }

func accountKey(personID, typed string) string {
	if personID != "" {
		return "account:" + personID
	}
	return "login:" + strings.ToLower(strings.TrimSpace(typed))
}

// wait returns how long until the keys may try again (zero when they may now), and whether
// the account has failures on record.
func (t *throttle) wait(ctx context.Context, k throttleKeys, now time.Time) (time.Duration, bool, error) {
	states, err := t.store.ThrottleStates(ctx, []string{k.account, k.ip})
	if err != nil {
		return 0, false, fmt.Errorf("throttle: %w", err)
	}
	var wait time.Duration
	counted := false
	for _, st := range states {
		if d := st.LockedUntil.Sub(now); d > wait {
			wait = d
		}
		counted = counted || st.Key == k.account
	}
	return wait, counted, nil
}

// fail counts a failed attempt against both keys and returns the resulting lock.
func (t *throttle) fail(ctx context.Context, k throttleKeys, now time.Time) (time.Duration, error) {
	states, err := t.store.ThrottleStates(ctx, []string{k.account, k.ip})
	if err != nil {
		return 0, fmt.Errorf("throttle: %w", err)
	}
	byKey := map[string]directory.ThrottleState{}
	for _, st := range states {
		byKey[st.Key] = st
	}
	var lock time.Duration
	for _, key := range []string{k.account, k.ip} {
		free := t.policy.AccountFree
		if key == k.ip {
			free = t.policy.IPFree
		}
		st := byKey[key]
		if now.Sub(st.LastFailure) >= t.policy.ResetAfter {
			st.Failures = 0
		}
		st.Key, st.LastFailure = key, now
		st.Failures++
		d := t.policy.lockFor(st.Failures, free)
		st.LockedUntil = now.Add(d)
		lock = max(lock, d)
		if err := t.store.PutThrottleState(ctx, st); err != nil {
			return 0, fmt.Errorf("throttle: %w", err)
		}
	}
	return lock, nil
}

// succeed clears the account's count; the address keeps its own, so one good password does not
// reset the guessing budget of everyone behind that address.
func (t *throttle) succeed(ctx context.Context, k throttleKeys, hadState bool) error {
	if !hadState {
		return nil
	}
	if err := t.store.DeleteThrottleState(ctx, k.account); err != nil {
		return fmt.Errorf("throttle: %w", err)
	}
	return nil
}
