package authn

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

func (m *Manager) getLogin(w http.ResponseWriter, r *http.Request) {
	m.render(w, r, http.StatusOK, "login.html", page{Title: "login.title", Next: SafeNext(r.URL.Query().Get("next"))})
}

// postLogin checks the password and starts the second-factor step. Every failure looks the
// same to the browser (same message, same argon2 work), so the page tells nobody which
// usernames exist.
func (m *Manager) postLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	next := SafeNext(r.PostFormValue("next"))
	login := strings.TrimSpace(r.PostFormValue("login"))
	password := r.PostFormValue("password")
	again := page{Title: "login.title", Next: next, Login: login}
	now := m.now()

	p, found := m.findLogin(ctx, login)
	keys := throttleKeys{account: accountKey(p.ID, login), ip: "ip:" + clientIP(r)}
	wait, counted, err := m.throttle.wait(ctx, keys, now)
	if err != nil {
		m.opt.Observer.SignIn(StepPassword, ResultError)
		m.fail(w, r, "sign-in throttle", err)
		return
	}
	if wait > 0 {
		m.opt.Observer.SignIn(StepPassword, ResultThrottled)
		m.opt.Logger.Warn("sign-in throttled", "person", p.ID, "ip", clientIP(r), "wait", wait.Round(time.Second))
		again.Error = "login.throttled"
		w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
		m.render(w, r, http.StatusTooManyRequests, "login.html", again)
		return
	}
	cred, err := m.checkPassword(ctx, p, found, password)
	if errors.Is(err, ErrWrongPassword) {
		m.opt.Observer.SignIn(StepPassword, ResultRejected)
		lock, terr := m.throttle.fail(ctx, keys, now)
		if terr != nil {
			m.opt.Logger.Error("count failed sign-in", "err", terr)
		}
		m.opt.Logger.Warn("sign-in failed", "person", p.ID, "ip", clientIP(r), "lock", lock)
		again.Error = "login.failed"
		m.render(w, r, http.StatusUnauthorized, "login.html", again)
		return
	}
	if err != nil {
		m.opt.Observer.SignIn(StepPassword, ResultError)
		m.opt.Logger.Error("sign-in password check", "person", p.ID, "err", err)
		again.Error = "login.unavailable"
		m.render(w, r, http.StatusServiceUnavailable, "login.html", again)
		return
	}
	m.opt.Observer.SignIn(StepPassword, ResultSuccess)
	if err := m.throttle.succeed(ctx, keys, counted); err != nil {
		m.opt.Logger.Error("clear sign-in failures", "err", err)
	}
	stage, to := directory.StageEnrol, "/mfa/enrol"
	if cred.TOTPConfirmed {
		stage, to = directory.StageMFA, "/mfa/verify"
	}
	if err := m.startPending(ctx, w, p.ID, stage, "", now); err != nil {
		m.fail(w, r, "start sign-in", err)
		return
	}
	http.Redirect(w, r, to+"?next="+urlQuery(next), http.StatusSeeOther)
}

// findLogin resolves what was typed to an active person by username or work email only (the
// store's lookup also knows IDs and employee IDs, which are not sign-in names).
func (m *Manager) findLogin(ctx context.Context, login string) (identity.Person, bool) {
	if login == "" || len(login) > 320 {
		return identity.Person{}, false
	}
	p, err := m.store.LookupPerson(ctx, login)
	if err != nil {
		if !errors.Is(err, identity.ErrNotFound) {
			m.opt.Logger.Warn("sign-in lookup", "err", err)
		}
		return identity.Person{}, false
	}
	if !strings.EqualFold(p.Username, login) && !strings.EqualFold(p.WorkEmail, login) {
		return identity.Person{}, false
	}
	return p, true
}

// checkPassword returns the person's credential when password is theirs, ErrWrongPassword when
// it is not (or the person cannot sign in), or another error when it could not tell.
func (m *Manager) checkPassword(ctx context.Context, p identity.Person, found bool, password string) (directory.Credential, error) {
	if !found || p.Status != identity.Active || password == "" {
		_, _, _ = VerifyPassword(m.dummy, password, m.opt.Hash)
		return directory.Credential{}, ErrWrongPassword
	}
	cred, err := m.store.GetCredential(ctx, p.ID)
	if err != nil && !errors.Is(err, identity.ErrNotFound) {
		return cred, err
	}
	if m.opt.Delegated != nil {
		delegated, err := m.opt.Delegated.CheckPassword(ctx, p, password)
		if delegated {
			return cred, err
		}
		if err != nil {
			return cred, err
		}
	}
	if cred.PasswordHash == "" {
		_, _, _ = VerifyPassword(m.dummy, password, m.opt.Hash)
		return cred, ErrWrongPassword
	}
	ok, rehash, err := VerifyPassword(cred.PasswordHash, password, m.opt.Hash)
	switch {
	case err != nil:
		return cred, err
	case !ok:
		return cred, ErrWrongPassword
	case rehash:
		m.rehash(ctx, p.ID, password)
	}
	return cred, nil
}

// rehash replaces a hash made with weaker parameters. A failure only delays the upgrade to the
// next sign-in, so it is logged, not fatal.
func (m *Manager) rehash(ctx context.Context, personID, password string) {
	h, err := HashPassword(password, m.opt.Hash)
	if err == nil {
		ctx = audit.WithReason(audit.WithActor(ctx, "tenure"), "password hash parameters raised")
		_, err = m.store.UpdateCredential(ctx, personID, "authn.password.rehash", func(c *directory.Credential) error {
			c.PasswordHash = h
			return nil
		})
	}
	if err != nil {
		m.opt.Logger.Warn("rehash password", "person", personID, "err", err)
	}
}

// startPending gives the browser a new token for a sign-in that has passed the password step.
// oldID, when set, is the pending session it replaces.
func (m *Manager) startPending(ctx context.Context, w http.ResponseWriter, personID, stage, oldID string, now time.Time) error {
	token := newToken()
	as := directory.AuthSession{TokenHash: tokenHash(token), PersonID: personID, Stage: stage, Methods: []string{"pwd"},
		AuthnAt: now, LastSeen: now, ExpiresAt: now.Add(pendingLifetime)}
	var err error
	if oldID != "" {
		_, err = m.store.ReplaceAuthSession(ctx, oldID, as)
	} else {
		_, err = m.store.CreateAuthSession(ctx, as)
	}
	if err != nil {
		return err
	}
	m.setSession(w, token, as.ExpiresAt)
	return nil
}

func (m *Manager) getLogout(w http.ResponseWriter, r *http.Request) {
	m.render(w, r, http.StatusOK, "logout.html", page{Title: "logout.title", Next: "/"})
}

// postLogout ends the browser's session, whatever its stage.
// With an AppSignOut, the browser is then taken to each application the session signed in to.
func (m *Manager) postLogout(w http.ResponseWriter, r *http.Request) {
	var apps func(http.ResponseWriter, *http.Request)
	if c, err := r.Cookie(m.cookieName(sessionCookie)); err == nil && c.Value != "" {
		as, err := m.store.GetAuthSession(r.Context(), tokenHash(c.Value))
		if err == nil {
			if m.signOut != nil && as.Stage == directory.StageSigned {
				// Signing out of Tenure must not depend on the applications: without their list,
				// this browser is still signed out here.
				if apps, err = m.signOut.PrepareSignOut(r.Context(), as.ID); err != nil {
					m.opt.Logger.Warn("sign out of applications", "session", as.ID, "err", err)
					apps = nil
				}
			}
			ctx := audit.WithActor(r.Context(), "person:"+as.PersonID)
			if err := m.store.DeleteAuthSession(audit.WithReason(ctx, "sign out"), as.ID); err != nil {
				m.fail(w, r, "sign out", err)
				return
			}
		}
	}
	m.setCookie(w, sessionCookie, "", -1)
	if apps != nil {
		apps(w, r)
		return
	}
	m.message(w, r, http.StatusOK, "logout.title", "logout.done", LoginURL("/"))
}
