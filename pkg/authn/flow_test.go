package authn_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/authn"
	"github.com/tenure-id/tenure/pkg/authn/authntest"
	"github.com/tenure-id/tenure/pkg/directory"
)

// TestActivateSignOutSignIn walks a new hire through the whole life of their credentials:
// activation link, password, TOTP enrolment, recovery codes, a session, sign-out, and a
// second sign-in with password and a later TOTP code.
func TestActivateSignOutSignIn(t *testing.T) {
	e := newEnv(t)
	p := e.hire("PP001", "Richard", "Hendricks")
	c, act := e.activate(p, goodPassword)
	if len(act.Secret) != 32 || len(act.RecoveryCodes) != authn.RecoveryCodeCount {
		t.Fatalf("enrolment gave secret %q and %d recovery codes", act.Secret, len(act.RecoveryCodes))
	}
	if !strings.Contains(act.Page.Body, `<html lang="en">`) {
		t.Error("pages do not declare their language")
	}
	e.wantSignedIn(c, p)

	// Sign out: a form, with CSRF token, then the protected page sends us to sign in.
	pg, err := authntest.Get(e.ctx, c, e.srv.URL+"/logout")
	if err != nil {
		t.Fatal(err)
	}
	if pg, err = authntest.Submit(e.ctx, c, pg, "/logout", nil); err != nil || pg.Status != http.StatusOK {
		t.Fatalf("logout: HTTP %d, %v", pg.Status, err)
	}
	e.wantSignedOut(c)

	// Sign in again half a minute later, by work email this time.
	e.clock.Add(30 * time.Second)
	pg, err = authntest.SignIn(e.ctx, c, e.srv.URL, p.WorkEmail, goodPassword, act.Secret, e.clock.Now(), protectedPath)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	if pg.URL.Path != protectedPath || !strings.Contains(pg.Body, "signed in as "+p.ID+" with pwd+totp") {
		t.Fatalf("after sign-in at %s: %q", pg.URL.Path, trim(pg.Body))
	}

	want := []string{"authn.activation.issue", "authn.activation.use", "authn.password.set", "authn.totp.enrol_start",
		"authn.totp.enrol", "authn.session.create", "authn.session.end", "authn.totp.use", "authn.session.create"}
	if got := e.auditActions(); !slices.Equal(got, want) {
		t.Errorf("audit actions = %v\nwant %v", got, want)
	}
	// Nothing secret in the audit log: not the password, the TOTP secret, a recovery code or
	// any stored hash.
	recs, _ := e.store.AuditRecords(e.ctx, 0, 1000)
	cred, _ := e.store.GetCredential(e.ctx, p.ID)
	blob, _ := json.Marshal(recs)
	secrets := append([]string{goodPassword, act.Secret, cred.PasswordHash}, act.RecoveryCodes...)
	secrets = append(secrets, cred.RecoveryCodes...)
	for _, s := range secrets {
		if strings.Contains(string(blob), s) {
			t.Errorf("audit log contains a secret (%.12s...)", s)
		}
	}
}

func TestWrongPasswordAndUnknownUserLookAlike(t *testing.T) {
	e := newEnv(t)
	p := e.hire("PP001", "Richard", "Hendricks")
	e.activate(p, goodPassword)
	for _, tc := range []struct{ name, login, password string }{
		{"wrong password", p.Username, "purple elephant lamp pole"},
		{"unknown user", "gavin.belson", goodPassword},
		{"employee ID is not a sign-in name", p.EmployeeID, goodPassword},
		{"empty password", p.Username, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := authntest.NewClient()
			pg, err := authntest.Get(e.ctx, c, e.srv.URL+"/login")
			if err != nil {
				t.Fatal(err)
			}
			pg, err = authntest.Submit(e.ctx, c, pg, "/login", url.Values{"login": {tc.login}, "password": {tc.password}})
			if err != nil {
				t.Fatal(err)
			}
			if pg.Status != http.StatusUnauthorized || authntest.PageError(pg.Body) != "Wrong username or password." {
				t.Errorf("HTTP %d, message %q; want 401 and the one generic message", pg.Status, authntest.PageError(pg.Body))
			}
			if strings.Contains(pg.Body, tc.password) && tc.password != "" {
				t.Error("the page echoes the password back")
			}
			e.wantSignedOut(c)
		})
	}
}

// TestPasswordAloneIsNoSession: after the password step the browser holds a pending sign-in,
// which no protected page accepts, and which cannot skip to enrolment.
func TestPasswordAloneIsNoSession(t *testing.T) {
	e := newEnv(t)
	p := e.hire("PP001", "Richard", "Hendricks")
	e.activate(p, goodPassword)
	c := authntest.NewClient()
	pg, _ := authntest.Get(e.ctx, c, e.srv.URL+"/login?next="+url.QueryEscape(protectedPath))
	pg, err := authntest.Submit(e.ctx, c, pg, "/login", url.Values{"login": {p.Username}, "password": {goodPassword}})
	if err != nil || pg.URL.Path != "/mfa/verify" {
		t.Fatalf("password step: at %s, %v", pg.URL.Path, err)
	}
	e.wantSignedOut(c)
	// An enrolled person cannot start a new enrolment (which would show a fresh secret).
	en, _ := authntest.Get(e.ctx, c, e.srv.URL+"/mfa/enrol")
	if en.URL.Path != "/login" || authntest.TOTPSecret(en.Body) != "" {
		t.Errorf("enrolment page for an enrolled person: at %s", en.URL.Path)
	}
	// The pending step times out.
	e.clock.Add(11 * time.Minute)
	v, _ := authntest.Get(e.ctx, c, e.srv.URL+"/mfa/verify")
	if v.URL.Path != "/login" {
		t.Errorf("verify page after 11 minutes: at %s, want /login", v.URL.Path)
	}
}

// TestTOTPReplayAndRecoveryCode: the enrolment code cannot be used again to sign in; a recovery
// code can, once.
func TestTOTPReplayAndRecoveryCode(t *testing.T) {
	e := newEnv(t)
	p := e.hire("PP001", "Richard", "Hendricks")
	_, act := e.activate(p, goodPassword)
	c := authntest.NewClient()
	// Same clock: the code is the one just used for enrolment.
	pg, err := authntest.SignIn(e.ctx, c, e.srv.URL, p.Username, goodPassword, act.Secret, e.clock.Now(), protectedPath)
	if err != nil {
		t.Fatal(err)
	}
	if pg.URL.Path != "/mfa/verify" || pg.Status != http.StatusUnauthorized {
		t.Fatalf("replayed TOTP code: at %s HTTP %d, want refused on /mfa/verify", pg.URL.Path, pg.Status)
	}
	e.wantSignedOut(c)
	rc := act.RecoveryCodes[0]
	pg, err = authntest.Submit(e.ctx, c, pg, "/mfa/verify", url.Values{"code": {strings.ToUpper(rc)}})
	if err != nil || pg.URL.Path != protectedPath || !strings.Contains(pg.Body, "with pwd+recovery") {
		t.Fatalf("recovery code: at %s %q, %v", pg.URL.Path, trim(pg.Body), err)
	}
	// The same recovery code again, in a new browser.
	c2 := authntest.NewClient()
	pg, _ = authntest.Get(e.ctx, c2, e.srv.URL+"/login")
	pg, _ = authntest.Submit(e.ctx, c2, pg, "/login", url.Values{"login": {p.Username}, "password": {goodPassword}})
	pg, _ = authntest.Submit(e.ctx, c2, pg, "/mfa/verify", url.Values{"code": {rc}})
	if pg.Status != http.StatusUnauthorized {
		t.Errorf("used recovery code: HTTP %d at %s, want 401", pg.Status, pg.URL.Path)
	}
	cred, _ := e.store.GetCredential(e.ctx, p.ID)
	if len(cred.RecoveryCodes) != authn.RecoveryCodeCount-1 {
		t.Errorf("%d recovery codes left, want %d", len(cred.RecoveryCodes), authn.RecoveryCodeCount-1)
	}
}

func TestOpenRedirectRefused(t *testing.T) {
	e := newEnv(t)
	p := e.hire("PP001", "Richard", "Hendricks")
	_, act := e.activate(p, goodPassword)
	e.clock.Add(30 * time.Second)
	c := authntest.NewClient()
	pg, err := authntest.SignIn(e.ctx, c, e.srv.URL, p.Username, goodPassword, act.Secret, e.clock.Now(), "https://evil.example/steal")
	if err != nil {
		t.Fatal(err)
	}
	if pg.URL.Host != strings.TrimPrefix(e.srv.URL, "http://") || pg.URL.Path != "/" {
		t.Errorf("sign-in with an external next ended at %s, want / on this server", pg.URL)
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	p := e.hire("PP001", "Richard", "Hendricks")
	e.activate(p, goodPassword)
	form := url.Values{"login": {p.Username}, "password": {goodPassword}}
	c := authntest.NewClient()
	login, _ := authntest.Get(e.ctx, c, e.srv.URL+"/login")
	token := authntest.Hidden(login.Body, "csrf")
	if len(token) != 43 {
		t.Fatalf("login page csrf token %q", token)
	}
	tests := []struct {
		name   string
		token  string
		header map[string]string
		want   int
	}{
		{"no token", "", nil, http.StatusForbidden},
		{"wrong token", strings.Repeat("A", 43), nil, http.StatusForbidden},
		{"right token, cross-site request", token, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"right token, foreign origin", token, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"right token", token, nil, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := url.Values{"csrf": {tt.token}}
			for k, v := range form {
				f[k] = v
			}
			req, _ := http.NewRequestWithContext(e.ctx, http.MethodPost, e.srv.URL+"/login", strings.NewReader(f.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("HTTP %d at %s, want %d", resp.StatusCode, resp.Request.URL.Path, tt.want)
			}
		})
	}
}

func TestCookieAttributes(t *testing.T) {
	for _, secure := range []bool{false, true} {
		e := newEnv(t, func(o *authn.Options) { o.SecureCookies = secure })
		resp, err := http.Get(e.srv.URL + "/login")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		cs := resp.Cookies()
		if len(cs) != 1 {
			t.Fatalf("login page set %d cookies, want the CSRF cookie", len(cs))
		}
		ck := cs[0]
		wantName := "tenure_csrf"
		if secure {
			wantName = "__Host-tenure_csrf"
		}
		if ck.Name != wantName || !ck.HttpOnly || ck.Secure != secure || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" {
			t.Errorf("secure=%v: cookie %+v, want %s HttpOnly SameSite=Lax Path=/ no Domain", secure, ck, wantName)
		}
		for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "Referrer-Policy"} {
			if resp.Header.Get(h) == "" {
				t.Errorf("header %s missing", h)
			}
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q, want no-store", cc)
		}
	}
}

func TestActivationLinkExpiresAndIsSingleUse(t *testing.T) {
	e := newEnv(t)
	p := e.hire("PP001", "Richard", "Hendricks")
	a, err := e.m.IssueActivation(e.ctx, p.Username)
	if err != nil {
		t.Fatal(err)
	}
	if !a.ExpiresAt.Equal(e.clock.Now().Add(72 * time.Hour)) {
		t.Errorf("link expires %s, want 72 h from now", a.ExpiresAt)
	}
	e.clock.Add(72*time.Hour + time.Second)
	pg, _ := authntest.Get(e.ctx, authntest.NewClient(), e.srv.URL+a.URL)
	if pg.Status != http.StatusGone {
		t.Errorf("expired link: HTTP %d, want 410", pg.Status)
	}

	b, _ := e.m.IssueActivation(e.ctx, p.Username)
	c, err := e.m.IssueActivation(e.ctx, p.Username) // retires b
	if err != nil {
		t.Fatal(err)
	}
	if pg, _ := authntest.Get(e.ctx, authntest.NewClient(), e.srv.URL+b.URL); pg.Status != http.StatusGone {
		t.Errorf("superseded link: HTTP %d, want 410", pg.Status)
	}
	if _, err := authntest.Activate(e.ctx, authntest.NewClient(), e.srv.URL+c.URL, goodPassword, e.clock.Now()); err != nil {
		t.Fatalf("fresh link: %v", err)
	}
	if pg, _ := authntest.Get(e.ctx, authntest.NewClient(), e.srv.URL+c.URL); pg.Status != http.StatusGone {
		t.Errorf("used link: HTTP %d, want 410", pg.Status)
	}
	if pg, _ := authntest.Get(e.ctx, authntest.NewClient(), e.srv.URL+"/activate/nonsense"); pg.Status != http.StatusGone {
		t.Errorf("made-up link: HTTP %d, want 410", pg.Status)
	}
}

func TestActivationEnforcesPolicy(t *testing.T) {
	e := newEnv(t)
	p := e.hire("PP001", "Richard", "Hendricks")
	a, _ := e.m.IssueActivation(e.ctx, p.Username)
	c := authntest.NewClient()
	for _, tc := range []struct{ password, confirm, want string }{
		{"short", "short", "too short"},
		{"password1234", "password1234", "too common"},
		{"richard hendricks rocks", "richard hendricks rocks", "must not contain your name"},
		{goodPassword, goodPassword + "x", "not the same"},
	} {
		pg, _ := authntest.Get(e.ctx, c, e.srv.URL+a.URL)
		pg, err := authntest.Submit(e.ctx, c, pg, pg.URL.Path, url.Values{"password": {tc.password}, "confirm": {tc.confirm}})
		if err != nil {
			t.Fatal(err)
		}
		if pg.Status != http.StatusBadRequest || !strings.Contains(authntest.PageError(pg.Body), tc.want) {
			t.Errorf("password %q: HTTP %d message %q, want 400 saying %q", tc.password, pg.Status, authntest.PageError(pg.Body), tc.want)
		}
	}
	// The refusals did not use up the link.
	if _, err := authntest.Activate(e.ctx, c, e.srv.URL+a.URL, goodPassword, e.clock.Now()); err != nil {
		t.Fatalf("link after refused passwords: %v", err)
	}
	if cred, _ := e.store.GetCredential(e.ctx, p.ID); !strings.HasPrefix(cred.PasswordHash, "$argon2id$v=19$m=7168,t=5,p=1$") {
		t.Errorf("stored hash %.30q is not argon2id at Keycloak's parameters", cred.PasswordHash)
	}
}

func TestIssueActivationRefusesLeavers(t *testing.T) {
	e := newEnv(t)
	p := e.hire("PP001", "Richard", "Hendricks")
	e.terminate(p)
	if _, err := e.m.IssueActivation(e.ctx, p.EmployeeID); err == nil || !strings.Contains(err.Error(), "terminated") {
		t.Errorf("activation for a terminated person: %v", err)
	}
	if _, err := e.m.IssueActivation(e.ctx, "nobody"); err == nil {
		t.Error("activation for an unknown person succeeded")
	}
}

// TestWeakHashUpgradedAtSignIn: a hash made with parameters below the current ones (imported,
// or from before the parameters were raised) is replaced at the next correct sign-in.
func TestWeakHashUpgradedAtSignIn(t *testing.T) {
	e := newEnv(t)
	p := e.hire("PP001", "Richard", "Hendricks")
	_, act := e.activate(p, goodPassword)
	weak, err := authn.HashPassword(goodPassword, authn.HashParams{Time: 2, Memory: 4096, Threads: 1, SaltLen: 16, KeyLen: 32})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.UpdateCredential(e.ctx, p.ID, "test.import", func(c *directory.Credential) error {
		c.PasswordHash = weak
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(30 * time.Second)
	if _, err := authntest.SignIn(e.ctx, authntest.NewClient(), e.srv.URL, p.Username, goodPassword, act.Secret, e.clock.Now(), protectedPath); err != nil {
		t.Fatal(err)
	}
	cred, _ := e.store.GetCredential(e.ctx, p.ID)
	if !strings.HasPrefix(cred.PasswordHash, "$argon2id$v=19$m=7168,t=5,p=1$") {
		t.Errorf("hash after sign-in %.32q, want upgraded to m=7168,t=5", cred.PasswordHash)
	}
	if ok, _, _ := authn.VerifyPassword(cred.PasswordHash, goodPassword, authn.DefaultHashParams); !ok {
		t.Error("upgraded hash does not verify the password")
	}
	if got := e.auditActions(); !slices.Contains(got, "authn.password.rehash") {
		t.Errorf("no authn.password.rehash audit record in %v", got)
	}
}
