package authn_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tenure-id/tenure/pkg/authn"
	"github.com/tenure-id/tenure/pkg/authn/authntest"
)

// TestBrowserActivateAndSignIn drives headless Chromium through the pages as a new hire would:
// activation link, password, TOTP setup key read off the page, code, recovery codes, the
// protected page; then sign-out and a normal sign-in that starts at the protected page.
func TestBrowserActivateAndSignIn(t *testing.T) {
	browser := authntest.NewBrowser(t)
	e := newEnv(t)
	p := e.hire("PP001", "Richard", "Hendricks")
	a, err := e.m.IssueActivation(e.ctx, p.EmployeeID)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := authntest.BrowserActivate(browser, e.srv.URL+a.URL+"?next="+protectedPath, goodPassword, e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	if len(secret) != 32 {
		t.Errorf("setup key read from the page: %q", secret)
	}
	wantPage := func(what string) {
		t.Helper()
		body, err := chromedp.Run(browser, chromedp.Text(chromedp.CSS("body")))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(body, "signed in as "+p.ID) {
			loc, _ := chromedp.Run(browser, chromedp.Location())
			t.Fatalf("%s: browser at %s shows %q, want the protected page", what, loc, trim(body))
		}
	}
	wantPage("after activation")

	if err := chromedp.Do(browser,
		chromedp.Navigate(e.srv.URL+"/logout"),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("message")),
	); err != nil {
		t.Fatalf("sign out: %v", err)
	}
	e.clock.Add(30 * time.Second)
	if err := authntest.BrowserSignIn(browser, e.srv.URL+protectedPath, p.Username, goodPassword, secret, e.clock.Now); err != nil {
		t.Fatal(err)
	}
	wantPage("after sign-in")
}

// TestBrowserSecurityKey: a signed-in person adds a security key (a virtual authenticator in
// Chromium), signs out, and signs in again with password and the key instead of a code.
func TestBrowserSecurityKey(t *testing.T) {
	browser := authntest.NewBrowser(t)
	if err := authntest.AddVirtualAuthenticator(browser); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *authn.Options) { o.PublicURL = localhostURL })
	base := strings.Replace(e.srv.URL, "127.0.0.1", "localhost", 1)
	p := e.hire("PP001", "Richard", "Hendricks")
	a, err := e.m.IssueActivation(e.ctx, p.EmployeeID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.URL, base+"/activate/") {
		t.Fatalf("activation link %s is not on %s", a.URL, base)
	}
	if _, err := authntest.BrowserActivate(browser, a.URL+"?next="+protectedPath, goodPassword, e.clock.Now); err != nil {
		t.Fatal(err)
	}
	if err := authntest.BrowserAddKey(browser, base); err != nil {
		t.Fatal(err)
	}
	keys, err := e.store.WebAuthnKeys(e.ctx, p.ID)
	if err != nil || len(keys) != 1 || keys[0].Name != "Security key" {
		t.Fatalf("stored keys %+v, %v; want the one just added", keys, err)
	}
	if err := chromedp.Do(browser,
		chromedp.Navigate(base+"/logout"),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("message")),
	); err != nil {
		t.Fatalf("sign out: %v", err)
	}
	if err := authntest.BrowserSignInWithKey(browser, base+protectedPath, p.Username, goodPassword); err != nil {
		t.Fatal(err)
	}
	body, err := chromedp.Run(browser, chromedp.Text(chromedp.CSS("body")))
	if err != nil || !strings.Contains(body, "signed in as "+p.ID+" with pwd+webauthn") {
		t.Fatalf("after security-key sign-in the page shows %q (%v)", trim(body), err)
	}
	keys, _ = e.store.WebAuthnKeys(e.ctx, p.ID)
	if len(keys) != 1 || keys[0].LastUsedAt == nil {
		t.Errorf("key after use: %+v, want its use recorded", keys)
	}
}
