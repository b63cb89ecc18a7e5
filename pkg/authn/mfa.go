package authn

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

func urlQuery(s string) string { return url.QueryEscape(s) }

// pending returns the request's unfinished sign-in of stage, or sends the browser back to the
// login page and returns false.
func (m *Manager) pending(w http.ResponseWriter, r *http.Request, stage string) (directory.AuthSession, bool) {
	as, err := m.session(r, stage)
	if err != nil {
		next := r.URL.Query().Get("next")
		if r.Method == http.MethodPost {
			next = r.PostFormValue("next")
		}
		http.Redirect(w, r, LoginURL(next), http.StatusSeeOther)
		return as, false
	}
	return as, true
}

func (m *Manager) getVerify(w http.ResponseWriter, r *http.Request) {
	as, ok := m.pending(w, r, directory.StageMFA)
	if !ok {
		return
	}
	m.render(w, r, http.StatusOK, "verify.html", page{Title: "verify.title", Next: SafeNext(r.URL.Query().Get("next")),
		Data: m.hasKeys(r.Context(), as.PersonID)})
}

// hasKeys says whether to offer the person's security keys on the second-factor page.
func (m *Manager) hasKeys(ctx context.Context, personID string) bool {
	if m.wa == nil {
		return false
	}
	keys, err := m.store.WebAuthnKeys(ctx, personID)
	return err == nil && len(keys) > 0
}

// postVerify accepts a TOTP code or a recovery code and turns the pending sign-in into a
// session, under a new token.
func (m *Manager) postVerify(w http.ResponseWriter, r *http.Request) {
	as, ok := m.pending(w, r, directory.StageMFA)
	if !ok {
		return
	}
	ctx := r.Context()
	next := SafeNext(r.PostFormValue("next"))
	code := r.PostFormValue("code")
	now := m.now()
	keys := throttleKeys{account: accountKey(as.PersonID, ""), ip: "ip:" + clientIP(r)}
	again := page{Title: "verify.title", Next: next}
	step, method, action := StepTOTP, "totp", "authn.totp.use"
	if looksLikeRecoveryCode(code) {
		step, method, action = StepRecoveryCode, "recovery", "authn.recovery_code.use"
	}
	wait, counted, err := m.throttle.wait(ctx, keys, now)
	if err != nil {
		m.opt.Observer.SignIn(step, ResultError)
		m.fail(w, r, "verify throttle", err)
		return
	}
	if wait > 0 {
		m.opt.Observer.SignIn(step, ResultThrottled)
		again.Error = "login.throttled"
		m.render(w, r, http.StatusTooManyRequests, "verify.html", again)
		return
	}
	token := newToken()
	signed := directory.AuthSession{TokenHash: tokenHash(token), PersonID: as.PersonID, Stage: directory.StageSigned,
		Methods: []string{"pwd", method}, AuthnAt: now, LastSeen: now, ExpiresAt: now.Add(m.opt.MaxLifetime)}
	actx := audit.WithActor(ctx, "person:"+as.PersonID)
	err = m.store.InTx(actx, func(tx directory.Store) error {
		if _, err := tx.UpdateCredential(actx, as.PersonID, action, func(c *directory.Credential) error {
			if !c.TOTPConfirmed {
				return ErrWrongCode
			}
			if method == "recovery" {
				return useRecoveryCode(c, code)
			}
			return useTOTP(c, code, now)
		}); err != nil {
			return err
		}
		_, err := tx.ReplaceAuthSession(actx, as.ID, signed)
		return err
	})
	if errors.Is(err, ErrWrongCode) || errors.Is(err, ErrReplay) {
		m.opt.Observer.SignIn(step, ResultRejected)
		lock, terr := m.throttle.fail(ctx, keys, now)
		if terr != nil {
			m.opt.Logger.Error("count failed code", "err", terr)
		}
		m.opt.Logger.Warn("second factor refused", "person", as.PersonID, "ip", clientIP(r), "replay", errors.Is(err, ErrReplay), "lock", lock)
		again.Error, again.Data = "verify.wrong", m.hasKeys(ctx, as.PersonID)
		m.render(w, r, http.StatusUnauthorized, "verify.html", again)
		return
	}
	if err != nil {
		m.opt.Observer.SignIn(step, ResultError)
		m.fail(w, r, "verify second factor", err)
		return
	}
	m.opt.Observer.SignIn(step, ResultSuccess)
	if err := m.throttle.succeed(ctx, keys, counted); err != nil {
		m.opt.Logger.Error("clear failures", "err", err)
	}
	m.setSession(w, token, signed.ExpiresAt)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

type enrolData struct {
	QR     template.URL
	Secret string
}

func (m *Manager) getEnrol(w http.ResponseWriter, r *http.Request) {
	as, ok := m.pending(w, r, directory.StageEnrol)
	if !ok {
		return
	}
	m.showEnrol(w, r, as, http.StatusOK, "")
}

// showEnrol shows the person's enrolment secret, making one on the first visit. Reloading shows
// the same secret, so a scan from an earlier load stays valid.
func (m *Manager) showEnrol(w http.ResponseWriter, r *http.Request, as directory.AuthSession, status int, errID string) {
	ctx := r.Context()
	p, err := m.store.GetPerson(ctx, as.PersonID)
	if err != nil {
		m.fail(w, r, "enrol", err)
		return
	}
	account := p.WorkEmail
	if account == "" {
		account = p.Username
	}
	cred, err := m.store.GetCredential(ctx, p.ID)
	if err != nil {
		m.fail(w, r, "enrol", err)
		return
	}
	if cred.TOTPSecret == "" {
		key, err := newTOTPKey(m.opt.Issuer, account)
		if err != nil {
			m.fail(w, r, "enrol", err)
			return
		}
		actx := audit.WithActor(ctx, "person:"+p.ID)
		cred, err = m.store.UpdateCredential(actx, p.ID, "authn.totp.enrol_start", func(c *directory.Credential) error {
			if c.TOTPSecret == "" { // a second tab may have made one first
				c.TOTPSecret, c.TOTPConfirmed, c.TOTPLastStep = key.Secret(), false, 0
			}
			return nil
		})
		if err != nil {
			m.fail(w, r, "enrol", err)
			return
		}
	}
	qr, err := qrDataURI(totpURL(m.opt.Issuer, account, cred.TOTPSecret))
	if err != nil {
		m.fail(w, r, "enrol", err)
		return
	}
	next := SafeNext(r.URL.Query().Get("next"))
	if r.Method == http.MethodPost {
		next = SafeNext(r.PostFormValue("next"))
	}
	m.render(w, r, status, "enrol.html", page{Title: "enrol.title", Next: next, Error: errID,
		Data: enrolData{QR: qr, Secret: cred.TOTPSecret}})
}

// postEnrol confirms the authenticator with one code, hands out recovery codes and signs in.
func (m *Manager) postEnrol(w http.ResponseWriter, r *http.Request) {
	as, ok := m.pending(w, r, directory.StageEnrol)
	if !ok {
		return
	}
	ctx := r.Context()
	next := SafeNext(r.PostFormValue("next"))
	now := m.now()
	codes, hashes := newRecoveryCodes()
	token := newToken()
	signed := directory.AuthSession{TokenHash: tokenHash(token), PersonID: as.PersonID, Stage: directory.StageSigned,
		Methods: []string{"pwd", "totp"}, AuthnAt: now, LastSeen: now, ExpiresAt: now.Add(m.opt.MaxLifetime)}
	p, err := m.store.GetPerson(ctx, as.PersonID)
	if err != nil {
		m.fail(w, r, "enrol second factor", err)
		return
	}
	// A new hire setting up before their first day enrols but gets no session yet.
	preHire := p.Status == identity.PreHire
	actx := audit.WithActor(ctx, "person:"+as.PersonID)
	err = m.store.InTx(actx, func(tx directory.Store) error {
		if _, err := tx.UpdateCredential(actx, as.PersonID, "authn.totp.enrol", func(c *directory.Credential) error {
			if c.TOTPConfirmed {
				return ErrWrongCode // enrolled meanwhile, elsewhere: sign in the normal way
			}
			if err := useTOTP(c, r.PostFormValue("code"), now); err != nil {
				return err
			}
			c.TOTPConfirmed, c.RecoveryCodes = true, hashes
			return nil
		}); err != nil {
			return err
		}
		if preHire {
			return tx.DeleteAuthSession(actx, as.ID)
		}
		_, err := tx.ReplaceAuthSession(actx, as.ID, signed)
		return err
	})
	if errors.Is(err, ErrWrongCode) || errors.Is(err, ErrReplay) {
		m.showEnrol(w, r, as, http.StatusUnauthorized, "enrol.wrong")
		return
	}
	if err != nil {
		m.fail(w, r, "enrol second factor", err)
		return
	}
	if preHire {
		m.setCookie(w, sessionCookie, "", -1)
		m.render(w, r, http.StatusOK, "codes.html", page{Title: "codes.title", Notice: "codes.prehire", Data: codes})
		return
	}
	m.setSession(w, token, signed.ExpiresAt)
	m.render(w, r, http.StatusOK, "codes.html", page{Title: "codes.title", Next: next, Data: codes})
}
