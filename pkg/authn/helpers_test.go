package authn_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/authn"
	"github.com/tenure-id/tenure/pkg/authn/authntest"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/hr"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/lifecycle"
	"github.com/tenure-id/tenure/pkg/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.RunMain(m)) }

// clock is a settable clock shared by the store, the lifecycle engine and the manager.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var day1 = time.Date(2026, 11, 28, 9, 0, 5, 0, time.UTC)

// env is a Tenure sign-in server on a fresh SQLite directory, with a protected page at /app
// that answers "signed in as PERSON_ID" or sends the browser to sign in.
type env struct {
	t      testing.TB
	ctx    context.Context
	store  *sqlstore.Store
	clock  *clock
	m      *authn.Manager
	engine *lifecycle.Engine
	srv    *httptest.Server
}

const protectedPath = "/app/home"

// localhostURL as Options.PublicURL asks newEnv for http://localhost:PORT of its own server.
const localhostURL = "localhost"

func newEnv(t testing.TB, mods ...func(*authn.Options)) *env {
	t.Helper()
	return newEnvOn(t, "sqlite://"+filepath.Join(t.TempDir(), "t.db"), mods...)
}

func newEnvOn(t testing.TB, url string, mods ...func(*authn.Options)) *env {
	t.Helper()
	return newEnvStore(t, url, sqlstore.Options{}, mods...)
}

// newEnvStore is newEnvOn with store options (the keys that seal MFA secrets).
func newEnvStore(t testing.TB, url string, sopt sqlstore.Options, mods ...func(*authn.Options)) *env {
	t.Helper()
	ctx := audit.WithActor(context.Background(), "test")
	c := &clock{t: day1}
	sopt.Clock = c.Now
	s, err := sqlstore.Open(ctx, url, sopt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	opt := authn.Options{Store: s, Clock: c.Now}
	for _, mod := range mods {
		mod(&opt)
	}
	srv := httptest.NewUnstartedServer(nil)
	if opt.PublicURL == localhostURL {
		// WebAuthn needs a domain name: the browser reaches the loopback server as localhost.
		_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
		opt.PublicURL = "http://localhost:" + port
	}
	m, err := authn.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, store: s, clock: c, m: m,
		engine: lifecycle.New(s, lifecycle.Options{Clock: c.Now, Naming: lifecycle.Naming{Domain: "piedpiper.test"}})}
	mux := http.NewServeMux()
	mux.HandleFunc("/app/", func(w http.ResponseWriter, r *http.Request) {
		sess, err := m.Current(r)
		if err != nil {
			http.Redirect(w, r, authn.LoginURL(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		fmt.Fprintf(w, "signed in as %s with %s", sess.PersonID, strings.Join(sess.Methods, "+"))
	})
	mux.Handle("/", m.Handler())
	srv.Config.Handler = mux
	srv.Start()
	e.srv = srv
	t.Cleanup(e.srv.Close)
	return e
}

// hire runs a hire through the lifecycle engine and returns the active person.
func (e *env) hire(emp, first, last string) identity.Person {
	e.t.Helper()
	start := e.clock.Now().Add(-24 * time.Hour)
	d := hr.Data{FirstName: first, LastName: last, EmploymentType: identity.Employee, StartDate: &start}
	payload, _ := json.Marshal(d)
	rep, err := e.engine.Submit(e.ctx, []identity.Event{{Type: identity.Hire, EmployeeID: emp, EffectiveAt: start,
		Source: "test", ExternalID: "hire-" + emp, Payload: payload}}, lifecycle.SubmitOptions{})
	if err != nil || rep.Applied != 1 {
		e.t.Fatalf("hire %s: %+v, %v", emp, rep, err)
	}
	p, err := e.store.LookupPerson(e.ctx, emp)
	if err != nil || p.Status != identity.Active {
		e.t.Fatalf("hired %s: %+v, %v", emp, p, err)
	}
	return p
}

// terminate runs a termination effective now through the lifecycle engine.
func (e *env) terminate(p identity.Person) {
	e.t.Helper()
	rep, err := e.engine.Submit(e.ctx, []identity.Event{{Type: identity.Terminate, EmployeeID: p.EmployeeID,
		EffectiveAt: e.clock.Now(), Source: "test", ExternalID: fmt.Sprintf("term-%s-%d", p.EmployeeID, e.clock.Now().UnixNano())}},
		lifecycle.SubmitOptions{})
	if err != nil || rep.Applied != 1 {
		e.t.Fatalf("terminate %s: %+v, %v", p.EmployeeID, rep, err)
	}
}

const goodPassword = "purple elephant lamp post"

// activate issues a link for p and completes it over HTTP, returning the browser and its
// enrolment; the browser ends signed in.
func (e *env) activate(p identity.Person, password string) (*http.Client, authntest.Activation) {
	e.t.Helper()
	a, err := e.m.IssueActivation(e.ctx, p.EmployeeID)
	if err != nil {
		e.t.Fatal(err)
	}
	c := authntest.NewClient()
	// The link's host is the configured public URL; the test reaches the same path directly.
	u, err := url.Parse(a.URL)
	if err != nil {
		e.t.Fatal(err)
	}
	act, err := authntest.Activate(e.ctx, c, e.srv.URL+u.Path, password, e.clock.Now())
	if err != nil {
		e.t.Fatalf("activate %s: %v (page %q)", p.EmployeeID, err, act.Page.Body)
	}
	return c, act
}

// wantSignedIn fails unless the client reaches the protected page as p.
func (e *env) wantSignedIn(c *http.Client, p identity.Person) {
	e.t.Helper()
	pg, err := authntest.Get(e.ctx, c, e.srv.URL+protectedPath)
	if err != nil {
		e.t.Fatal(err)
	}
	if pg.URL.Path != protectedPath || !strings.Contains(pg.Body, "signed in as "+p.ID) {
		e.t.Fatalf("protected page: at %s (HTTP %d) %q, want signed in as %s", pg.URL.Path, pg.Status, trim(pg.Body), p.ID)
	}
}

// wantSignedOut fails unless the protected page sends the client to the login page.
func (e *env) wantSignedOut(c *http.Client) {
	e.t.Helper()
	pg, err := authntest.Get(e.ctx, c, e.srv.URL+protectedPath)
	if err != nil {
		e.t.Fatal(err)
	}
	if pg.URL.Path != "/login" || pg.URL.Query().Get("next") != protectedPath {
		e.t.Fatalf("protected page: at %s (HTTP %d) %q, want the login page with next=%s", pg.URL.String(), pg.Status, trim(pg.Body), protectedPath)
	}
}

func trim(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

func (e *env) auditActions() []string {
	e.t.Helper()
	recs, err := e.store.AuditRecords(e.ctx, 0, 100000)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		if strings.HasPrefix(r.Action, "authn.") {
			out = append(out, r.Action)
		}
	}
	return out
}

func isNoSession(err error) bool { return errors.Is(err, authn.ErrNoSession) }

// newEnvSharing is a second server on e's store and clock: a restarted process or a replica.
func newEnvSharing(t testing.TB, e *env) *env {
	t.Helper()
	m, err := authn.New(authn.Options{Store: e.store, Clock: e.clock.Now, Throttle: authn.ThrottlePolicy{AccountFree: 1}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, ctx: e.ctx, store: e.store, clock: e.clock, m: m, engine: e.engine, srv: srv}
}
