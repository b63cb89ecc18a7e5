package idp_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tenure-id/tenure/pkg/authn"
	"github.com/tenure-id/tenure/pkg/authn/authntest"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/idp"
)

// spServer serves a gosaml2 service provider on a loopback port: /start sends the browser to
// the IdP with an HTTP-POST AuthnRequest, /acs takes the response and says whom it signed in.
func spServer(t *testing.T, f *fixture) *testSP {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	sp := newTestSP(t, f, srv.URL+"/saml/metadata", srv.URL+"/saml/acs")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /start", func(w http.ResponseWriter, r *http.Request) {
		body, err := sp.sp.BuildAuthBodyPostFromDocument("from-start", sp.authnRequest(t))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><html><body>%s</body></html>", body)
	})
	mux.HandleFunc("POST /saml/acs", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		info, err := sp.accept(r.PostFormValue("SAMLResponse"))
		if err != nil {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, `<p id="error">%s</p>`, html.EscapeString(err.Error()))
			return
		}
		fmt.Fprintf(w, `<p id="welcome">%s|%s|%s</p>`, html.EscapeString(info.NameID),
			html.EscapeString(info.Values.Get("email")), html.EscapeString(r.PostFormValue("RelayState")))
	})
	srv.Config.Handler = mux
	return sp
}

// The whole path a new employee takes on their first day: open the app, get sent to Tenure,
// sign in with the password, enrol an authenticator, and land in the app signed in — with the
// assertion checked by an SP that shares no SAML code with the IdP. Then HR terminates them
// and the same browser's next SSO gets no assertion.
func TestBrowserSPInitiatedSSOWithTOTPEnrolment(t *testing.T) {
	f := newFixture(t, fixtureOpts{realSignIn: true})
	ctx := context.Background()
	const password = "correct horse battery staple"
	hash, err := authn.HashPassword(password, authn.DefaultHashParams)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.UpdateCredential(ctx, f.alice.ID, "authn.password.set", func(c *directory.Credential) error {
		c.PasswordHash = hash
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sp := spServer(t, f)
	sp.register(t, f, "wiki", directory.NameIDPersistent, "email", "groups")

	browser := authntest.NewBrowser(t)
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(browser, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			loc, _ := chromedp.Run(browser, chromedp.Location())
			body, _ := chromedp.Run(browser, chromedp.OuterHTML(chromedp.CSS("body")))
			t.Fatalf("%s: %v (at %s)\n%s", what, err, loc, body)
		}
	}
	startURL := strings.TrimSuffix(sp.acs, "/saml/acs") + "/start"
	step("SP sends the browser to Tenure's login",
		chromedp.Navigate(startURL),
		chromedp.WaitVisible(chromedp.ID("login")))
	step("password",
		chromedp.SendKeys(chromedp.ID("login"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.ID("totp-secret")))
	secret, err := chromedp.Run(browser, chromedp.Text(chromedp.ID("totp-secret")))
	if err != nil {
		t.Fatal(err)
	}
	code, err := authntest.Code(strings.TrimSpace(secret), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	step("TOTP enrolment",
		chromedp.SendKeys(chromedp.ID("code"), code),
		chromedp.Submit(chromedp.ID("code")),
		chromedp.WaitVisible(chromedp.ID("recovery-codes")))
	step("continue to the application",
		chromedp.Click(chromedp.ID("continue")),
		chromedp.WaitVisible(chromedp.ID("welcome")))
	welcome, err := chromedp.Run(browser, chromedp.Text(chromedp.ID("welcome")))
	if err != nil {
		t.Fatal(err)
	}
	want := idp.PersistentNameID(f.nameKey, f.alice.ID, sp.entityID) + "|alice@piedpiper.test|from-start"
	if welcome != want {
		t.Errorf("the SP signed in %q, want %q", welcome, want)
	}

	// Terminated: the live session is refused on its very next request, before any assertion.
	if _, err := f.store.UpdatePerson(ctx, f.alice.ID, func(p *identity.Person) error {
		p.Status = identity.Terminated
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	step("SSO after termination goes back to the login page",
		chromedp.Navigate(startURL),
		chromedp.WaitVisible(chromedp.ID("login")))
	loc, err := chromedp.Run(browser, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := neturl.Parse(loc); u == nil || u.Path != "/login" {
		t.Errorf("after termination the browser is at %s, want the login page", loc)
	}
}
