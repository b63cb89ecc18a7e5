package authn_test

import (
	"slices"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
)

// The purge removes the session that idled out and the used activation links, leaves the
// session in use alone, and is recorded as housekeeping, not as anyone signing out.
func TestPurgeRemovesDeadRowsOnly(t *testing.T) {
	e := newEnv(t)
	alice := e.hire("E001", "Alice", "Liddell")
	bob := e.hire("E002", "Bob", "Builder")
	ca, _ := e.activate(alice, "lilac tram evening gravel")
	cb, _ := e.activate(bob, "orbit pickle quarry violin")
	if err := e.store.PutThrottleState(e.ctx, directory.ThrottleState{Key: "ip:192.0.2.1", Failures: 3,
		LastFailure: e.clock.Now(), LockedUntil: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}

	e.clock.Add(20 * time.Minute)
	e.wantSignedIn(ca, alice) // Alice keeps working; Bob left his browser.
	e.clock.Add(15 * time.Minute)
	n, err := e.m.Purge(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (directory.AuthnPurged{Sessions: 1, Activations: 2}); n != want {
		t.Errorf("Purge at +35m = %+v, want %+v (Bob's idle session, both used links)", n, want)
	}
	e.wantSignedIn(ca, alice)
	actions := e.auditActions()
	if !slices.Contains(actions, "authn.purge") || slices.Contains(actions, "authn.session.end") {
		t.Errorf("audit actions %v: want authn.purge and no authn.session.end", actions)
	}
	e.wantSignedOut(cb)

	// The throttle counter goes once its reset time has passed.
	e.clock.Add(12 * time.Hour)
	if n, err = e.m.Purge(e.ctx); err != nil || n.Throttle != 1 {
		t.Errorf("Purge at +12h35m = %+v, %v; want the stale throttle counter gone", n, err)
	}
}
