package directory

import (
	"context"
	"time"
)

// Credential is how one person proves who they are: a local password hash and second factors.
// None of it may appear in logs or audit records.
type Credential struct {
	PersonID string
	// PasswordHash is an argon2id PHC string; empty when the person has no local password (not
	// activated yet, or their password lives in an LDAP silo).
	PasswordHash  string
	PasswordSetAt *time.Time
	// TOTPSecret is the base32 shared secret, in the clear here: the store seals it at rest
	// (see MFASecrets). TOTPConfirmed turns true once the person proved
	// their authenticator has it. An unconfirmed secret is an enrolment in progress.
	TOTPSecret    string
	TOTPConfirmed bool
	// TOTPLastStep is the time step of the last accepted code: codes of that step or an earlier
	// one are replays.
	TOTPLastStep int64
	// RecoveryCodes are the SHA-256 hashes (hex) of the unused single-use recovery codes.
	RecoveryCodes []string
	Version       int64
	UpdatedAt     time.Time
}

// AuthSession stages: a browser that passed the password is not signed in yet.
const (
	StageMFA    = "mfa"    // password accepted, second factor due
	StageEnrol  = "enrol"  // password accepted, second factor to enrol first
	StageSigned = "signed" // both factors: a session
)

// AuthSession is a browser's server-side session. The cookie holds a random token; only its
// SHA-256 hash (TokenHash) is stored, so a database read gives nobody a live session.
type AuthSession struct {
	ID        string // public identifier (logs, SAML SessionIndex)
	TokenHash string
	PersonID  string
	Stage     string
	Methods   []string
	AuthnAt   time.Time
	LastSeen  time.Time
	ExpiresAt time.Time // absolute end, whatever the activity
	CreatedAt time.Time
}

// Activation is a one-time link a new hire uses to set a password and enrol a second factor.
type Activation struct {
	ID        string
	TokenHash string
	PersonID  string
	ExpiresAt time.Time
	UsedAt    *time.Time
	CreatedAt time.Time
}

// WebAuthnKey is a security key or passkey a person registered as a second factor. Data is the
// verifier's record of it (public key, sign counter, flags) as JSON, opaque to the store.
type WebAuthnKey struct {
	ID           string
	PersonID     string
	CredentialID string // base64url; unique
	Name         string
	Data         string
	CreatedAt    time.Time
	LastUsedAt   *time.Time
}

// ThrottleState counts recent failed sign-ins for one key ("account:..." or "ip:...").
type ThrottleState struct {
	Key         string
	Failures    int
	LastFailure time.Time
	LockedUntil time.Time
}

// Authn stores credentials, sessions, activation links and sign-in throttling. Credential,
// session and activation changes are audited without their secrets; throttle counters are not
// (an attacker must not be able to grow the audit log by guessing).
type Authn interface {
	// GetCredential fails with ErrNotFound when the person has none yet.
	GetCredential(ctx context.Context, personID string) (Credential, error)
	// UpdateCredential reads the person's credential (a zero one with PersonID set when there is
	// none), lets fn change it and stores it, in one transaction, audited as action. An unknown
	// person is ErrNotFound; an error from fn aborts and is returned as is.
	UpdateCredential(ctx context.Context, personID, action string, fn func(*Credential) error) (Credential, error)

	// CreateAuthSession stores a session, assigning its ID and CreatedAt. Signed-in sessions are
	// audited; the unfinished stages are not.
	CreateAuthSession(ctx context.Context, s AuthSession) (AuthSession, error)
	// ReplaceAuthSession deletes session oldID and creates s in one transaction: the token
	// changes whenever the session gains privilege.
	ReplaceAuthSession(ctx context.Context, oldID string, s AuthSession) (AuthSession, error)
	// GetAuthSession finds a session by token hash; ErrNotFound when there is none.
	GetAuthSession(ctx context.Context, tokenHash string) (AuthSession, error)
	// TouchAuthSession moves LastSeen forward (never back); not audited.
	TouchAuthSession(ctx context.Context, id string, lastSeen time.Time) error
	// DeleteAuthSession ends one session; deleting a missing one is no error. Signed-in
	// sessions are audited (authn.session.end) with the context's actor and reason.
	DeleteAuthSession(ctx context.Context, id string) error
	// DeletePersonAuthSessions ends every session of the person and returns how many there were.
	DeletePersonAuthSessions(ctx context.Context, personID string) (int, error)

	// CreateActivation stores a link, assigning ID and CreatedAt; the person's earlier unused
	// links stop working. An unknown person is ErrNotFound.
	CreateActivation(ctx context.Context, a Activation) (Activation, error)
	// GetActivation finds a link by token hash; ErrNotFound when there is none.
	GetActivation(ctx context.Context, tokenHash string) (Activation, error)
	// UseActivation marks the link used at the given time. A link already used is ErrConflict,
	// so two tabs cannot both use one link.
	UseActivation(ctx context.Context, id string, at time.Time) (Activation, error)

	// PutAuthSessionChallenge keeps a WebAuthn ceremony's state on the session, replacing any;
	// TakeAuthSessionChallenge returns and clears it ("" when none), so each is used once.
	PutAuthSessionChallenge(ctx context.Context, id, data string) error
	TakeAuthSessionChallenge(ctx context.Context, id string) (string, error)

	// AddWebAuthnKey stores a key, assigning ID and CreatedAt; audited. A credential ID already
	// registered is ErrConflict; an unknown person is ErrNotFound.
	AddWebAuthnKey(ctx context.Context, k WebAuthnKey) (WebAuthnKey, error)
	// WebAuthnKeys returns the person's keys, oldest first.
	WebAuthnKeys(ctx context.Context, personID string) ([]WebAuthnKey, error)
	// UseWebAuthnKey stores a key's new Data (its sign counter moved) and when it was used; not
	// audited (the sign-in it completes is).
	UseWebAuthnKey(ctx context.Context, id, data string, at time.Time) error
	// DeletePersonWebAuthnKeys removes every key of the person and returns how many; audited.
	DeletePersonWebAuthnKeys(ctx context.Context, personID string) (int, error)

	// ThrottleStates returns the stored states of keys; keys never seen are left out.
	ThrottleStates(ctx context.Context, keys []string) ([]ThrottleState, error)
	// PutThrottleState creates or replaces the state of st.Key.
	PutThrottleState(ctx context.Context, st ThrottleState) error
	DeleteThrottleState(ctx context.Context, key string) error

	// PurgeAuthn deletes what sign-in left behind and nobody can use any more (see AuthnPurge)
	// and says how many rows of each kind went. It is housekeeping, not sign-out: only rows
	// that a sign-in check would refuse anyway are removed, so no live session ends. One audit
	// record (authn.purge) with the counts accounts for the run when sessions or activation
	// links went, since their creation was audited; throttle counters, parked requests and replay marks
	// never were, so they are only counted.
	PurgeAuthn(ctx context.Context, p AuthnPurge) (AuthnPurged, error)
}

// AuthnPurge says which rows are dead. Now is required; a zero cutoff leaves its kind alone.
type AuthnPurge struct {
	// Now: sessions, activation links, parked SAML requests and SAML replay marks expired by
	// then go, and so do
	// activation links already used (a used link only ever shows "no longer valid").
	Now time.Time
	// IdleBefore: sessions last seen at or before it go, whatever their absolute expiry — they
	// are dead of idleness (Now minus the idle timeout).
	IdleBefore time.Time
	// ThrottleBefore: counters whose last failure is at or before it, and that lock nothing at
	// Now, go; the next failure would start them afresh anyway (Now minus the reset time).
	ThrottleBefore time.Time
}

// AuthnPurged counts the rows one PurgeAuthn removed.
type AuthnPurged struct {
	Sessions     int `json:"sessions"`
	Activations  int `json:"activations"`
	Throttle     int `json:"throttle"`
	SAMLRequests int `json:"saml_requests"`
	SAMLReplays  int `json:"saml_replays"`
	// SAMLParticipants are the single-logout rows of the purged sessions.
	SAMLParticipants int `json:"saml_participants"`
}

// Total is the number of rows removed.
func (p AuthnPurged) Total() int {
	return p.Sessions + p.Activations + p.Throttle + p.SAMLRequests + p.SAMLReplays + p.SAMLParticipants
}
