package idp

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/crewjam/saml"

	"github.com/tenure-id/tenure/pkg/authn"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// GetSession implements saml.SessionProvider: it answers "who is this, may they have an
// assertion for this service provider" or writes the page that says why not and returns nil.
func (p *IdP) GetSession(w http.ResponseWriter, r *http.Request, req *saml.IdpAuthnRequest) *saml.Session {
	ctx := r.Context()
	spID := req.ServiceProviderMetadata.EntityID
	if !sendable(req.ACSEndpoint) {
		// Refused before the login page, not after it.
		p.onError(w, r, http.StatusBadRequest, fmt.Errorf("assertion consumer service binding %s: %w", req.ACSEndpoint.Binding, errUnsendable))
		return nil
	}
	si, err := p.cfg.Sessions.Current(r)
	if errors.Is(err, authn.ErrNoSession) {
		p.sendToLogin(w, r, req)
		return nil
	}
	if err != nil {
		p.log.Error("saml: read session", "err", err)
		p.page(w, http.StatusInternalServerError, msgInternal)
		return nil
	}
	if req.Request.ForceAuthn != nil && *req.Request.ForceAuthn && si.AuthnAt.Before(receivedAt(r, req)) {
		// The SP wants a sign-in made after it asked, not the session's earlier one.
		p.sendToLogin(w, r, req)
		return nil
	}
	person, err := p.cfg.People.GetPerson(ctx, si.PersonID)
	if err != nil {
		p.log.Error("saml: read session's person", "err", err)
		p.page(w, http.StatusInternalServerError, msgInternal)
		return nil
	}
	if person.Status != identity.Active {
		// The session manager should have refused this session already; this is the second
		// lock on the same door.
		p.refuse(ctx, w, person, spID, "", "person is "+string(person.Status), msgNotActive)
		return nil
	}
	if !hasSecondFactor(si.Methods) {
		p.refuse(ctx, w, person, spID, "", "session has no second factor", msgNoSecondFactor)
		return nil
	}
	sp, err := p.serviceProvider(r, spID)
	if err != nil {
		p.log.Error("saml: read service provider", "sp", spID, "err", err)
		p.page(w, http.StatusInternalServerError, msgInternal)
		return nil
	}
	allowed, ents, err := p.cfg.Access.AppAccess(ctx, person, sp.App)
	if err != nil {
		p.log.Error("saml: decide access", "app", sp.App, "err", err)
		p.page(w, http.StatusInternalServerError, msgInternal)
		return nil
	}
	if !allowed {
		p.refuse(ctx, w, person, spID, sp.App, "no grant for app "+sp.App, msgNoAccess)
		return nil
	}
	nameID, format, err := p.nameID(person, sp)
	if err != nil {
		p.refuse(ctx, w, person, spID, sp.App, err.Error(), msgNoNameID)
		return nil
	}
	p.log.Info("saml: sign-in", "person", person.ID, "sp", spID, "app", sp.App)
	return &saml.Session{
		ID:                   si.ID,
		CreateTime:           si.AuthnAt,
		Index:                p.sessionIndex(si.ID),
		NameID:               nameID,
		NameIDFormat:         format,
		UserName:             person.Username,
		UserEmail:            person.WorkEmail,
		UserGivenName:        givenName(person),
		UserSurname:          person.LegalLastName,
		UserCommonName:       person.DisplayName(),
		Groups:               ents,
		AuthnContextClassRef: MFAContextClass,
	}
}

func hasSecondFactor(methods []string) bool {
	for _, m := range methods {
		if slices.Contains(SecondFactors, m) {
			return true
		}
	}
	return false
}

func givenName(p identity.Person) string {
	if p.PreferredName != "" {
		return p.PreferredName
	}
	return p.LegalFirstName
}

// nameID names the person to the service provider in its configured format.
func (p *IdP) nameID(person identity.Person, sp directory.SAMLServiceProvider) (value, format string, err error) {
	switch sp.NameIDFormat {
	case directory.NameIDEmail:
		if person.WorkEmail == "" {
			return "", "", errors.New("person has no work email for an email NameID")
		}
		return person.WorkEmail, string(saml.EmailAddressNameIDFormat), nil
	case directory.NameIDUnspecified:
		v := person.Username
		if v == "" {
			v = person.WorkEmail
		}
		if v == "" {
			return "", "", errors.New("person has neither username nor work email for an unspecified NameID")
		}
		return v, string(saml.UnspecifiedNameIDFormat), nil
	default:
		return PersistentNameID(p.cfg.NameIDKey, person.ID, sp.EntityID), string(saml.PersistentNameIDFormat), nil
	}
}

// PersistentNameID is the opaque identifier of one person at one service provider: stable
// across sign-ins, unrelated across service providers, and not the person's ID.
func PersistentNameID(key []byte, personID, spEntityID string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("nameid\x00" + personID + "\x00" + spEntityID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// sessionIndex names the session in assertions without revealing its ID, which is a bearer
// secret.
func (p *IdP) sessionIndex(sessionID string) string {
	m := hmac.New(sha256.New, p.cfg.NameIDKey)
	m.Write([]byte("session\x00" + sessionID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// refuse shows the page and records who was refused what, and why.
func (p *IdP) refuse(ctx context.Context, w http.ResponseWriter, person identity.Person, spID, app, why string, msg messageID) {
	rec := identity.AuditRecord{Action: "saml.sso.refused", Target: "person:" + person.ID, Actor: "idp",
		After: mustJSON(map[string]string{"sp": spID, "app": app, "reason": why})}
	if _, err := p.cfg.Audit.AppendAudit(ctx, rec); err != nil {
		p.log.Error("saml: audit refused sign-in", "err", err)
	}
	p.log.Warn("saml: sign-in refused", "person", person.ID, "sp", spID, "reason", why)
	p.cfg.Observer.SAMLResponse(spID, SAMLRefused)
	p.page(w, http.StatusForbidden, msg)
}

// sendToLogin parks the request and sends the browser to sign in. An IsPassive request may
// not show a login page, so it gets the NoPassive error response instead.
func (p *IdP) sendToLogin(w http.ResponseWriter, r *http.Request, req *saml.IdpAuthnRequest) {
	if req.Request.IsPassive != nil && *req.Request.IsPassive {
		if err := p.saml.SendErrorResponse(w, req, &saml.StatusError{TopLevel: saml.StatusResponder, SecondLevel: saml.StatusNoPassive}); err != nil {
			p.onError(w, r, http.StatusInternalServerError, err)
		}
		return
	}
	if req.RequestBuffer == nil { // IdP-initiated: the URL itself is the request
		http.Redirect(w, r, p.cfg.LoginURL(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	key, err := p.pending.put(r.Context(), pendingFrom(r, receivedAt(r, req)), p.now())
	if errors.Is(err, errPendingTooBig) {
		p.onError(w, r, http.StatusBadRequest, err)
		return
	}
	if err != nil {
		p.log.Error("saml: park request", "err", err)
		p.page(w, http.StatusServiceUnavailable, msgBusy)
		return
	}
	http.Redirect(w, r, p.cfg.LoginURL("/saml/resume?r="+url.QueryEscape(key)), http.StatusSeeOther)
}

// serveResume continues a parked SP-initiated request once its browser has signed in.
func (p *IdP) serveResume(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Query().Get("r")
	now := p.now()
	parked, ok, err := p.pending.get(r.Context(), key, now)
	if err != nil {
		p.log.Error("saml: read parked request", "err", err)
		p.page(w, http.StatusInternalServerError, msgInternal)
		return
	}
	if !ok {
		p.page(w, http.StatusBadRequest, msgResumeExpired)
		return
	}
	if _, err := p.cfg.Sessions.Current(r); errors.Is(err, authn.ErrNoSession) {
		http.Redirect(w, r, p.cfg.LoginURL("/saml/resume?r="+url.QueryEscape(key)), http.StatusSeeOther)
		return
	}
	if parked, ok, err = p.pending.take(r.Context(), key, now); err != nil {
		p.log.Error("saml: take parked request", "err", err)
		p.page(w, http.StatusInternalServerError, msgInternal)
		return
	}
	if !ok {
		p.page(w, http.StatusBadRequest, msgResumeExpired)
		return
	}
	orig := parked.request(r)
	req, err := saml.NewIdpAuthnRequest(p.saml, orig)
	if err != nil {
		p.onError(w, r, http.StatusBadRequest, fmt.Errorf("failed to parse request: %w", err))
		return
	}
	// The request was checked fresh when it arrived; the sign-in detour is ours, bounded by
	// the pending TTL, and must not expire it. The assertion's own times start now.
	req.Now = parked.ReceivedAt
	if err := req.Validate(); err != nil {
		p.onError(w, r, http.StatusBadRequest, fmt.Errorf("failed to validate request: %w", err))
		return
	}
	req.Now = p.now()
	if parked.signed() {
		// As ServeSSO does once it has a session: a signed request is answered once. The key is
		// crewjam's, so the same request sent again to /saml/sso is refused too.
		issuer := ""
		if req.Request.Issuer != nil {
			issuer = req.Request.Issuer.Value
		}
		if err := p.replay.Consume("AuthnRequest:"+issuer+" "+req.Request.ID, req.Request.IssueInstant.Add(saml.MaxIssueDelay)); err != nil {
			p.onError(w, r, http.StatusBadRequest, fmt.Errorf("authn request %q: %w", req.Request.ID, err))
			return
		}
	}
	stateOf(orig).receivedAt = parked.ReceivedAt
	p.answer(w, orig, req)
}

// receivedAt is when the request first reached the IdP.
func receivedAt(r *http.Request, req *saml.IdpAuthnRequest) time.Time {
	if t := stateOf(r).receivedAt; !t.IsZero() {
		return t
	}
	return req.Now
}

// answer is ServeSSO from the session on, for a request validated by the caller.
func (p *IdP) answer(w http.ResponseWriter, r *http.Request, req *saml.IdpAuthnRequest) {
	session := p.GetSession(w, r, req)
	if session == nil {
		return
	}
	err := p.MakeAssertion(req, session)
	if err == nil {
		err = req.CheckRequestSubject()
	}
	var statusErr *saml.StatusError
	switch {
	case errors.As(err, &statusErr):
		if err := p.saml.SendErrorResponse(w, req, statusErr); err != nil {
			p.onError(w, r, http.StatusInternalServerError, err)
		}
		return
	case err != nil:
		p.onError(w, r, http.StatusInternalServerError, fmt.Errorf("failed to make assertion: %w", err))
		return
	}
	if err := p.recordParticipant(r, req, session); err != nil {
		p.onError(w, r, http.StatusInternalServerError, err)
		return
	}
	if err := (formWriter{obs: p.cfg.Observer}).WriteResponse(w, req); err != nil {
		p.onError(w, r, http.StatusInternalServerError, fmt.Errorf("failed to write response: %w", err))
	}
}

// serveIDPInitiated signs the person in to ?sp=ENTITYID without a request from it.
func (p *IdP) serveIDPInitiated(w http.ResponseWriter, r *http.Request) {
	spID := r.URL.Query().Get("sp")
	if spID == "" {
		p.page(w, http.StatusBadRequest, msgNoSP)
		return
	}
	p.saml.ServeIDPInitiated(w, r, spID, r.URL.Query().Get("RelayState"))
}

// onError answers what crewjam could not complete, without echoing details to the browser.
func (p *IdP) onError(w http.ResponseWriter, _ *http.Request, status int, err error) {
	msg := msgBadRequest
	switch {
	case errors.Is(err, saml.ErrUnknownServiceProvider):
		msg = msgUnknownSP
		if status == http.StatusNotFound {
			msg = msgNoSP
		}
	case errors.Is(err, saml.ErrUnknownAssertionConsumerService):
		msg = msgUnknownACS
	case errors.Is(err, errUnsendable):
		msg = msgUnsendable
	case errors.Is(err, saml.ErrExpired):
		msg = msgExpired
	case status >= 500:
		msg = msgInternal
	}
	p.log.Warn("saml: request refused", "status", status, "err", err)
	p.page(w, status, msg)
}
