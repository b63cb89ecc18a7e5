// Package idp is Tenure's SAML 2.0 identity provider. It is built on crewjam/saml: this package
// supplies its plug points — the SessionProvider (who is signed in, with which factors, and may
// they use this app), the ServiceProviderProvider (the registered service providers) and the
// AssertionMaker (NameID and attributes per service provider) — against the directory, the
// access policy and the sign-in sessions of pkg/authn.
//
// No assertion is ever made without a second factor: the session provider refuses sessions
// whose methods lack one, and the assertion maker refuses sessions not marked multi-factor.
package idp

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/tenure-id/tenure/pkg/authn"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// Sessions tells who is signed in; *authn.Manager is one. Current returns an error matching
// authn.ErrNoSession when nobody is.
type Sessions interface {
	Current(r *http.Request) (authn.Session, error)
}

// People reads people from the directory.
type People interface {
	GetPerson(ctx context.Context, id string) (identity.Person, error)
}

// ServiceProviders reads the service provider registry.
type ServiceProviders interface {
	GetSAMLServiceProvider(ctx context.Context, entityID string) (directory.SAMLServiceProvider, error)
}

// Auditor appends audit records for facts that change no row, such as a refused sign-in.
type Auditor interface {
	AppendAudit(ctx context.Context, r identity.AuditRecord) (identity.AuditRecord, error)
}

// SecondFactors are the session methods that count as a second factor.
var SecondFactors = []string{"totp", "recovery", "webauthn"}

// MFAContextClass is the AuthnContextClassRef of every assertion: the REFEDS MFA profile,
// which service providers recognise as "signed in with more than one factor".
const MFAContextClass = "https://refeds.org/profile/mfa"

// Config is what New needs.
type Config struct {
	// BaseURL is where this server is reached; /saml/sso and /saml/metadata hang off it.
	BaseURL *url.URL
	// EntityID is the IdP's entity ID; BaseURL + /saml/metadata when empty.
	EntityID string
	// Key signs responses and assertions; Cert is its certificate.
	Key  crypto.Signer
	Cert *x509.Certificate
	// NextCert, when set, is published in the metadata as a second signing certificate so that
	// service providers trust it before Key and Cert switch to it.
	NextCert *x509.Certificate
	// AssertionLifetime is how long an assertion is valid; 90s when zero.
	AssertionLifetime time.Duration
	// NameIDKey keys the persistent NameIDs; it must never change.
	NameIDKey []byte

	Sessions         Sessions
	People           People
	ServiceProviders ServiceProviders
	Access           Access
	Audit            Auditor
	// Participants records which service providers each sign-in session was used for and ends
	// the sessions a LogoutRequest names (single logout); shared by every replica.
	Participants SessionParticipants
	// Parking keeps SP-initiated requests while their browsers sign in; it is shared by every
	// replica (the directory store).
	Parking Parking
	// Replay remembers the signed requests already answered, for every replica (the directory
	// store).
	Replay ReplayMarks
	// MaxPending caps the requests parked at once, across replicas; 10000 when zero.
	MaxPending int
	// LoginURL sends a browser to sign in and come back to next, a local path.
	LoginURL func(next string) string
	// PendingTTL bounds the sign-in detour of an SP-initiated request; 10 minutes when zero.
	PendingTTL time.Duration
	// Clock drives every time the IdP issues and checks; the real clock when nil.
	Clock  *dsig.Clock
	Logger *slog.Logger
	// Observer hears each response issued or refused (metrics); nothing when nil.
	Observer Observer
}

// IdP serves /saml/.
type IdP struct {
	cfg     Config
	saml    *saml.IdentityProvider
	pending *pendingStore
	replay  saml.AssertionReplayCache
	sps     spCache
	log     *slog.Logger
}

// New checks cfg and builds the IdP.
func New(cfg Config) (*IdP, error) {
	switch {
	case cfg.BaseURL == nil || cfg.BaseURL.Host == "":
		return nil, errors.New("idp: BaseURL must be an absolute URL")
	case cfg.Key == nil || cfg.Cert == nil:
		return nil, errors.New("idp: a signing key and certificate are required")
	case len(cfg.NameIDKey) < 16:
		return nil, errors.New("idp: NameIDKey must be at least 16 bytes")
	case cfg.Sessions == nil || cfg.People == nil || cfg.ServiceProviders == nil || cfg.Access == nil || cfg.Audit == nil || cfg.Parking == nil ||
		cfg.Replay == nil || cfg.Participants == nil:
		return nil, errors.New("idp: Sessions, People, ServiceProviders, Access, Audit, Parking, Replay and Participants are required")
	}
	if err := samePublicKey(cfg.Key.Public(), cfg.Cert.PublicKey); err != nil {
		return nil, fmt.Errorf("idp: signing key and certificate: %w", err)
	}
	if cfg.LoginURL == nil {
		cfg.LoginURL = authn.LoginURL
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = dsig.NewRealClock()
	}
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	if cfg.AssertionLifetime <= 0 {
		cfg.AssertionLifetime = saml.MaxIssueDelay
	}
	if cfg.PendingTTL <= 0 {
		cfg.PendingTTL = 10 * time.Minute
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = defaultMaxPending
	}
	base := strings.TrimSuffix(cfg.BaseURL.String(), "/")
	metadataURL, _ := url.Parse(base + "/saml/metadata")
	ssoURL, _ := url.Parse(base + "/saml/sso")
	sloURL, _ := url.Parse(base + "/saml/slo")
	if cfg.EntityID != "" {
		u, err := url.Parse(cfg.EntityID)
		if err != nil {
			return nil, fmt.Errorf("idp: entity ID: %w", err)
		}
		// crewjam names the IdP by its metadata URL; the metadata is still served at /saml/metadata.
		metadataURL = u
	}
	p := &IdP{cfg: cfg, pending: newPendingStore(cfg.Parking, cfg.PendingTTL, cfg.MaxPending), log: cfg.Logger}
	// Signed AuthnRequests are answered once, by whichever replica gets them first: a captured
	// one cannot be sent again while it is current. (Unsigned ones anyone can make afresh, so
	// crewjam does not record them.)
	replay := dbReplayCache{marks: cfg.Replay, clock: cfg.Clock}
	p.replay = replay
	p.saml = &saml.IdentityProvider{
		Signer:      cfg.Key,
		Certificate: cfg.Cert,
		Logger:      slogPrinter{cfg.Logger},
		MetadataURL: *metadataURL,
		SSOURL:      *ssoURL,
		LogoutURL:   *sloURL,
		// SOAP is left out: a back-channel request would have to be answered without the
		// browser, and terminations are not propagated that way (see README).
		LogoutBindings:            []string{saml.HTTPRedirectBinding, saml.HTTPPostBinding},
		LogoutCompleteTemplate:    logoutCompletePage,
		LogoutRequestFormTemplate: logoutRequestForm,
		ResponseFormTemplate:      logoutResponseForm,
		ServiceProviderProvider:   p,
		SessionProvider:           p,
		AssertionMaker:            p,
		SignatureMethod:           dsig.RSASHA256SignatureMethod,
		Clock:                     cfg.Clock,
		NameIDFormats:             []saml.NameIDFormat{saml.PersistentNameIDFormat, saml.EmailAddressNameIDFormat, saml.UnspecifiedNameIDFormat},
		OnError:                   p.onError,
		ResponseWriter:            formWriter{obs: cfg.Observer},
		ReplayCache:               replay,
	}
	if cfg.NextCert != nil {
		p.saml.ExtraCertificates = []*x509.Certificate{cfg.NextCert}
	}
	return p, nil
}

// Handler serves /saml/metadata, /saml/sso (HTTP-Redirect and HTTP-POST), /saml/slo (single
// logout, HTTP-Redirect and HTTP-POST), /saml/resume and /saml/idp-initiated.
func (p *IdP) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /saml/metadata", p.saml.ServeMetadata)
	mux.HandleFunc("GET /saml/sso", p.saml.ServeSSO)
	mux.HandleFunc("POST /saml/sso", p.saml.ServeSSO)
	mux.HandleFunc("GET /saml/slo", p.serveSLO)
	mux.HandleFunc("POST /saml/slo", p.serveSLO)
	mux.HandleFunc("GET /saml/resume", p.serveResume)
	mux.HandleFunc("GET /saml/idp-initiated", p.serveIDPInitiated)
	return withRequestState(mux)
}

// EntityID is the IdP's SAML entity ID.
func (p *IdP) EntityID() string { return p.saml.MetadataURL.String() }

func (p *IdP) now() time.Time { return p.cfg.Clock.Now() }

// slogPrinter lets crewjam log through slog.
type slogPrinter struct{ l *slog.Logger }

func (s slogPrinter) Printf(format string, v ...any) {
	s.l.Warn("saml", "msg", fmt.Sprintf(format, v...))
}
func (s slogPrinter) Print(v ...any)   { s.l.Warn("saml", "msg", fmt.Sprint(v...)) }
func (s slogPrinter) Println(v ...any) { s.l.Warn("saml", "msg", fmt.Sprint(v...)) }
func (s slogPrinter) Fatal(v ...any)   { s.l.Error("saml", "msg", fmt.Sprint(v...)) }
func (s slogPrinter) Fatalf(format string, v ...any) {
	s.l.Error("saml", "msg", fmt.Sprintf(format, v...))
}
func (s slogPrinter) Fatalln(v ...any) { s.l.Error("saml", "msg", fmt.Sprint(v...)) }
func (s slogPrinter) Panic(v ...any)   { s.l.Error("saml", "msg", fmt.Sprint(v...)) }
func (s slogPrinter) Panicf(format string, v ...any) {
	s.l.Error("saml", "msg", fmt.Sprintf(format, v...))
}
func (s slogPrinter) Panicln(v ...any) { s.l.Error("saml", "msg", fmt.Sprint(v...)) }

// requestState carries what one request has looked up, so the plug points crewjam calls in
// turn read the registry once.
type requestState struct {
	sp *directory.SAMLServiceProvider
	// receivedAt is when the SP's request first arrived: a resumed request keeps it, so
	// ForceAuthn means "signed in after the SP asked", however long the detour.
	receivedAt time.Time
	// logout is what single logout may look sessions up by (see logoutLookup).
	logout *logoutLookup
}

type stateKey struct{}

func withRequestState(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), stateKey{}, &requestState{})))
	})
}

func stateOf(r *http.Request) *requestState {
	if st, ok := r.Context().Value(stateKey{}).(*requestState); ok {
		return st
	}
	return &requestState{}
}
