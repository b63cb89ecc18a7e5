package idp

import (
	"context"
	"encoding/xml"
	"fmt"
	"html/template"
	"net/http"

	"github.com/crewjam/saml"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory"
)

// Single logout is crewjam's (ServeSLO, StartLogout, signatures, propagation, LogoutResponse);
// this file supplies its two plug points against the directory: SessionParticipantTracker
// (which service providers each sign-in session was used for) and SessionInvalidator (end the
// sessions a LogoutRequest names). Both go through the database, not the browser's cookie:
// an HTTP-POST LogoutRequest is a cross-site POST that the Lax session cookie does not come
// with, and the replica that receives it need not be the one that issued the assertion.

// SessionParticipants keeps the session participants and ends sessions; directory stores are
// one. DeleteAuthSession audits the end with the context's actor and reason.
type SessionParticipants interface {
	AddSAMLParticipant(ctx context.Context, p directory.SAMLParticipant) error
	SAMLParticipants(ctx context.Context, sessionID string) ([]directory.SAMLParticipant, error)
	FindSAMLParticipants(ctx context.Context, spEntityID, nameID string) ([]directory.SAMLParticipant, error)
	DeleteAuthSession(ctx context.Context, id string) error
}

// maxLogoutMessage bounds a posted logout message: real ones are a few KiB.
const maxLogoutMessage = 256 << 10

// logoutLookup is what the single-logout plug points may consult, set per request: crewjam asks
// SessionParticipants for "every session that match accepts", and match cannot be inverted
// into a query.
type logoutLookup struct {
	// spID and nameID come from the LogoutRequest being served. They are read before crewjam
	// checks its signature, but only narrow the candidates: crewjam's match, over the verified
	// request, decides.
	spID, nameID string
	// signedOut holds the participants of a session the person signed out of at Tenure,
	// read before the session (and its rows) were deleted.
	signedOut []directory.SAMLParticipant
}

// serveSLO is crewjam's ServeSLO with the lookup of the request's service provider and NameID.
func (p *IdP) serveSLO(w http.ResponseWriter, r *http.Request) {
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxLogoutMessage)
	}
	stateOf(r).logout = p.logoutRequestLookup(r)
	w.Header().Set("Content-Security-Policy", formPolicy)
	p.saml.ServeSLO(w, r)
}

// logoutRequestLookup reads the issuer and NameID of the LogoutRequest r carries, if any.
func (p *IdP) logoutRequestLookup(r *http.Request) *logoutLookup {
	req, err := saml.NewIdpLogoutRequest(p.saml, r)
	if err != nil || len(req.RequestBuffer) == 0 {
		return nil
	}
	var m struct {
		XMLName xml.Name
		Issuer  string `xml:"urn:oasis:names:tc:SAML:2.0:assertion Issuer"`
		NameID  string `xml:"urn:oasis:names:tc:SAML:2.0:assertion NameID"`
	}
	if err := xml.Unmarshal(req.RequestBuffer, &m); err != nil || m.XMLName.Local != "LogoutRequest" {
		return nil
	}
	return &logoutLookup{spID: m.Issuer, nameID: m.NameID}
}

// AddSessionParticipant implements saml.SessionParticipantTracker: crewjam calls it before it
// sends an assertion, and sends none if it fails (a session that ended meanwhile).
func (p *IdP) AddSessionParticipant(r *http.Request, session *saml.Session, sp saml.SessionParticipant) error {
	err := p.cfg.Participants.AddSAMLParticipant(r.Context(), directory.SAMLParticipant{SessionID: session.ID,
		SPEntityID: sp.ServiceProviderID, NameID: sp.NameID.Value, NameIDFormat: sp.NameID.Format,
		NameQualifier: sp.NameID.NameQualifier, SPNameQualifier: sp.NameID.SPNameQualifier, SessionIndex: sp.SessionIndex})
	if err != nil {
		return fmt.Errorf("idp: record session participant %s: %w", sp.ServiceProviderID, err)
	}
	return nil
}

// recordParticipant is what crewjam's ServeSSO does before sending an assertion, for the
// requests this package answers itself (resumed after sign-in).
func (p *IdP) recordParticipant(r *http.Request, req *saml.IdpAuthnRequest, session *saml.Session) error {
	a := req.Assertion
	if a == nil || a.Subject == nil || a.Subject.NameID == nil {
		return nil
	}
	sp := saml.SessionParticipant{ServiceProviderID: req.ServiceProviderMetadata.EntityID, NameID: *a.Subject.NameID}
	for _, st := range a.AuthnStatements {
		if st.SessionIndex != "" {
			sp.SessionIndex = st.SessionIndex
			break
		}
	}
	return p.AddSessionParticipant(r, session, sp)
}

// SessionParticipants implements saml.SessionParticipantTracker: the participants of every
// session that match accepts, among the candidates the request's lookup names.
func (p *IdP) SessionParticipants(r *http.Request, match func(*saml.Session) bool) ([]saml.SessionParticipant, error) {
	ctx := r.Context()
	lk := stateOf(r).logout
	if lk == nil {
		return nil, nil
	}
	candidates, all := lk.signedOut, func(string) ([]directory.SAMLParticipant, error) { return lk.signedOut, nil }
	if lk.signedOut == nil {
		if lk.spID == "" || lk.nameID == "" {
			return nil, nil
		}
		var err error
		if candidates, err = p.cfg.Participants.FindSAMLParticipants(ctx, lk.spID, lk.nameID); err != nil {
			return nil, fmt.Errorf("idp: find sessions of the logout request: %w", err)
		}
		all = func(sessionID string) ([]directory.SAMLParticipant, error) {
			return p.cfg.Participants.SAMLParticipants(ctx, sessionID)
		}
	}
	var out []saml.SessionParticipant
	done := map[string]bool{}
	for _, c := range candidates {
		if done[c.SessionID] || !match(samlSession(c)) {
			continue
		}
		done[c.SessionID] = true
		rows, err := all(c.SessionID)
		if err != nil {
			return nil, fmt.Errorf("idp: participants of a session: %w", err)
		}
		for _, row := range rows {
			if row.SessionID == c.SessionID {
				out = append(out, saml.SessionParticipant{ServiceProviderID: row.SPEntityID, SessionIndex: row.SessionIndex,
					NameID: saml.NameID{Value: row.NameID, Format: row.NameIDFormat, NameQualifier: row.NameQualifier, SPNameQualifier: row.SPNameQualifier}})
			}
		}
	}
	return out, nil
}

// samlSession is a participant row as the session crewjam's match functions look at: the
// NameID and SessionIndex as issued to that service provider.
func samlSession(c directory.SAMLParticipant) *saml.Session {
	return &saml.Session{ID: c.SessionID, NameID: c.NameID, NameIDFormat: c.NameIDFormat, Index: c.SessionIndex}
}

// InvalidateSession implements saml.SessionInvalidator: it ends the sessions in which the
// requesting service provider was issued the request's NameID (and SessionIndex, if given).
// A service provider can thus end only sessions it took part in, whatever NameID it names.
func (p *IdP) InvalidateSession(_ http.ResponseWriter, r *http.Request, req *saml.IdpLogoutRequest) error {
	if req.Request.NameID == nil || req.Request.NameID.Value == "" {
		return nil // a BaseID, or nothing Tenure issued
	}
	spID := req.ServiceProviderMetadata.EntityID
	ctx := audit.WithReason(audit.WithActor(r.Context(), "saml:"+spID), "SAML single logout")
	rows, err := p.cfg.Participants.FindSAMLParticipants(ctx, spID, req.Request.NameID.Value)
	if err != nil {
		return fmt.Errorf("idp: find sessions of the logout request: %w", err)
	}
	ended := map[string]bool{}
	for _, row := range rows {
		if ended[row.SessionID] || !req.MatchesSession(samlSession(row)) {
			continue
		}
		if err := p.cfg.Participants.DeleteAuthSession(ctx, row.SessionID); err != nil {
			return fmt.Errorf("idp: end session for the logout request: %w", err)
		}
		ended[row.SessionID] = true
		p.log.Info("saml: single logout ended a session", "sp", spID, "session", row.SessionID)
	}
	return nil
}

// PrepareSignOut reads the service providers the session signed in to, while it still exists,
// and returns what sends the browser to each of them once the session has ended (crewjam's
// StartLogout), or nil when there are none. It fits authn.AppSignOut.
func (p *IdP) PrepareSignOut(ctx context.Context, sessionID string) (func(http.ResponseWriter, *http.Request), error) {
	rows, err := p.cfg.Participants.SAMLParticipants(ctx, sessionID)
	if err != nil {
		return nil, fmt.Errorf("idp: participants of the session: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return func(w http.ResponseWriter, r *http.Request) {
		st := &requestState{logout: &logoutLookup{signedOut: rows}}
		r = r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
		// The sign-in pages' content policy forbids the next page's inline script: the form
		// that posts a LogoutRequest to the service provider and submits itself.
		w.Header().Set("Content-Security-Policy", formPolicy)
		p.saml.StartLogout(w, r, &saml.Session{ID: sessionID}, "")
	}, nil
}

// logoutCompletePage ends a sign-out the IdP propagated: it is the signed-out page, and names
// the applications that did not confirm (no single logout endpoint, or an error there), whose
// own sessions may still be open.
var logoutCompletePage = template.Must(template.New("logout-complete").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Signed out</title></head><body>
<h1>Signed out</h1>
<p id="signed-out">You are signed out.</p>
{{if .Failed}}<p>These applications did not confirm that they signed you out; close your browser to end their sessions:</p>
<ul id="not-confirmed">{{range .Failed}}<li>{{.}}</li>{{end}}</ul>{{end}}
<p><a href="/login?next=%2F">Sign in again</a></p>
</body></html>
`))
