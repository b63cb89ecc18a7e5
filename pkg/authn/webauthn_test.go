package authn_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/authn"
	"github.com/tenure-id/tenure/pkg/authn/authntest"
	"github.com/tenure-id/tenure/pkg/directory"
)

// postJSON posts body to the server as the WebAuthn script does, with the page's CSRF token
// in the header when csrf is set.
func postJSON(t *testing.T, c *http.Client, u, csrf, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestWebAuthnEndpointsRefuse: the ceremonies need the right session stage and a CSRF token,
// and a bad assertion counts as a failed second factor.
func TestWebAuthnEndpointsRefuse(t *testing.T) {
	e := newEnv(t, func(o *authn.Options) {
		o.PublicURL = localhostURL
		o.Throttle = authn.ThrottlePolicy{AccountFree: 1, BaseDelay: time.Minute}
	})
	p := e.hire("PP001", "Richard", "Hendricks")
	signed, _ := e.activate(p, goodPassword)
	login, _ := authntest.Get(e.ctx, signed, e.srv.URL+"/mfa/keys")
	csrf := metaCSRF(login.Body) // the keys page has no form: the script reads the token here
	anon := authntest.NewClient()
	anonPage, _ := authntest.Get(e.ctx, anon, e.srv.URL+"/login")
	anonCSRF := authntest.Hidden(anonPage.Body, "csrf")

	for _, tc := range []struct {
		name   string
		c      *http.Client
		path   string
		csrf   string
		status int
	}{
		{"register without CSRF token", signed, "/mfa/webauthn/register/begin", "", http.StatusForbidden},
		{"register without a session", anon, "/mfa/webauthn/register/begin", anonCSRF, http.StatusUnauthorized},
		{"register signed in", signed, "/mfa/webauthn/register/begin", csrf, http.StatusOK},
		{"register finish with garbage", signed, "/mfa/webauthn/register/finish", csrf, http.StatusBadRequest},
		{"key login with a full session instead of a pending one", signed, "/mfa/webauthn/login/begin", csrf, http.StatusUnauthorized},
		{"key login without a session", anon, "/mfa/webauthn/login/begin", anonCSRF, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if resp := postJSON(t, tc.c, e.srv.URL+tc.path, tc.csrf, `{"id":"x"}`); resp.StatusCode != tc.status {
				t.Errorf("HTTP %d, want %d", resp.StatusCode, tc.status)
			}
		})
	}

	// A pending sign-in of a person with a key: a forged assertion is refused and counted.
	if _, err := e.store.AddWebAuthnKey(e.ctx, directory.WebAuthnKey{PersonID: p.ID, CredentialID: "AAAA", Name: "k", Data: `{"id":"AAAA"}`}); err != nil {
		t.Fatal(err)
	}
	c := authntest.NewClient()
	pg, _ := authntest.Get(e.ctx, c, e.srv.URL+"/login")
	pg, _ = authntest.Submit(e.ctx, c, pg, "/login", url.Values{"login": {p.Username}, "password": {goodPassword}})
	if !strings.Contains(pg.Body, `id="webauthn-login"`) {
		t.Fatalf("second-factor page of a person with a key offers no key: %q", trim(pg.Body))
	}
	token := authntest.Hidden(pg.Body, "csrf")
	if resp := postJSON(t, c, e.srv.URL+"/mfa/webauthn/login/begin", token, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("login begin: HTTP %d", resp.StatusCode)
	}
	for i := 1; i <= 2; i++ {
		if resp := postJSON(t, c, e.srv.URL+"/mfa/webauthn/login/finish", token, `{"id":"AAAA","rawId":"AAAA","type":"public-key"}`); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("forged assertion %d: HTTP %d, want 401", i, resp.StatusCode)
		}
	}
	if resp := postJSON(t, c, e.srv.URL+"/mfa/webauthn/login/finish", token, `{}`); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("after two forged assertions: HTTP %d, want 429", resp.StatusCode)
	}
	e.wantSignedOut(c)

	// mfa reset removes keys with the other factors.
	ctx := audit.WithReason(audit.WithActor(context.Background(), "cli:admin"), "lost keys")
	if _, _, err := authn.ResetMFA(ctx, e.store, p.Username); err != nil {
		t.Fatal(err)
	}
	if keys, _ := e.store.WebAuthnKeys(e.ctx, p.ID); len(keys) != 0 {
		t.Errorf("%d security keys survive an MFA reset", len(keys))
	}
}

func metaCSRF(page string) string {
	const marker = `<meta name="csrf-token" content="`
	i := strings.Index(page, marker)
	if i < 0 {
		return ""
	}
	rest := page[i+len(marker):]
	return rest[:strings.Index(rest, `"`)]
}

func TestSecurityKeysNeedADomain(t *testing.T) {
	e := newEnv(t, func(o *authn.Options) { o.PublicURL = "http://127.0.0.1:8080" })
	p := e.hire("PP001", "Richard", "Hendricks")
	c, _ := e.activate(p, goodPassword)
	pg, _ := authntest.Get(e.ctx, c, e.srv.URL+"/mfa/keys")
	if pg.Status != http.StatusNotFound || !strings.Contains(pg.Body, "not available") {
		t.Errorf("keys page with an IP public URL: HTTP %d, want 404 saying keys are not available", pg.Status)
	}
}
