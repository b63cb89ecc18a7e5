package idp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/tenure-id/tenure/pkg/identity"
)

// ReplayMarks remember the signed requests already answered where every replica sees them;
// directory stores are one. A per-process cache would let each replica answer a captured
// request once.
type ReplayMarks interface {
	MarkSAMLRequest(ctx context.Context, keyHash string, expiresAt, now time.Time) error
}

// replayTimeout bounds one mark: crewjam's cache interface carries no context, and a request
// must not hang on a stuck database.
const replayTimeout = 10 * time.Second

// dbReplayCache is crewjam's AssertionReplayCache over the shared database. Keys (kind, issuer
// and message ID) are stored hashed: they are attacker-chosen text of any length.
type dbReplayCache struct {
	marks ReplayMarks
	clock *dsig.Clock
}

// Consume records key as answered until expiresAt; saml.ErrAssertionReplayed when it already
// was, by any replica.
func (c dbReplayCache) Consume(key string, expiresAt time.Time) error {
	ctx, cancel := context.WithTimeout(context.Background(), replayTimeout)
	defer cancel()
	err := c.marks.MarkSAMLRequest(ctx, keyHash(key), expiresAt, c.clock.Now())
	switch {
	case errors.Is(err, identity.ErrConflict):
		return saml.ErrAssertionReplayed
	case err != nil:
		return fmt.Errorf("idp: record answered request: %w", err)
	}
	return nil
}
