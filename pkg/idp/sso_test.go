package idp_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/authn"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/idp"
)

const (
	wikiEntity = "https://wiki.test/saml/metadata"
	wikiACS    = "https://wiki.test/saml/acs"
)

var allAttrs = []string{"email", "givenName", "sn", "displayName", "groups"}

func TestSPInitiatedRedirectBindingAcceptedByIndependentSP(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	sp := newTestSP(t, f, wikiEntity, wikiACS)
	sp.register(t, f, "wiki", directory.NameIDPersistent, allAttrs...)
	c := f.signIn(t, f.alice, "pwd", "totp")

	form := readForm(t, get(t, c, sp.redirectURL(t, "/after/login")))
	if form.action != wikiACS || form.relay != "/after/login" {
		t.Errorf("form posts to %q with RelayState %q, want %q and %q", form.action, form.relay, wikiACS, "/after/login")
	}
	info, err := sp.accept(form.samlResponse)
	if err != nil {
		t.Fatalf("gosaml2 refused our response: %v", err)
	}
	wantNameID := idp.PersistentNameID(f.nameKey, f.alice.ID, wikiEntity)
	if info.NameID != wantNameID || strings.Contains(info.NameID, f.alice.ID) {
		t.Errorf("NameID = %q, want the opaque %q (never the person ID %q)", info.NameID, wantNameID, f.alice.ID)
	}
	if info.NameIDFormat != "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" {
		t.Errorf("NameID format = %q", info.NameIDFormat)
	}
	for name, want := range map[string]string{"email": "alice@piedpiper.test", "givenName": "Ally", "sn": "Liddell", "displayName": "Ally Liddell"} {
		if got := info.Values.Get(name); got != want {
			t.Errorf("attribute %s = %q, want %q", name, got, want)
		}
	}
	if got, want := info.Values.GetAll("groups"), []string{"group:editors", "group:readers"}; !slices.Equal(got, want) {
		t.Errorf("groups = %q, want the wiki entitlements the policy resolves, %q", got, want)
	}
	a := info.Assertions[0]
	if a.AuthnStatement == nil || a.AuthnStatement.AuthnContext == nil || a.AuthnStatement.AuthnContext.AuthnContextClassRef == nil ||
		a.AuthnStatement.AuthnContext.AuthnContextClassRef.Value != idp.MFAContextClass {
		t.Errorf("AuthnContextClassRef is not %s: %+v", idp.MFAContextClass, a.AuthnStatement)
	}
	if !info.ResponseSignatureValidated {
		t.Error("gosaml2 did not validate the response signature (xmlsec1 checks both signatures in TestSignaturesVerifyWithXmlsec1)")
	}
	// The same person gets another NameID at another service provider.
	if other := idp.PersistentNameID(f.nameKey, f.alice.ID, "https://other.test"); other == wantNameID {
		t.Error("persistent NameIDs are equal across service providers")
	}
}

func TestSPInitiatedPostBinding(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	sp := newTestSP(t, f, wikiEntity, wikiACS)
	sp.register(t, f, "wiki", directory.NameIDEmail, "email")
	c := f.signIn(t, f.alice, "pwd", "totp")
	doc := sp.authnRequest(t)
	raw, _ := doc.WriteToBytes()
	resp, err := c.PostForm(f.srv.URL+"/saml/sso", url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(raw)}, "RelayState": {"r1"}})
	if err != nil {
		t.Fatal(err)
	}
	form := readForm(t, resp)
	info, err := sp.accept(form.samlResponse)
	if err != nil {
		t.Fatalf("gosaml2 refused our response: %v", err)
	}
	if info.NameID != "alice@piedpiper.test" || info.NameIDFormat != "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" {
		t.Errorf("NameID = %q (%s), want the work email", info.NameID, info.NameIDFormat)
	}
	if info.Values.Get("givenName") != "" || info.Values.Get("groups") != "" {
		t.Errorf("released attributes not registered for this SP: %v", info.Values)
	}
}

func TestNameIDFormats(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	c := f.signIn(t, f.alice, "pwd", "totp")
	cases := []struct {
		format     directory.NameIDFormat
		want       string
		wantFormat string
	}{
		{directory.NameIDEmail, "alice@piedpiper.test", "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"},
		{directory.NameIDUnspecified, "alice", "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"},
		{directory.NameIDPersistent, idp.PersistentNameID(f.nameKey, f.alice.ID, "https://fmt.test/persistent"), "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"},
	}
	for _, tc := range cases {
		t.Run(string(tc.format), func(t *testing.T) {
			entity := "https://fmt.test/" + string(tc.format)
			sp := newTestSP(t, f, entity, entity+"/acs")
			sp.register(t, f, "wiki", tc.format, "email")
			info, err := sp.accept(readForm(t, get(t, c, sp.redirectURL(t, ""))).samlResponse)
			if err != nil {
				t.Fatal(err)
			}
			if info.NameID != tc.want || info.NameIDFormat != tc.wantFormat {
				t.Errorf("NameID = %q (%s), want %q (%s)", info.NameID, info.NameIDFormat, tc.want, tc.wantFormat)
			}
		})
	}
}

// An HTTP-POST request survives the detour through /login: it is parked server-side and
// resumed once, with its original ID answered.
func TestLoginDetourResumesOnce(t *testing.T) {
	for _, binding := range []string{"redirect", "post"} {
		t.Run(binding, func(t *testing.T) {
			f := newFixture(t, fixtureOpts{})
			sp := newTestSP(t, f, wikiEntity, wikiACS)
			sp.register(t, f, "wiki", directory.NameIDPersistent, "email")
			anon := f.client(t)
			var resp *http.Response
			if binding == "redirect" {
				resp = get(t, anon, sp.redirectURL(t, "relay-"+binding))
			} else {
				raw, _ := sp.authnRequest(t).WriteToBytes()
				var err error
				resp, err = anon.PostForm(f.srv.URL+"/saml/sso", url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(raw)}, "RelayState": {"relay-" + binding}})
				if err != nil {
					t.Fatal(err)
				}
			}
			readBody(t, resp)
			loc, err := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusSeeOther || err != nil || loc.Path != "/login" {
				t.Fatalf("without a session: %d to %q, want 303 to /login", resp.StatusCode, resp.Header.Get("Location"))
			}
			next := loc.Query().Get("next")
			if !strings.HasPrefix(next, "/saml/resume?r=") {
				t.Fatalf("login next = %q, want /saml/resume?r=KEY", next)
			}
			// Still not signed in: back to the login page, the request still parked.
			again := get(t, anon, f.srv.URL+next)
			readBody(t, again)
			if again.StatusCode != http.StatusSeeOther {
				t.Fatalf("resume without a session: %d, want 303 to login", again.StatusCode)
			}
			c := f.signIn(t, f.alice, "pwd", "totp")
			form := readForm(t, get(t, c, f.srv.URL+next))
			if form.relay != "relay-"+binding {
				t.Errorf("RelayState after the detour = %q", form.relay)
			}
			if _, err := sp.accept(form.samlResponse); err != nil {
				t.Fatalf("gosaml2 refused the resumed response: %v", err)
			}
			used := get(t, c, f.srv.URL+next)
			if body := readBody(t, used); used.StatusCode != http.StatusBadRequest || !strings.Contains(body, "expired or was already used") {
				t.Errorf("second resume: %d, want 400 and the expired page; body %s", used.StatusCode, body)
			}
		})
	}
}

func TestIdPInitiated(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	sp := newTestSP(t, f, wikiEntity, wikiACS)
	sp.register(t, f, "wiki", directory.NameIDPersistent, "email", "groups")
	u := f.srv.URL + "/saml/idp-initiated?sp=" + url.QueryEscape(wikiEntity) + "&RelayState=home"

	form := readForm(t, get(t, f.signIn(t, f.alice, "pwd", "totp"), u))
	if form.relay != "home" {
		t.Errorf("RelayState = %q", form.relay)
	}
	info, err := sp.accept(form.samlResponse)
	if err != nil {
		t.Fatalf("gosaml2 refused the unsolicited response: %v", err)
	}
	if info.Values.Get("email") != "alice@piedpiper.test" {
		t.Errorf("email = %q", info.Values.Get("email"))
	}

	denied := get(t, f.signIn(t, f.carl, "pwd", "totp"), u)
	if body := readBody(t, denied); denied.StatusCode != http.StatusForbidden || !strings.Contains(body, "No access to this application") {
		t.Errorf("a person without the wiki grant: %d, want 403 and the no-access page; body %s", denied.StatusCode, body)
	}

	anon := get(t, f.client(t), u)
	readBody(t, anon)
	if loc := anon.Header.Get("Location"); anon.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?next=") ||
		!strings.Contains(loc, url.QueryEscape("/saml/idp-initiated?sp=")) {
		t.Errorf("without a session: %d to %q, want 303 to login coming back here", anon.StatusCode, loc)
	}

	unknown := get(t, f.signIn(t, f.alice, "pwd", "totp"), f.srv.URL+"/saml/idp-initiated?sp=https://nobody.test")
	if body := readBody(t, unknown); unknown.StatusCode != http.StatusNotFound || !strings.Contains(body, "Unknown application") {
		t.Errorf("unknown SP: %d, want 404 page; body %s", unknown.StatusCode, body)
	}
}

func TestMetadataPublishesCurrentAndNextSigningCerts(t *testing.T) {
	next := testNextCert(t)
	for _, tc := range []struct {
		name  string
		opts  fixtureOpts
		certs int
	}{{"current only", fixtureOpts{}, 1}, {"with next", fixtureOpts{nextCert: next}, 2}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.opts)
			resp := get(t, f.client(t), f.srv.URL+"/saml/metadata")
			body := readBody(t, resp)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("metadata: %d", resp.StatusCode)
			}
			ed, err := parseIdPMetadata([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if ed.EntityID != f.idp.EntityID() {
				t.Errorf("entityID %q, want %q", ed.EntityID, f.idp.EntityID())
			}
			signing := signingCerts(ed)
			if len(signing) != tc.certs || signing[0] != base64.StdEncoding.EncodeToString(f.cert.Raw) {
				t.Fatalf("signing certificates: %d, first is current: %v; want %d with the current first", len(signing), len(signing) > 0 && signing[0] == base64.StdEncoding.EncodeToString(f.cert.Raw), tc.certs)
			}
			if tc.opts.nextCert != nil && signing[1] != base64.StdEncoding.EncodeToString(next.Raw) {
				t.Error("the next certificate is not published for signing")
			}
			sso := ssoBindings(ed)
			if !slices.Contains(sso, "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect") || !slices.Contains(sso, "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST") {
				t.Errorf("SSO bindings %v, want Redirect and POST", sso)
			}
		})
	}
}

// ForceAuthn: a session older than the request is not good enough; the browser signs in again
// and the assertion carries the new sign-in's instant.
func TestForceAuthnNeedsAFreshSignIn(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	sp := newTestSP(t, f, wikiEntity, wikiACS)
	sp.register(t, f, "wiki", directory.NameIDPersistent, "email")
	sp.sp.ForceAuthn = true
	old := time.Now().Add(-time.Hour)
	f.sessions.add("old", authn.Session{ID: "s-old", PersonID: f.alice.ID, AuthnAt: old, LastSeen: old, Methods: []string{"pwd", "totp"}})
	c := f.client(t)
	base := mustURL(t, f.srv.URL)
	c.Jar.SetCookies(base, []*http.Cookie{{Name: sessionCookie, Value: "old", Path: "/"}})

	resp := get(t, c, sp.redirectURL(t, ""))
	readBody(t, resp)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Path != "/login" {
		t.Fatalf("ForceAuthn with an hour-old session: %d to %q, want 303 to /login", resp.StatusCode, resp.Header.Get("Location"))
	}
	next := loc.Query().Get("next")
	// Resuming with the same old session sends the browser back to sign in again.
	again := get(t, c, f.srv.URL+next)
	readBody(t, again)
	if again.StatusCode != http.StatusSeeOther || !strings.HasPrefix(again.Header.Get("Location"), "/login") {
		t.Fatalf("resume with the old session: %d to %q, want another trip to /login", again.StatusCode, again.Header.Get("Location"))
	}
	next = mustURL(t, again.Header.Get("Location")).Query().Get("next")

	signedAt := time.Now()
	f.sessions.add("new", authn.Session{ID: "s-new", PersonID: f.alice.ID, AuthnAt: signedAt, LastSeen: signedAt, Methods: []string{"pwd", "totp"}})
	c.Jar.SetCookies(base, []*http.Cookie{{Name: sessionCookie, Value: "new", Path: "/"}})
	info, err := sp.accept(readForm(t, get(t, c, f.srv.URL+next)).samlResponse)
	if err != nil {
		t.Fatalf("gosaml2 refused the response after the fresh sign-in: %v", err)
	}
	if info.AuthnInstant == nil || info.AuthnInstant.Before(signedAt.Add(-time.Second)) {
		t.Errorf("AuthnInstant = %v, want the fresh sign-in at %v", info.AuthnInstant, signedAt)
	}
}

// IsPassive forbids showing a login page: without a session the SP gets a NoPassive status.
func TestIsPassiveWithoutSessionAnswersNoPassive(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	sp := newTestSP(t, f, wikiEntity, wikiACS)
	sp.register(t, f, "wiki", directory.NameIDPersistent, "email")
	sp.sp.IsPassive = true
	form := readForm(t, get(t, f.client(t), sp.redirectURL(t, "")))
	if _, err := sp.accept(form.samlResponse); err == nil {
		t.Fatal("the SP accepted a response to a passive request without a session")
	}
	if body := string(form.xml(t)); !strings.Contains(body, "urn:oasis:names:tc:SAML:2.0:status:NoPassive") || strings.Contains(body, "Assertion ") {
		t.Errorf("want a NoPassive status and no assertion:\n%s", body)
	}
}

// The configured assertion lifetime, not crewjam's 90 s default, bounds the assertion and its
// subject confirmation.
func TestAssertionLifetime(t *testing.T) {
	for _, lifetime := range []time.Duration{0, 5 * time.Minute} {
		f := newFixture(t, fixtureOpts{lifetime: lifetime})
		sp := newTestSP(t, f, wikiEntity, wikiACS)
		sp.register(t, f, "wiki", directory.NameIDPersistent, "email")
		before := time.Now()
		info, err := sp.accept(readForm(t, get(t, f.signIn(t, f.alice, "pwd", "totp"), sp.redirectURL(t, ""))).samlResponse)
		if err != nil {
			t.Fatal(err)
		}
		want := lifetime
		if want == 0 {
			want = 90 * time.Second
		}
		a := info.Assertions[0]
		for what, v := range map[string]string{"Conditions": a.Conditions.NotOnOrAfter,
			"SubjectConfirmationData": a.Subject.SubjectConfirmation.SubjectConfirmationData.NotOnOrAfter} {
			end, err := time.Parse(time.RFC3339, v)
			if err != nil {
				t.Fatalf("%s NotOnOrAfter %q: %v", what, v, err)
			}
			if d := end.Sub(before); d < want-2*time.Second || d > want+5*time.Second {
				t.Errorf("lifetime %s: %s NotOnOrAfter is %s after the request, want about %s", lifetime, what, d, want)
			}
		}
	}
}
