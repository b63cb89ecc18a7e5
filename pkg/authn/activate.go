package authn

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// Activation is a link handed to a new hire; Token is in URL only and never stored.
type Activation struct {
	URL       string
	PersonID  string
	ExpiresAt time.Time
}

// IssueActivation makes a one-time link for the person named by key (ID, employee ID, username
// or email) to set a password and enrol a second factor. The person's earlier links stop
// working. The audit actor and reason come from ctx.
func (m *Manager) IssueActivation(ctx context.Context, key string) (Activation, error) {
	p, err := m.store.LookupPerson(ctx, key)
	if err != nil {
		return Activation{}, fmt.Errorf("credentials for %q: %w", key, err)
	}
	if p.Status == identity.Terminated || p.Status == identity.Suspended {
		return Activation{}, fmt.Errorf("credentials for %q: person is %s: %w", key, p.Status, identity.ErrInvalid)
	}
	if p.Username == "" && p.WorkEmail == "" {
		return Activation{}, fmt.Errorf("credentials for %q: person has neither username nor work email to sign in with: %w", key, identity.ErrInvalid)
	}
	if m.opt.Delegated != nil {
		delegated, err := m.opt.Delegated.CheckPassword(ctx, p, "")
		if delegated {
			return Activation{}, fmt.Errorf("credentials for %q: the password lives in an LDAP source with delegated binds; "+
				"they sign in with it and enrol two-step verification at their first sign-in: %w", key, identity.ErrInvalid)
		}
		if err != nil {
			return Activation{}, fmt.Errorf("credentials for %q: %w", key, err)
		}
	}
	token := newToken()
	a, err := m.store.CreateActivation(ctx, directory.Activation{TokenHash: tokenHash(token), PersonID: p.ID,
		ExpiresAt: m.now().Add(m.opt.ActivationTTL)})
	if err != nil {
		return Activation{}, fmt.Errorf("credentials for %q: %w", key, err)
	}
	return Activation{URL: m.opt.PublicURL + "/activate/" + token, PersonID: p.ID, ExpiresAt: a.ExpiresAt}, nil
}

// ResetMFA removes the person's second factors (authenticator, recovery codes, security keys)
// and ends their sessions, in one transaction: the
// next sign-in enrols afresh. The audit actor and reason come from ctx.
func ResetMFA(ctx context.Context, s Store, key string) (identity.Person, int, error) {
	p, err := s.LookupPerson(ctx, key)
	if err != nil {
		return p, 0, fmt.Errorf("mfa reset %q: %w", key, err)
	}
	var ended int
	err = s.InTx(ctx, func(tx directory.Store) error {
		if _, err := tx.UpdateCredential(ctx, p.ID, "authn.mfa.reset", func(c *directory.Credential) error {
			c.TOTPSecret, c.TOTPConfirmed, c.RecoveryCodes = "", false, nil
			return nil
		}); err != nil {
			return err
		}
		if _, err := tx.DeletePersonWebAuthnKeys(ctx, p.ID); err != nil {
			return err
		}
		var err error
		ended, err = tx.DeletePersonAuthSessions(ctx, p.ID)
		return err
	})
	if err != nil {
		return p, 0, fmt.Errorf("mfa reset %q: %w", key, err)
	}
	return p, ended, nil
}

// activation finds the link of the request and checks it still works.
func (m *Manager) activation(w http.ResponseWriter, r *http.Request) (directory.Activation, identity.Person, bool) {
	ctx := r.Context()
	a, err := m.store.GetActivation(ctx, tokenHash(r.PathValue("token")))
	if err == nil && a.UsedAt == nil && m.now().Before(a.ExpiresAt) {
		var p identity.Person
		if p, err = m.store.GetPerson(ctx, a.PersonID); err == nil {
			if p.Status != identity.Active && p.Status != identity.PreHire {
				m.message(w, r, http.StatusForbidden, "activate.title", "activate.inactive", "")
				return a, p, false
			}
			return a, p, true
		}
	}
	if err != nil && !errors.Is(err, identity.ErrNotFound) {
		m.fail(w, r, "activation", err)
		return a, identity.Person{}, false
	}
	m.message(w, r, http.StatusGone, "activate.gone.title", "activate.gone.text", "")
	return a, identity.Person{}, false
}

func loginName(p identity.Person) string {
	if p.Username != "" {
		return p.Username
	}
	return p.WorkEmail
}

func (m *Manager) getActivate(w http.ResponseWriter, r *http.Request) {
	_, p, ok := m.activation(w, r)
	if !ok {
		return
	}
	m.render(w, r, http.StatusOK, "activate.html", page{Title: "activate.title", Next: SafeNext(r.URL.Query().Get("next")),
		Login: loginName(p), Action: r.URL.Path})
}

// postActivate sets the password, uses up the link and moves on to the second factor, all or
// nothing: a link is never spent without a password set.
func (m *Manager) postActivate(w http.ResponseWriter, r *http.Request) {
	a, p, ok := m.activation(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	next := SafeNext(r.PostFormValue("next"))
	again := page{Title: "activate.title", Next: next, Login: loginName(p), Action: r.URL.Path}
	password := r.PostFormValue("password")
	if password != r.PostFormValue("confirm") {
		again.Error = "activate.mismatch"
		m.render(w, r, http.StatusBadRequest, "activate.html", again)
		return
	}
	var pe *PolicyError
	if err := CheckPassword(password, p); errors.As(err, &pe) {
		again.Error = pe.ID
		m.render(w, r, http.StatusBadRequest, "activate.html", again)
		return
	}
	if m.opt.Delegated != nil {
		// A local password would never be asked for: the silo's password wins.
		if delegated, _ := m.opt.Delegated.CheckPassword(ctx, p, ""); delegated {
			m.message(w, r, http.StatusConflict, "activate.title", "activate.delegated", LoginURL(next))
			return
		}
	}
	hash, err := HashPassword(password, m.opt.Hash)
	if err != nil {
		m.fail(w, r, "activate", err)
		return
	}
	now := m.now()
	token := newToken()
	pendingSession := directory.AuthSession{TokenHash: tokenHash(token), PersonID: p.ID, Methods: []string{"pwd"},
		AuthnAt: now, LastSeen: now, ExpiresAt: now.Add(pendingLifetime)}
	actx := auditAs(ctx, p.ID, "activation link")
	err = m.store.InTx(actx, func(tx directory.Store) error {
		if _, err := tx.UseActivation(actx, a.ID, now); err != nil {
			return err
		}
		cred, err := tx.UpdateCredential(actx, p.ID, "authn.password.set", func(c *directory.Credential) error {
			c.PasswordHash, c.PasswordSetAt = hash, &now
			return nil
		})
		if err != nil {
			return err
		}
		pendingSession.Stage = directory.StageEnrol
		if cred.TOTPConfirmed {
			pendingSession.Stage = directory.StageMFA
		}
		_, err = tx.CreateAuthSession(actx, pendingSession)
		return err
	})
	if errors.Is(err, identity.ErrConflict) { // the other tab won
		m.message(w, r, http.StatusGone, "activate.gone.title", "activate.gone.text", "")
		return
	}
	if err != nil {
		m.fail(w, r, "activate", err)
		return
	}
	m.setSession(w, token, pendingSession.ExpiresAt)
	to := "/mfa/enrol"
	if pendingSession.Stage == directory.StageMFA {
		to = "/mfa/verify"
	}
	http.Redirect(w, r, to+"?next="+urlQuery(next), http.StatusSeeOther)
}
