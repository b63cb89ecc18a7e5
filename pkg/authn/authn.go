// Package authn signs people in: a password (local argon2id hash, or a bind to the LDAP silo
// that holds it), then always a second factor (TOTP, or a single-use recovery code), then a
// server-side session that dies with the employee. The SAML IdP asks Current for the signed-in
// person and sends everyone else to LoginURL.
package authn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// Session is a signed-in person who passed both factors.
type Session struct {
	ID       string // the session's public identifier (not the cookie's secret)
	PersonID string
	AuthnAt  time.Time
	LastSeen time.Time
	Methods  []string // e.g. "pwd", "totp"
}

// ErrNoSession is returned (wrapped) by Current when the request has no live session.
var ErrNoSession = errors.New("authn: no session")

// Store is what authn needs from the directory.
type Store interface {
	GetPerson(ctx context.Context, id string) (identity.Person, error)
	LookupPerson(ctx context.Context, key string) (identity.Person, error)
	directory.Authn
	InTx(ctx context.Context, fn func(tx directory.Store) error) error
}

// PasswordChecker checks the password of a person whose password lives outside Tenure (an LDAP
// silo). delegated false means the person's password is Tenure's own; then err is nil. With
// delegated true, err is nil for the right password, ErrWrongPassword for a wrong one, and any
// other error when the check could not be made.
type PasswordChecker interface {
	CheckPassword(ctx context.Context, p identity.Person, password string) (delegated bool, err error)
}

// ErrWrongPassword is a password that does not match: an answer, not a failure.
var ErrWrongPassword = errors.New("authn: wrong password")

// Options configure a Manager. Zero durations take the defaults below.
type Options struct {
	Store  Store
	Clock  func() time.Time // time.Now when nil
	Logger *slog.Logger
	// Delegated checks passwords kept in LDAP silos; nil when no source delegates binds.
	Delegated PasswordChecker
	// IdleTimeout ends a session nobody used for this long (30 min); MaxLifetime ends any
	// session this long after sign-in (10 h). Keycloak's defaults.
	IdleTimeout time.Duration
	MaxLifetime time.Duration
	// SecureCookies marks cookies Secure and names them with the __Host- prefix. Turn it off
	// only for plain-HTTP development.
	SecureCookies bool
	Throttle      ThrottlePolicy
	// ActivationTTL is how long an activation link works (72 h).
	ActivationTTL time.Duration
	// PublicURL is the base of links handed out (activation), e.g. https://id.example.com. Its
	// host is also the WebAuthn relying party: security keys are offered only when it is a
	// domain name (not an IP address).
	PublicURL string
	// Issuer names Tenure in authenticator apps ("Tenure").
	Issuer string
	Hash   HashParams // DefaultHashParams when zero
	// Observer hears each sign-in step's result (metrics); nothing when nil.
	Observer Observer
}

// Defaults of Options.
const (
	DefaultIdleTimeout   = 30 * time.Minute
	DefaultMaxLifetime   = 10 * time.Hour
	DefaultActivationTTL = 72 * time.Hour
	// pendingLifetime bounds the step between password and second factor.
	pendingLifetime = 10 * time.Minute
	// touchEvery limits LastSeen writes: the idle timer is kept to this precision, so a busy
	// session costs one write a minute instead of one per request.
	touchEvery = time.Minute
)

// AppSignOut signs a session out of the applications it signed in to (SAML single logout);
// *idp.IdP is one.
type AppSignOut interface {
	// PrepareSignOut is called while the session still exists, since what it signed in to is
	// forgotten with it. The function it returns, when not nil, is called once the session has
	// ended and writes the whole response: it takes the browser to each application and ends
	// at the signed-out page.
	PrepareSignOut(ctx context.Context, sessionID string) (func(http.ResponseWriter, *http.Request), error)
}

// Manager runs sign-in and checks sessions. It is safe for concurrent use.
type Manager struct {
	opt      Options
	signOut  AppSignOut
	store    Store
	throttle *throttle
	dummy    string // a hash to check unknown usernames against, so they take as long as known ones
	pages    *pages
	wa       *webauthn.WebAuthn // nil when PublicURL cannot name a relying party
}

// New returns a Manager; it fails only on unusable options.
func New(opt Options) (*Manager, error) {
	if opt.Store == nil {
		return nil, errors.New("authn: a store is required")
	}
	if opt.Clock == nil {
		opt.Clock = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Observer == nil {
		opt.Observer = nopObserver{}
	}
	if opt.IdleTimeout == 0 {
		opt.IdleTimeout = DefaultIdleTimeout
	}
	if opt.MaxLifetime == 0 {
		opt.MaxLifetime = DefaultMaxLifetime
	}
	if opt.ActivationTTL == 0 {
		opt.ActivationTTL = DefaultActivationTTL
	}
	if opt.Issuer == "" {
		opt.Issuer = "Tenure"
	}
	if opt.Hash == (HashParams{}) {
		opt.Hash = DefaultHashParams
	}
	if opt.Hash.Time < DefaultHashParams.Time || opt.Hash.Memory < DefaultHashParams.Memory {
		return nil, fmt.Errorf("authn: argon2id parameters t=%d m=%d are below the minimum t=%d m=%d",
			opt.Hash.Time, opt.Hash.Memory, DefaultHashParams.Time, DefaultHashParams.Memory)
	}
	opt.Throttle = opt.Throttle.withDefaults()
	opt.PublicURL = strings.TrimRight(opt.PublicURL, "/")
	dummy, err := HashPassword("not a password anyone has", opt.Hash)
	if err != nil {
		return nil, err
	}
	pg, err := newPages()
	if err != nil {
		return nil, err
	}
	wa, err := newWebAuthn(opt.PublicURL, opt.Issuer)
	if err != nil {
		return nil, err
	}
	return &Manager{opt: opt, store: opt.Store, throttle: &throttle{store: opt.Store, policy: opt.Throttle},
		dummy: dummy, pages: pg, wa: wa}, nil
}

func (m *Manager) now() time.Time { return m.opt.Clock().UTC() }

// SetAppSignOut makes /logout sign the session out of its applications too. The IdP is built
// on the Manager (it asks it who is signed in), so it is set afterwards, before serving.
func (m *Manager) SetAppSignOut(a AppSignOut) { m.signOut = a }

// LoginURL is where to send a browser that must sign in; next must be a local path, anything
// else is replaced by "/".
func LoginURL(next string) string {
	return "/login?next=" + url.QueryEscape(SafeNext(next))
}

// SafeNext returns next when it is a path on this server, "/" otherwise: "//evil.example",
// "/\evil.example", "https://..." and anything with a scheme or host would redirect away.
func SafeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\\\r\n\t") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}

// Current returns the live session of the request's cookie, refreshing its idle timer;
// ErrNoSession (wrapped) when absent, expired, revoked or the person is no longer active. Any
// other error means the store could not answer (an outage: a 5xx, not a sign-in page).
func (m *Manager) Current(r *http.Request) (Session, error) {
	as, err := m.session(r, directory.StageSigned)
	if err != nil {
		return Session{}, err
	}
	return Session{ID: as.ID, PersonID: as.PersonID, AuthnAt: as.AuthnAt, LastSeen: as.LastSeen,
		Methods: append([]string(nil), as.Methods...)}, nil
}

// session finds the request's session of the given stage and checks it is still alive: within
// both timeouts and its person still active. The person's status is read on every request,
// which is what makes a termination end every session at once.
func (m *Manager) session(r *http.Request, stage string) (directory.AuthSession, error) {
	c, err := r.Cookie(m.cookieName(sessionCookie))
	if err != nil || c.Value == "" {
		return directory.AuthSession{}, fmt.Errorf("%w: no cookie", ErrNoSession)
	}
	ctx := r.Context()
	as, err := m.store.GetAuthSession(ctx, tokenHash(c.Value))
	if errors.Is(err, identity.ErrNotFound) {
		return as, fmt.Errorf("%w: unknown or ended", ErrNoSession)
	}
	if err != nil {
		return as, fmt.Errorf("authn: read session: %w", err)
	}
	if as.Stage != stage {
		return as, fmt.Errorf("%w: at stage %s", ErrNoSession, as.Stage)
	}
	now := m.now()
	idle := m.opt.IdleTimeout
	if stage != directory.StageSigned {
		idle = pendingLifetime
	}
	switch {
	case !now.Before(as.ExpiresAt):
		m.end(ctx, as, "expired")
		return as, fmt.Errorf("%w: expired", ErrNoSession)
	case now.Sub(as.LastSeen) >= idle:
		m.end(ctx, as, "idle")
		return as, fmt.Errorf("%w: idle too long", ErrNoSession)
	}
	p, err := m.store.GetPerson(ctx, as.PersonID)
	if errors.Is(err, identity.ErrNotFound) {
		return as, fmt.Errorf("%w: person %s is gone", ErrNoSession, as.PersonID)
	}
	if err != nil {
		return as, fmt.Errorf("authn: read person of session: %w", err)
	}
	if !mayUse(p.Status, stage) {
		// The person left: end all their sessions, not only this one.
		if _, err := m.store.DeletePersonAuthSessions(ctx, p.ID); err != nil {
			m.opt.Logger.Warn("end sessions of inactive person", "person", p.ID, "err", err)
		}
		return as, fmt.Errorf("%w: person is %s", ErrNoSession, p.Status)
	}
	if now.Sub(as.LastSeen) >= touchEvery {
		if err := m.store.TouchAuthSession(ctx, as.ID, now); err != nil {
			return as, fmt.Errorf("authn: touch session: %w", err)
		}
		as.LastSeen = now
	}
	return as, nil
}

// PeopleChanged ends every session of those of personIDs who may no longer sign in. It fits
// lifecycle.Options.Changed: the session check already refuses them on their next request,
// this removes the rows at once instead of on that request.
func (m *Manager) PeopleChanged(ctx context.Context, personIDs []string) {
	for _, id := range personIDs {
		p, err := m.store.GetPerson(ctx, id)
		if err != nil || p.Status == identity.Active {
			continue
		}
		if _, err := m.store.DeletePersonAuthSessions(ctx, id); err != nil {
			m.opt.Logger.Warn("end sessions of inactive person", "person", id, "err", err)
		}
	}
}

// mayUse says whether a person of status may hold a session of stage. Only active people sign
// in; a new hire before their start date may set up their credentials (activation and TOTP
// enrolment) but gets no session until they are active.
func mayUse(status identity.Status, stage string) bool {
	return status == identity.Active || (status == identity.PreHire && stage == directory.StageEnrol)
}

func (m *Manager) end(ctx context.Context, as directory.AuthSession, why string) {
	if err := m.store.DeleteAuthSession(ctx, as.ID); err != nil {
		m.opt.Logger.Warn("end session", "session", as.ID, "why", why, "err", err)
	}
}

// Handler serves /login, /logout, /mfa/... and /activate/....
func (m *Manager) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", m.getLogin)
	mux.HandleFunc("POST /login", m.postLogin)
	mux.HandleFunc("GET /logout", m.getLogout)
	mux.HandleFunc("POST /logout", m.postLogout)
	mux.HandleFunc("GET /mfa/verify", m.getVerify)
	mux.HandleFunc("POST /mfa/verify", m.postVerify)
	mux.HandleFunc("GET /mfa/enrol", m.getEnrol)
	mux.HandleFunc("POST /mfa/enrol", m.postEnrol)
	mux.HandleFunc("GET /mfa/keys", m.keysPage)
	mux.HandleFunc("GET /mfa/webauthn.js", serveWebAuthnJS)
	mux.HandleFunc("POST /mfa/webauthn/register/begin", m.registerBegin)
	mux.HandleFunc("POST /mfa/webauthn/register/finish", m.registerFinish)
	mux.HandleFunc("POST /mfa/webauthn/login/begin", m.loginBegin)
	mux.HandleFunc("POST /mfa/webauthn/login/finish", m.loginFinish)
	mux.HandleFunc("GET /activate/{token}", m.getActivate)
	mux.HandleFunc("POST /activate/{token}", m.postActivate)
	return m.protect(mux)
}
