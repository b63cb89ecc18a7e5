package idp_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/russellhaering/gosaml2/types"

	"github.com/tenure-id/tenure/pkg/authn/authntest"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/idp"
	"github.com/tenure-id/tenure/pkg/testenv"
)

// signedInBrowser signs Alice in through the real password and TOTP pages at base.
func signedInBrowser(t *testing.T, f *fixture, base string) *http.Client {
	t.Helper()
	browser := authntest.NewClient()
	if _, err := authntest.SignIn(context.Background(), browser, base, "alice", replicaPassword, replicaTOTP, time.Now(), "/"); err != nil {
		t.Fatal(err)
	}
	if !signedInAt(t, browser, base) {
		t.Fatal("after sign-in the browser has no session")
	}
	return browser
}

// signedInAt reports whether the browser's session at base is alive: a page that needs one
// shows instead of the login page.
func signedInAt(t *testing.T, browser *http.Client, base string) bool {
	t.Helper()
	p, err := authntest.Get(context.Background(), browser, base+"/mfa/keys")
	if err != nil {
		t.Fatal(err)
	}
	return p.URL.Path != "/login"
}

// sendLogout posts the SP's LogoutRequest form to the IdP at base through the browser and
// follows the auto-submitting forms to the end.
func sendLogout(t *testing.T, browser *http.Client, base string, form url.Values) authntest.Page {
	t.Helper()
	p, err := authntest.Post(context.Background(), browser, base+"/saml/slo", form)
	if err != nil {
		t.Fatal(err)
	}
	if p.URL.Host == mustURL(t, base).Host && strings.Contains(p.Body, "SAMLSubmitButton") {
		// Tenure's form on to the next SP, or its LogoutResponse: its script alone may run.
		checkFormPolicy(t, p.Header.Get("Content-Security-Policy"), p.Body)
	}
	return autoPost(t, browser, p)
}

// sessionEnds returns the authn.session.end records made by single logout from sp.
func sessionEnds(t *testing.T, f *fixture, sp *sloSP) []identity.AuditRecord {
	t.Helper()
	var out []identity.AuditRecord
	for _, r := range auditRecords(t, f.store, "authn.session.end") {
		if r.Actor == "saml:"+sp.entityID {
			out = append(out, r)
		}
	}
	return out
}

// An SP-initiated single logout through the real sign-in: the SP's signed LogoutRequest ends
// the Tenure session (audited, naming the SP), and its LogoutResponse, signed by the IdP, is
// accepted by the independent SP and verified by xmlsec1.
func TestSPInitiatedSingleLogout(t *testing.T) {
	xmlsec := testenv.Require(t, "xmlsec1")["xmlsec1"]
	f := newFixture(t, fixtureOpts{realSignIn: true})
	giveCredentials(t, f.store, f.alice)
	sp := newSLOSP(t, f, nil)
	sp.register(t, f, "wiki")
	browser := signedInBrowser(t, f, f.srv.URL)
	sp.signInTo(t, browser)
	if want := idp.PersistentNameID(f.nameKey, f.alice.ID, sp.entityID); sp.nameID != want || sp.sessionIndex == "" {
		t.Fatalf("SP signed in %q with SessionIndex %q, want %q and an index", sp.nameID, sp.sessionIndex, want)
	}

	end := sendLogout(t, browser, f.srv.URL, sp.logoutRequest(t, true, false))
	if end.Status != http.StatusOK || !strings.Contains(end.Body, `id="sp-signed-out">back-to-`+sp.entityID) {
		t.Fatalf("logout ended at %s with %d, want the SP's signed-out page with its RelayState:\n%s", end.URL, end.Status, end.Body)
	}
	if signedInAt(t, browser, f.srv.URL) {
		t.Error("the Tenure session survived the SP's LogoutRequest")
	}
	if recs := sessionEnds(t, f, sp); len(recs) != 1 || recs[0].Reason != "SAML single logout" {
		t.Errorf("audit records of the end by the SP: %+v, want one with the reason", recs)
	}
	if len(sp.responses) != 1 {
		t.Fatalf("the SP validated %d LogoutResponses, want 1", len(sp.responses))
	}
	raw, err := base64.StdEncoding.DecodeString(sp.responses[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := xmlsec1VerifyNode(t, xmlsec, f, raw, "urn:oasis:names:tc:SAML:2.0:protocol:LogoutResponse"); err != nil {
		t.Errorf("xmlsec1 refused the LogoutResponse's signature: %v", err)
	}
	var resp types.LogoutResponse
	if err := xml.Unmarshal(raw, &resp); err != nil || resp.Status.StatusCode.Value != "urn:oasis:names:tc:SAML:2.0:status:Success" {
		t.Errorf("LogoutResponse status: %+v, %v", resp.Status, err)
	}
}

// One Tenure session signed in to two SPs: SP A's LogoutRequest sends the browser to SP B with
// a LogoutRequest for B's own NameID and SessionIndex, and only once B has answered is A
// answered.
func TestSingleLogoutPropagatesToOtherSP(t *testing.T) {
	f := newFixture(t, fixtureOpts{realSignIn: true})
	giveCredentials(t, f.store, f.alice)
	events := &eventLog{}
	a, b := newSLOSP(t, f, events), newSLOSP(t, f, events)
	a.register(t, f, "wiki")
	b.register(t, f, "wiki")
	browser := signedInBrowser(t, f, f.srv.URL)
	a.signInTo(t, browser)
	b.signInTo(t, browser)

	form := a.logoutRequest(t, true, false)
	end := sendLogout(t, browser, f.srv.URL, form)
	if !strings.Contains(end.Body, `id="sp-signed-out"`) || end.URL.Host != mustURL(t, a.base).Host {
		t.Fatalf("logout ended at %s with %d, want A's signed-out page:\n%s", end.URL, end.Status, end.Body)
	}
	if len(b.requests) != 1 {
		t.Fatalf("B got %d LogoutRequests, want 1", len(b.requests))
	}
	req := b.requests[0]
	if got := req.FindElement("./NameID").Text(); got != b.nameID {
		t.Errorf("B's LogoutRequest names %q, want B's NameID %q", got, b.nameID)
	}
	if got := req.FindElement("./SessionIndex"); got == nil || got.Text() != b.sessionIndex {
		t.Errorf("B's LogoutRequest SessionIndex %v, want %q", got, b.sessionIndex)
	}
	ev := events.all()
	if len(ev) != 2 || ev[0] != "request to "+b.entityID || !strings.HasPrefix(ev[1], "response to "+a.entityID) {
		t.Errorf("order of logout messages: %q, want B's request, then A's response", ev)
	}
	if signedInAt(t, browser, f.srv.URL) {
		t.Error("the Tenure session survived")
	}
	if len(a.requests) != 0 {
		t.Errorf("A, which asked, was sent %d LogoutRequests", len(a.requests))
	}
}

// Signing out at Tenure's /logout takes the browser to every SP of the session, each with its
// own NameID, and ends at the signed-out page, which names the SP that could not be told (its
// metadata has no SingleLogoutService).
func TestTenureSignOutPropagates(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, fixtureOpts{realSignIn: true})
	giveCredentials(t, f.store, f.alice)
	events := &eventLog{}
	a, b, mute := newSLOSP(t, f, events), newSLOSP(t, f, events), newSLOSP(t, f, events)
	mute.noSLO = true
	for _, sp := range []*sloSP{a, b, mute} {
		sp.register(t, f, "wiki")
	}
	browser := signedInBrowser(t, f, f.srv.URL)
	for _, sp := range []*sloSP{a, b, mute} {
		sp.signInTo(t, browser)
	}

	page, err := authntest.Get(ctx, browser, f.srv.URL+"/logout")
	if err != nil {
		t.Fatal(err)
	}
	if page, err = authntest.Submit(ctx, browser, page, "/logout", nil); err != nil {
		t.Fatal(err)
	}
	// The page that takes the browser on to the first SP runs its script under a policy that
	// allows that script alone.
	checkFormPolicy(t, page.Header.Get("Content-Security-Policy"), page.Body)
	end := autoPost(t, browser, page)
	if end.URL.Host != mustURL(t, f.srv.URL).Host || !strings.Contains(end.Body, `id="signed-out"`) {
		t.Fatalf("sign-out ended at %s with %d, want Tenure's signed-out page:\n%s", end.URL, end.Status, end.Body)
	}
	if !strings.Contains(end.Body, `id="not-confirmed"`) || !strings.Contains(end.Body, mute.entityID) || strings.Contains(end.Body, a.entityID) {
		t.Errorf("the signed-out page should name only the SP without single logout:\n%s", end.Body)
	}
	for _, sp := range []*sloSP{a, b} {
		if len(sp.requests) != 1 || sp.requests[0].FindElement("./NameID").Text() != sp.nameID {
			t.Errorf("%s got %d LogoutRequests, want 1 for its NameID", sp.entityID, len(sp.requests))
		}
	}
	if signedInAt(t, browser, f.srv.URL) {
		t.Error("the Tenure session survived /logout")
	}
	if recs := auditRecords(t, f.store, "authn.session.end"); len(recs) != 1 || recs[0].Reason != "sign out" {
		t.Errorf("session end records: %+v, want the one sign out", recs)
	}
}

// LogoutRequests that must end nothing: the session they aim at stays.
func TestLogoutRequestsRefused(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	wiki := newSLOSP(t, f, nil)
	wiki.register(t, f, "wiki")
	other := newSLOSP(t, f, nil)
	other.register(t, f, "wiki")
	// impostor claims to be the wiki but signs with a key of its own.
	impostor := newSLOSP(t, f, nil)
	impostor.sp.ServiceProviderIssuer = wiki.entityID
	var replayed url.Values

	cases := []struct {
		name string
		// form returns the LogoutRequest sent for the session the wiki signed in to.
		form func(t *testing.T, browser *http.Client) url.Values
		// status is the IdP's answer at /saml/slo; 0 accepts any (an answer to the SP).
		status int
	}{
		{"unsigned", func(t *testing.T, _ *http.Client) url.Values { return wiki.logoutRequest(t, false, false) }, http.StatusBadRequest},
		{"signed by another key", func(t *testing.T, _ *http.Client) url.Values {
			impostor.nameID, impostor.sessionIndex = wiki.nameID, wiki.sessionIndex
			return impostor.logoutRequest(t, true, false)
		}, http.StatusBadRequest},
		{"tampered after signing", func(t *testing.T, _ *http.Client) url.Values {
			form := wiki.logoutRequest(t, true, true)
			raw, _ := base64.StdEncoding.DecodeString(form.Get("SAMLRequest"))
			raw = []byte(strings.Replace(string(raw), wiki.nameID, wiki.nameID+"x", 1))
			form.Set("SAMLRequest", base64.StdEncoding.EncodeToString(raw))
			return form
		}, http.StatusBadRequest},
		{"from an SP not in the session", func(t *testing.T, _ *http.Client) url.Values {
			// It names the wiki's NameID and SessionIndex for the person: a request for a session
			// it never took part in.
			other.nameID, other.sessionIndex = wiki.nameID, wiki.sessionIndex
			return other.logoutRequest(t, true, false)
		}, 0},
		{"replayed", func(t *testing.T, _ *http.Client) url.Values { return replayed }, http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "replayed" {
				// A valid request without SessionIndex (all the person's wiki sessions) ends an
				// earlier session; sent again it must not end the next one.
				earlier := f.signIn(t, f.alice, "pwd", "totp")
				wiki.signInTo(t, earlier)
				replayed = wiki.logoutRequest(t, true, true)
				if p := sendLogout(t, earlier, f.srv.URL, replayed); !strings.Contains(p.Body, "sp-signed-out") {
					t.Fatalf("the first use of the request was not answered: %d\n%s", p.Status, p.Body)
				}
			}
			browser, token := f.signInToken(t, f.alice, "pwd", "totp")
			wiki.signInTo(t, browser)
			form := tc.form(t, browser)
			p, err := authntest.Post(context.Background(), browser, f.srv.URL+"/saml/slo", form)
			if err != nil {
				t.Fatal(err)
			}
			if tc.status != 0 && p.Status != tc.status {
				t.Errorf("IdP answered %d, want %d", p.Status, tc.status)
			}
			sum := sha256.Sum256([]byte(token))
			if _, err := f.store.GetAuthSession(context.Background(), hex.EncodeToString(sum[:])); err != nil {
				t.Errorf("the session ended: %v", err)
			}
		})
	}
}

// Replicas share the participants: a session signed in to the SP through one server is ended
// by the SP's LogoutRequest at the other.
func TestSingleLogoutAcrossReplicas(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			opts := fixtureOpts{realSignIn: true}
			if backend == "postgres" {
				opts.dbURL = testenv.SharedPostgres(t).NewDatabase(t)
			}
			f := newFixture(t, opts)
			giveCredentials(t, f.store, f.alice)
			sp := newSLOSP(t, f, nil)
			sp.register(t, f, "wiki")
			browser := signedInBrowser(t, f, f.srv.URL)
			sp.signInTo(t, browser)
			other := f.replica(t, opts)
			end := sendLogout(t, browser, other.URL, sp.logoutRequest(t, true, false))
			if !strings.Contains(end.Body, `id="sp-signed-out"`) {
				t.Fatalf("logout at the other server ended at %s with %d:\n%s", end.URL, end.Status, end.Body)
			}
			if signedInAt(t, browser, f.srv.URL) {
				t.Error("the session created on the first server survived the logout at the second")
			}
			if len(sessionEnds(t, f, sp)) != 1 {
				t.Error("no audit record of the end")
			}
		})
	}
}

// The metadata publishes the single logout service with both front-channel bindings.
func TestMetadataListsSingleLogout(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	body := readBody(t, get(t, f.client(t), f.srv.URL+"/saml/metadata"))
	ed, err := parseIdPMetadata([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	var bindings []string
	for _, s := range ed.IDPSSODescriptor.SingleLogoutServices {
		if s.Location != f.srv.URL+"/saml/slo" {
			t.Errorf("SingleLogoutService at %s, want %s/saml/slo", s.Location, f.srv.URL)
		}
		bindings = append(bindings, s.Binding)
	}
	slices.Sort(bindings)
	want := []string{"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"}
	if !slices.Equal(bindings, want) {
		t.Errorf("SingleLogoutService bindings %v, want %v", bindings, want)
	}
}
