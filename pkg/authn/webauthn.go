package authn

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// Security keys and passkeys (WebAuthn) are a second factor next to TOTP: a signed-in person
// adds one on /mfa/keys, and the second-factor page then offers it. They need script (the
// browser's WebAuthn API has no form equivalent), so TOTP stays the factor everyone has and
// every page keeps working without script.

//go:embed webauthn.js
var webauthnJS []byte

// newWebAuthn configures the relying party from the public URL; nil when the URL cannot be one
// (unset, or an IP address: WebAuthn needs a domain name, "localhost" included).
func newWebAuthn(publicURL, name string) (*webauthn.WebAuthn, error) {
	u, err := url.Parse(publicURL)
	if publicURL == "" || err != nil || u.Hostname() == "" || net.ParseIP(u.Hostname()) != nil {
		return nil, nil
	}
	wa, err := webauthn.New(&webauthn.Config{RPID: u.Hostname(), RPDisplayName: name, RPOrigins: []string{u.Scheme + "://" + u.Host}})
	if err != nil {
		return nil, fmt.Errorf("authn: webauthn: %w", err)
	}
	return wa, nil
}

// waUser is a person as the WebAuthn library sees them, with their registered keys.
type waUser struct {
	p     identity.Person
	keys  []directory.WebAuthnKey
	creds []webauthn.Credential
}

func (u *waUser) WebAuthnID() []byte                         { return []byte(u.p.ID) }
func (u *waUser) WebAuthnName() string                       { return loginName(u.p) }
func (u *waUser) WebAuthnDisplayName() string                { return u.p.DisplayName() }
func (u *waUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func (m *Manager) waUser(ctx context.Context, personID string) (*waUser, error) {
	p, err := m.store.GetPerson(ctx, personID)
	if err != nil {
		return nil, err
	}
	keys, err := m.store.WebAuthnKeys(ctx, personID)
	if err != nil {
		return nil, err
	}
	u := &waUser{p: p, keys: keys}
	for _, k := range keys {
		var c webauthn.Credential
		if err := json.Unmarshal([]byte(k.Data), &c); err != nil {
			return nil, fmt.Errorf("webauthn key %s: %w", k.ID, err)
		}
		u.creds = append(u.creds, c)
	}
	return u, nil
}

func writeJSONStatus(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// ceremony runs the common start of every WebAuthn endpoint: the feature is on and the request
// carries a session of stage. It answers JSON errors itself and returns ok false then.
func (m *Manager) ceremony(w http.ResponseWriter, r *http.Request, stage string) (directory.AuthSession, *waUser, bool) {
	if m.wa == nil {
		writeJSONStatus(w, http.StatusNotFound, map[string]string{"error": "security keys are not configured"})
		return directory.AuthSession{}, nil, false
	}
	as, err := m.session(r, stage)
	if err != nil {
		writeJSONStatus(w, http.StatusUnauthorized, map[string]string{"error": "sign in again"})
		return as, nil, false
	}
	u, err := m.waUser(r.Context(), as.PersonID)
	if err != nil {
		m.opt.Logger.Error("webauthn user", "err", err)
		writeJSONStatus(w, http.StatusInternalServerError, map[string]string{"error": "unavailable"})
		return as, nil, false
	}
	return as, u, true
}

func (m *Manager) keepChallenge(w http.ResponseWriter, r *http.Request, as directory.AuthSession, sd *webauthn.SessionData, options any) {
	data, err := json.Marshal(sd)
	if err == nil {
		err = m.store.PutAuthSessionChallenge(r.Context(), as.ID, string(data))
	}
	if err != nil {
		m.opt.Logger.Error("webauthn challenge", "err", err)
		writeJSONStatus(w, http.StatusInternalServerError, map[string]string{"error": "unavailable"})
		return
	}
	writeJSONStatus(w, http.StatusOK, options)
}

func (m *Manager) takeChallenge(ctx context.Context, as directory.AuthSession) (webauthn.SessionData, error) {
	var sd webauthn.SessionData
	data, err := m.store.TakeAuthSessionChallenge(ctx, as.ID)
	if err != nil {
		return sd, err
	}
	if data == "" {
		return sd, errors.New("no ceremony in progress")
	}
	return sd, json.Unmarshal([]byte(data), &sd)
}

func descriptors(u *waUser) []protocol.CredentialDescriptor {
	var out []protocol.CredentialDescriptor
	for i := range u.creds {
		out = append(out, u.creds[i].Descriptor())
	}
	return out
}

func (m *Manager) registerBegin(w http.ResponseWriter, r *http.Request) {
	as, u, ok := m.ceremony(w, r, directory.StageSigned)
	if !ok {
		return
	}
	options, sd, err := m.wa.BeginRegistration(u, webauthn.WithExclusions(descriptors(u)),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{UserVerification: protocol.VerificationPreferred}))
	if err != nil {
		m.opt.Logger.Error("webauthn register begin", "err", err)
		writeJSONStatus(w, http.StatusInternalServerError, map[string]string{"error": "unavailable"})
		return
	}
	m.keepChallenge(w, r, as, sd, options)
}

func (m *Manager) registerFinish(w http.ResponseWriter, r *http.Request) {
	as, u, ok := m.ceremony(w, r, directory.StageSigned)
	if !ok {
		return
	}
	ctx := r.Context()
	sd, err := m.takeChallenge(ctx, as)
	var cred *webauthn.Credential
	if err == nil {
		cred, err = m.wa.FinishRegistration(u, sd, r)
	}
	if err != nil {
		m.opt.Logger.Warn("webauthn registration refused", "person", as.PersonID, "err", err)
		writeJSONStatus(w, http.StatusBadRequest, map[string]string{"error": "refused"})
		return
	}
	data, _ := json.Marshal(cred)
	name := r.URL.Query().Get("name")
	if name == "" || len(name) > 100 {
		name = msg("keys.default_name")
	}
	key := directory.WebAuthnKey{PersonID: as.PersonID, CredentialID: base64.RawURLEncoding.EncodeToString(cred.ID), Name: name, Data: string(data)}
	if _, err := m.store.AddWebAuthnKey(auditAs(ctx, as.PersonID, "security key added"), key); err != nil {
		m.opt.Logger.Error("store webauthn key", "err", err)
		writeJSONStatus(w, http.StatusConflict, map[string]string{"error": "not stored"})
		return
	}
	writeJSONStatus(w, http.StatusOK, map[string]bool{"ok": true})
}

func (m *Manager) loginBegin(w http.ResponseWriter, r *http.Request) {
	as, u, ok := m.ceremony(w, r, directory.StageMFA)
	if !ok {
		return
	}
	if len(u.creds) == 0 {
		writeJSONStatus(w, http.StatusNotFound, map[string]string{"error": "no security key registered"})
		return
	}
	options, sd, err := m.wa.BeginLogin(u)
	if err != nil {
		m.opt.Logger.Error("webauthn login begin", "err", err)
		writeJSONStatus(w, http.StatusInternalServerError, map[string]string{"error": "unavailable"})
		return
	}
	m.keepChallenge(w, r, as, sd, options)
}

// loginFinish checks the assertion and turns the pending sign-in into a session, as a TOTP code
// would. Failures count against the account like wrong codes.
func (m *Manager) loginFinish(w http.ResponseWriter, r *http.Request) {
	as, u, ok := m.ceremony(w, r, directory.StageMFA)
	if !ok {
		return
	}
	ctx := r.Context()
	now := m.now()
	keys := throttleKeys{account: accountKey(as.PersonID, ""), ip: "ip:" + clientIP(r)}
	wait, counted, err := m.throttle.wait(ctx, keys, now)
	if err != nil {
		m.opt.Observer.SignIn(StepSecurityKey, ResultError)
		m.opt.Logger.Error("security key throttle", "err", err)
		writeJSONStatus(w, http.StatusInternalServerError, map[string]string{"error": "unavailable"})
		return
	}
	if wait > 0 {
		m.opt.Observer.SignIn(StepSecurityKey, ResultThrottled)
		writeJSONStatus(w, http.StatusTooManyRequests, map[string]string{"error": msg("login.throttled")})
		return
	}
	sd, err := m.takeChallenge(ctx, as)
	var cred *webauthn.Credential
	if err == nil {
		cred, err = m.wa.FinishLogin(u, sd, r)
	}
	if err == nil && cred.Authenticator.CloneWarning {
		err = errors.New("sign counter went backwards: the key may be cloned")
	}
	var key directory.WebAuthnKey
	if err == nil {
		err = errors.New("assertion names no registered key")
		for _, k := range u.keys {
			if k.CredentialID == base64.RawURLEncoding.EncodeToString(cred.ID) {
				key, err = k, nil
			}
		}
	}
	if err != nil {
		m.opt.Observer.SignIn(StepSecurityKey, ResultRejected)
		if _, terr := m.throttle.fail(ctx, keys, now); terr != nil {
			m.opt.Logger.Error("count failed key", "err", terr)
		}
		m.opt.Logger.Warn("security key refused", "person", as.PersonID, "ip", clientIP(r), "err", err)
		writeJSONStatus(w, http.StatusUnauthorized, map[string]string{"error": msg("verify.key_failed")})
		return
	}
	data, _ := json.Marshal(cred)
	token := newToken()
	signed := directory.AuthSession{TokenHash: tokenHash(token), PersonID: as.PersonID, Stage: directory.StageSigned,
		Methods: []string{"pwd", "webauthn"}, AuthnAt: now, LastSeen: now, ExpiresAt: now.Add(m.opt.MaxLifetime)}
	actx := audit.WithActor(ctx, "person:"+as.PersonID)
	err = m.store.InTx(actx, func(tx directory.Store) error {
		if err := tx.UseWebAuthnKey(actx, key.ID, string(data), now); err != nil {
			return err
		}
		_, err := tx.ReplaceAuthSession(actx, as.ID, signed)
		return err
	})
	if err != nil {
		m.opt.Observer.SignIn(StepSecurityKey, ResultError)
		m.opt.Logger.Error("security key sign-in", "err", err)
		writeJSONStatus(w, http.StatusInternalServerError, map[string]string{"error": "unavailable"})
		return
	}
	m.opt.Observer.SignIn(StepSecurityKey, ResultSuccess)
	if err := m.throttle.succeed(ctx, keys, counted); err != nil {
		m.opt.Logger.Error("clear failures", "err", err)
	}
	m.setSession(w, token, signed.ExpiresAt)
	writeJSONStatus(w, http.StatusOK, map[string]string{"next": SafeNext(r.URL.Query().Get("next"))})
}

// keysPage lists the person's security keys and offers to add one.
func (m *Manager) keysPage(w http.ResponseWriter, r *http.Request) {
	as, err := m.session(r, directory.StageSigned)
	if err != nil {
		http.Redirect(w, r, LoginURL(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	if m.wa == nil {
		m.message(w, r, http.StatusNotFound, "keys.title", "keys.off", "")
		return
	}
	keys, err := m.store.WebAuthnKeys(r.Context(), as.PersonID)
	if err != nil {
		m.fail(w, r, "security keys", err)
		return
	}
	m.render(w, r, http.StatusOK, "keys.html", page{Title: "keys.title", Data: keys})
}

func serveWebAuthnJS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	http.ServeContent(w, r, "webauthn.js", time.Time{}, bytes.NewReader(webauthnJS))
}
