package idp_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/authn"
	"github.com/tenure-id/tenure/pkg/authn/authntest"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/idp"
	"github.com/tenure-id/tenure/pkg/testenv"
)

const (
	replicaPassword = "correct horse battery staple"
	replicaTOTP     = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
)

// giveCredentials sets a password and an enrolled authenticator, as activation would.
func giveCredentials(t *testing.T, s directory.Store, p identity.Person) {
	t.Helper()
	hash, err := authn.HashPassword(replicaPassword, authn.DefaultHashParams)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateCredential(context.Background(), p.ID, "authn.password.set", func(c *directory.Credential) error {
		c.PasswordHash, c.TOTPSecret, c.TOTPConfirmed = hash, replicaTOTP, true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// parkAt sends the SP's HTTP-Redirect request to the server at base without a session and
// returns the login page's next: the resume path with the parked request's key.
func parkAt(t *testing.T, f *fixture, sp *testSP, base, relay string) string {
	t.Helper()
	u := mustURL(t, sp.redirectURL(t, relay))
	resp := get(t, f.client(t), base+u.Path+"?"+u.RawQuery)
	readBody(t, resp)
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || err != nil || loc.Path != "/login" {
		t.Fatalf("without a session: %d to %q, want 303 to /login", resp.StatusCode, resp.Header.Get("Location"))
	}
	next := loc.Query().Get("next")
	if !strings.HasPrefix(next, "/saml/resume?r=") {
		t.Fatalf("login next = %q, want /saml/resume?r=KEY", next)
	}
	return next
}

// Behind a load balancer the SP's request reaches one replica and the browser's sign-in and
// return another; a restart in between must lose nothing either. The parked request lives in
// the shared database, so the other replica (or the restarted one) answers it, once, and an
// SP sharing no SAML code with the IdP accepts the answer.
func TestSPInitiatedSignInAcrossReplicas(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		for _, mode := range []string{"other replica", "restart", "racing resumes"} {
			t.Run(backend+"/"+mode, func(t *testing.T) {
				ctx := context.Background()
				opts := fixtureOpts{realSignIn: true}
				if backend == "postgres" {
					opts.dbURL = testenv.SharedPostgres(t).NewDatabase(t)
				}
				f := newFixture(t, opts)
				giveCredentials(t, f.store, f.alice)
				sp := newTestSP(t, f, wikiEntity, wikiACS)
				sp.register(t, f, "wiki", directory.NameIDPersistent, "email")
				next := parkAt(t, f, sp, f.srv.URL, "relay-"+mode)
				if mode == "restart" {
					// The first server is gone with whatever it held in memory.
					f.srv.Close()
				}
				b := f.replica(t, opts)
				browser := authntest.NewClient()

				var form postedResponse
				if mode == "racing resumes" {
					if _, err := authntest.SignIn(ctx, browser, b.URL, "alice", replicaPassword, replicaTOTP, time.Now(), "/"); err != nil {
						t.Fatal(err)
					}
					form = raceResumes(t, browser, []string{f.srv.URL + next, b.URL + next})
				} else {
					page, err := authntest.SignIn(ctx, browser, b.URL, "alice", replicaPassword, replicaTOTP, time.Now(), next)
					if err != nil {
						t.Fatal(err)
					}
					if page.URL.Host != mustURL(t, b.URL).Host || page.URL.Path != "/saml/resume" {
						t.Fatalf("after sign-in the browser is at %s, want the second server's /saml/resume", page.URL)
					}
					form = parseForm(t, page.Status, page.Body)
				}
				info, err := sp.accept(form.samlResponse)
				if err != nil {
					t.Fatalf("gosaml2 refused the response resumed on the second server: %v", err)
				}
				if want := idp.PersistentNameID(f.nameKey, f.alice.ID, wikiEntity); info.NameID != want || form.relay != "relay-"+mode {
					t.Errorf("signed in %q with RelayState %q, want %q and %q", info.NameID, form.relay, want, "relay-"+mode)
				}
				again, err := authntest.Get(ctx, browser, b.URL+next)
				if err != nil || again.Status != http.StatusBadRequest || !strings.Contains(again.Body, "expired or was already used") {
					t.Errorf("resuming again: %d, %v; want 400 and the expired page", again.Status, err)
				}
			})
		}
	}
}

// raceResumes sends the signed-in browser's resume to every URL at once and returns the one
// response form; it fails unless exactly one resume got a form and the others the expired page.
func raceResumes(t *testing.T, browser *http.Client, urls []string) postedResponse {
	t.Helper()
	pages := make([]authntest.Page, len(urls))
	errs := make([]error, len(urls))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, u := range urls {
		wg.Go(func() {
			<-start
			pages[i], errs[i] = authntest.Get(context.Background(), browser, u)
		})
	}
	close(start)
	wg.Wait()
	var forms []postedResponse
	for i, p := range pages {
		switch {
		case errs[i] != nil:
			t.Fatalf("resume at %s: %v", urls[i], errs[i])
		case p.Status == http.StatusOK:
			forms = append(forms, parseForm(t, p.Status, p.Body))
		case p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "expired or was already used"):
			t.Errorf("losing resume at %s: %d, want 400 and the expired page", urls[i], p.Status)
		}
	}
	if len(forms) != 1 {
		t.Fatalf("%d of %d racing resumes got a response form, want exactly 1", len(forms), len(urls))
	}
	return forms[0]
}

// A signed AuthnRequest captured on the way is answered once while it is valid, whichever
// replica it reaches: sent to both, one after the other or at the same moment, exactly one
// replica answers with a response and the other refuses it.
func TestSignedAuthnRequestAnsweredOnceAcrossReplicas(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		for _, mode := range []string{"in turn", "racing"} {
			t.Run(backend+"/"+mode, func(t *testing.T) {
				opts := fixtureOpts{}
				if backend == "postgres" {
					opts.dbURL = testenv.SharedPostgres(t).NewDatabase(t)
				}
				f := newFixture(t, opts)
				b := f.replica(t, opts)
				signed, sp := signedRequest(t, f)
				// Sessions are the fixture's, shared by both servers; cookies go to both hosts.
				c := f.signIn(t, f.alice, "pwd", "totp")
				u := mustURL(t, signed)
				atB := mustURL(t, b.URL).JoinPath(u.Path)
				atB.RawQuery = u.RawQuery
				targets := []string{signed, atB.String()}
				statuses := make([]int, len(targets))
				bodies := make([]string, len(targets))
				errs := make([]error, len(targets))
				// Not get/readBody: they stop the test, which only its own goroutine may do.
				send := func(i int) {
					resp, err := c.Get(targets[i])
					if err != nil {
						errs[i] = err
						return
					}
					defer resp.Body.Close()
					b, err := io.ReadAll(resp.Body)
					statuses[i], bodies[i], errs[i] = resp.StatusCode, string(b), err
				}
				if mode == "in turn" {
					send(0)
					send(1)
				} else {
					start := make(chan struct{})
					var wg sync.WaitGroup
					for i := range targets {
						wg.Go(func() {
							<-start
							send(i)
						})
					}
					close(start)
					wg.Wait()
				}
				answered := 0
				for i := range targets {
					switch {
					case errs[i] != nil:
						t.Fatalf("request to %s: %v", targets[i], errs[i])
					case statuses[i] == http.StatusOK && strings.Contains(bodies[i], "SAMLResponse"):
						answered++
						if _, err := sp.accept(parseForm(t, statuses[i], bodies[i]).samlResponse); err != nil {
							t.Errorf("the answer from %s: %v", targets[i], err)
						}
					case statuses[i] != http.StatusBadRequest || strings.Contains(bodies[i], "SAMLResponse"):
						t.Errorf("replica %d: %d, want 200 with a response or 400 without", i, statuses[i])
					}
				}
				if answered != 1 {
					t.Errorf("%d replicas answered the same signed request, want exactly 1", answered)
				}
			})
		}
	}
}
