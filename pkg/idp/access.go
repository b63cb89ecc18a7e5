package idp

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/policy"
)

// Access decides whether a person may sign in to an app, and what they hold in it.
type Access interface {
	// AppAccess reports whether p's desired grants include app, and p's entitlements in it
	// ("kind:name"), as the access policy resolves them.
	AppAccess(ctx context.Context, p identity.Person, app string) (allowed bool, entitlements []string, err error)
}

// PolicyAccess resolves access with the policy over a cached snapshot of the directory.
//
// Loading a snapshot reads the whole directory, far too slow to do per sign-in, so one is
// kept and reloaded once it is MaxAge old. The person is always the caller's fresh copy, so
// their own org unit, employment type and attributes are current; what may be stale is the
// rest of the view — group memberships, exceptions, the org tree, managers — by at most
// MaxAge plus the time one reload takes (a stale snapshot keeps serving while one request
// reloads). Terminated and suspended people never get that far: the session check refuses
// them on their next request.
type PolicyAccess struct {
	Resolver *policy.Resolver
	// Load reads a fresh snapshot of the directory as of now.
	Load   func(ctx context.Context, now time.Time) (*policy.Snapshot, error)
	MaxAge time.Duration
	Clock  func() time.Time

	reload sync.Mutex // held by the one request reloading
	mu     sync.Mutex
	snap   *policy.Snapshot
	at     time.Time
}

// AppAccess implements Access.
func (a *PolicyAccess) AppAccess(ctx context.Context, p identity.Person, app string) (bool, []string, error) {
	view, err := a.view(ctx)
	if err != nil {
		return false, nil, err
	}
	res := a.Resolver.Resolve(p, view)
	allowed := false
	var ents []string
	for _, g := range res.Grants {
		if g.App != app {
			continue
		}
		if g.Entitlement == "" {
			allowed = true
			continue
		}
		ents = append(ents, g.Entitlement)
	}
	return allowed, ents, nil
}

func (a *PolicyAccess) view(ctx context.Context) (*policy.Snapshot, error) {
	now := a.Clock()
	a.mu.Lock()
	snap, at := a.snap, a.at
	a.mu.Unlock()
	if snap != nil && now.Sub(at) < a.MaxAge {
		return snap, nil
	}
	if snap != nil {
		// Stale: one request reloads, the others keep the stale view meanwhile.
		if !a.reload.TryLock() {
			return snap, nil
		}
	} else {
		a.reload.Lock()
	}
	defer a.reload.Unlock()
	a.mu.Lock()
	if a.snap != nil && now.Sub(a.at) < a.MaxAge { // another request reloaded first
		snap = a.snap
		a.mu.Unlock()
		return snap, nil
	}
	a.mu.Unlock()
	fresh, err := a.Load(ctx, now)
	if err != nil {
		// Fail closed: serving the old view past MaxAge would break the staleness bound.
		return nil, fmt.Errorf("load access policy view: %w", err)
	}
	a.mu.Lock()
	a.snap, a.at = fresh, now
	a.mu.Unlock()
	return fresh, nil
}
