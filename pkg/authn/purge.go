package authn

import (
	"context"
	"fmt"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
)

// purgeGrace keeps the purge a step behind the sign-in checks, so a session that a request
// found alive a moment ago is not removed while that request still uses it.
const purgeGrace = time.Minute

// Purge removes what sign-in left behind and nobody can use any more: sessions past their
// absolute end or idle too long, activation links used or expired, throttle counters the next
// failure would reset, and parked SAML requests past their TTL. It ends no live session: it
// removes only what Current would refuse anyway, so it is housekeeping, audited as one summary
// record per run (see directory.Authn.PurgeAuthn), not as sign-outs.
func (m *Manager) Purge(ctx context.Context) (directory.AuthnPurged, error) {
	at := m.now().Add(-purgeGrace)
	// Sessions still at the password step idle out after pendingLifetime; the longer of the
	// two timeouts spares every session that may still be used.
	idle := max(m.opt.IdleTimeout, pendingLifetime)
	n, err := m.store.PurgeAuthn(ctx, directory.AuthnPurge{Now: at, IdleBefore: at.Add(-idle),
		ThrottleBefore: at.Add(-m.opt.Throttle.ResetAfter)})
	if err != nil {
		return n, fmt.Errorf("authn: purge: %w", err)
	}
	return n, nil
}
