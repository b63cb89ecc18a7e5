package directory

import (
	"context"
	"time"
)

// SAMLParticipant records that the IdP issued an assertion for one sign-in session to one
// service provider: a session participant in the sense of SAML single logout. It is kept in
// the database so that whichever replica receives a LogoutRequest, or the sign-out, knows
// which service providers to tell and which session the request names.
type SAMLParticipant struct {
	SessionID  string // the AuthSession's ID
	SPEntityID string
	// NameID is the subject as issued to this service provider (Tenure's NameIDs differ per
	// service provider), with its format and qualifiers, so the LogoutRequest the IdP sends
	// names the subject exactly as the service provider knows it.
	NameID          string
	NameIDFormat    string
	NameQualifier   string
	SPNameQualifier string
	// SessionIndex is the SessionIndex of the assertion's AuthnStatement.
	SessionIndex string
	CreatedAt    time.Time
}

// SAMLSessions records the session participants of single logout. The rows live as long as
// their session: ending a session (DeleteAuthSession, ReplaceAuthSession,
// DeletePersonAuthSessions) removes them in the same transaction, and PurgeAuthn removes those
// of the sessions it purges. Nothing here is audited: issuing the assertion is (by the IdP's
// log) and so is the end of the session.
type SAMLSessions interface {
	// AddSAMLParticipant records p, assigning CreatedAt; recording a service provider again for
	// the same session replaces its row. A session that does not exist (any more) is
	// ErrNotFound, so an assertion is not issued for a session that ended meanwhile; a missing
	// field is ErrInvalid.
	AddSAMLParticipant(ctx context.Context, p SAMLParticipant) error
	// SAMLParticipants returns the participants of one session, oldest first.
	SAMLParticipants(ctx context.Context, sessionID string) ([]SAMLParticipant, error)
	// FindSAMLParticipants returns the rows of the service provider for the NameID it was
	// issued, across sessions, oldest first: the sessions a LogoutRequest from it may name.
	FindSAMLParticipants(ctx context.Context, spEntityID, nameID string) ([]SAMLParticipant, error)
}
