package directory

import (
	"context"
	"time"
)

// SAMLReplay remembers which signed SAML messages (AuthnRequests, LogoutRequests) were already
// accepted, for every replica at once: a captured signed request must be answered once while
// it is valid, not once per replica. Not audited, for the reason SAMLParking gives.
type SAMLReplay interface {
	// MarkSAMLRequest records keyHash (the SHA-256 in hex of the message's replay key: its
	// kind, issuer and ID) as used until expiresAt. A key marked before and still live at now
	// is ErrConflict: of concurrent marks of one key, on any replica, exactly one succeeds. A
	// mark expired at now is replaced. A malformed hash or a zero expiry is ErrInvalid.
	MarkSAMLRequest(ctx context.Context, keyHash string, expiresAt, now time.Time) error
}
