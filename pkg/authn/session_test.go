package authn_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/authn"
	"github.com/tenure-id/tenure/pkg/authn/authntest"
	"github.com/tenure-id/tenure/pkg/identity"
)

// TestTerminationEndsSessionAtOnce: a person signed in on two browsers is terminated by the
// lifecycle engine; the very next request of either browser is refused, and the person's
// sessions are gone from the store.
func TestTerminationEndsSessionAtOnce(t *testing.T) {
	e := newEnv(t)
	p := e.hire("PP001", "Richard", "Hendricks")
	c1, act := e.activate(p, goodPassword)
	e.clock.Add(30 * time.Second)
	c2 := authntest.NewClient()
	if _, err := authntest.SignIn(e.ctx, c2, e.srv.URL, p.Username, goodPassword, act.Secret, e.clock.Now(), protectedPath); err != nil {
		t.Fatal(err)
	}
	e.wantSignedIn(c1, p)
	e.wantSignedIn(c2, p)

	e.terminate(p)
	refusedAt := time.Now()
	pg, err := authntest.Get(e.ctx, c1, e.srv.URL+protectedPath)
	elapsed := time.Since(refusedAt)
	if err != nil {
		t.Fatal(err)
	}
	if pg.URL.Path != "/login" {
		t.Fatalf("first request after termination reached %s", pg.URL.Path)
	}
	t.Logf("termination committed → next request refused (incl. redirect to /login): %s", elapsed)
	e.wantSignedOut(c2)
	if n, err := e.store.DeletePersonAuthSessions(e.ctx, p.ID); err != nil || n != 0 {
		t.Errorf("%d sessions of the terminated person left in the store (%v), want none", n, err)
	}
	// Neither can they sign in again.
	c3 := authntest.NewClient()
	e.clock.Add(30 * time.Second)
	pg, _ = authntest.SignIn(e.ctx, c3, e.srv.URL, p.Username, goodPassword, act.Secret, e.clock.Now(), protectedPath)
	if pg.Status != http.StatusUnauthorized || pg.URL.Path != "/login" {
		t.Errorf("terminated person signing in: HTTP %d at %s, want 401 on /login", pg.Status, pg.URL.Path)
	}
}

func TestSuspensionEndsSession(t *testing.T) {
	e := newEnv(t)
	p := e.hire("PP001", "Richard", "Hendricks")
	c, _ := e.activate(p, goodPassword)
	e.wantSignedIn(c, p)
	if _, err := e.store.UpdatePerson(e.ctx, p.ID, func(q *identity.Person) error { q.Status = identity.Suspended; return nil }); err != nil {
		t.Fatal(err)
	}
	e.wantSignedOut(c)
}

func TestIdleAndAbsoluteTimeouts(t *testing.T) {
	e := newEnv(t, func(o *authn.Options) { o.IdleTimeout, o.MaxLifetime = 30*time.Minute, 2*time.Hour })
	p := e.hire("PP001", "Richard", "Hendricks")
	c, act := e.activate(p, goodPassword)

	// Idle: 29 minutes is fine and refreshes the timer; 30 more without a request is not.
	e.clock.Add(29 * time.Minute)
	e.wantSignedIn(c, p)
	e.clock.Add(29 * time.Minute)
	e.wantSignedIn(c, p)
	e.clock.Add(30 * time.Minute)
	e.wantSignedOut(c)

	// Absolute: busy all along, the session still ends 2 h after sign-in.
	if _, err := authntest.SignIn(e.ctx, c, e.srv.URL, p.Username, goodPassword, act.Secret, e.clock.Now(), protectedPath); err != nil {
		t.Fatal(err)
	}
	for range 7 {
		e.clock.Add(17 * time.Minute)
		e.wantSignedIn(c, p) // 119 minutes after sign-in at the last one
	}
	e.clock.Add(time.Minute)
	e.wantSignedOut(c)
}

func TestCurrentWithoutCookie(t *testing.T) {
	e := newEnv(t)
	r, _ := http.NewRequest(http.MethodGet, "/saml/sso", nil)
	if _, err := e.m.Current(r); !errors.Is(err, authn.ErrNoSession) {
		t.Errorf("Current without a cookie: %v, want ErrNoSession", err)
	}
	r.AddCookie(&http.Cookie{Name: "tenure_session", Value: "forged"})
	if _, err := e.m.Current(r); !errors.Is(err, authn.ErrNoSession) {
		t.Errorf("Current with a forged cookie: %v, want ErrNoSession", err)
	}
}

func TestThrottling(t *testing.T) {
	e := newEnv(t, func(o *authn.Options) {
		o.Throttle = authn.ThrottlePolicy{AccountFree: 3, IPFree: 6, BaseDelay: time.Minute, MaxDelay: 10 * time.Minute}
	})
	p := e.hire("PP001", "Richard", "Hendricks")
	_, act := e.activate(p, goodPassword)
	try := func(login, password string) authntest.Page {
		t.Helper()
		c := authntest.NewClient()
		pg, _ := authntest.Get(e.ctx, c, e.srv.URL+"/login")
		pg, err := authntest.Submit(e.ctx, c, pg, "/login", url.Values{"login": {login}, "password": {password}})
		if err != nil {
			t.Fatal(err)
		}
		return pg
	}
	for i := 1; i <= 4; i++ {
		if pg := try(p.Username, "wrong wrong wrong"); pg.Status != http.StatusUnauthorized {
			t.Fatalf("failure %d: HTTP %d, want 401", i, pg.Status)
		}
	}
	// The fourth failure locked the account for a minute: even the right password waits.
	pg := try(p.Username, goodPassword)
	if pg.Status != http.StatusTooManyRequests || authntest.PageError(pg.Body) == "" {
		t.Fatalf("right password while locked: HTTP %d, want 429 with a message", pg.Status)
	}
	e.clock.Add(61 * time.Second)
	if pg := try(p.Username, goodPassword); pg.URL.Path != "/mfa/verify" {
		t.Fatalf("right password after the lock: at %s HTTP %d", pg.URL.Path, pg.Status)
	}
	// Success cleared the account's count: three more failures are free again.
	for i := 1; i <= 2; i++ {
		if pg := try(p.Username, "wrong wrong wrong"); pg.Status != http.StatusUnauthorized {
			t.Fatalf("failure after reset %d: HTTP %d", i, pg.Status)
		}
	}
	// The address has now failed 6 times; spraying other names from it locks the address.
	if pg := try("monica.hall", "wrong wrong wrong"); pg.Status != http.StatusUnauthorized {
		t.Fatalf("7th failure from the address: HTTP %d, want 401 (it sets the lock)", pg.Status)
	}
	if pg := try("jared.dunn", "anything at all"); pg.Status != http.StatusTooManyRequests {
		t.Errorf("another name from the locked address: HTTP %d, want 429", pg.Status)
	}
	// Wrong second-factor codes count against the account too.
	e.clock.Add(time.Hour)
	c := authntest.NewClient()
	pg, _ = authntest.Get(e.ctx, c, e.srv.URL+"/login")
	pg, _ = authntest.Submit(e.ctx, c, pg, "/login", url.Values{"login": {p.Username}, "password": {goodPassword}})
	for i := 1; i <= 4; i++ {
		pg, _ = authntest.Submit(e.ctx, c, pg, "/mfa/verify", url.Values{"code": {"000000"}})
	}
	code, _ := authntest.Code(act.Secret, e.clock.Now().Add(30*time.Second))
	pg, _ = authntest.Submit(e.ctx, c, pg, "/mfa/verify", url.Values{"code": {code}})
	if pg.Status != http.StatusTooManyRequests {
		t.Errorf("right code after 4 wrong ones: HTTP %d at %s, want 429", pg.Status, pg.URL.Path)
	}
}

// TestThrottleSurvivesRestart: counters live in the database, so a new Manager on the same
// store (a restart, or another replica) keeps the lock.
func TestThrottleSurvivesRestart(t *testing.T) {
	e := newEnv(t, func(o *authn.Options) { o.Throttle = authn.ThrottlePolicy{AccountFree: 1} })
	p := e.hire("PP001", "Richard", "Hendricks")
	e.activate(p, goodPassword)
	for range 2 {
		c := authntest.NewClient()
		pg, _ := authntest.Get(e.ctx, c, e.srv.URL+"/login")
		authntest.Submit(e.ctx, c, pg, "/login", url.Values{"login": {p.Username}, "password": {"wrong wrong wrong"}})
	}
	restarted := newEnvSharing(t, e)
	c := authntest.NewClient()
	pg, _ := authntest.Get(e.ctx, c, restarted.srv.URL+"/login")
	pg, _ = authntest.Submit(e.ctx, c, pg, "/login", url.Values{"login": {p.Username}, "password": {goodPassword}})
	if pg.Status != http.StatusTooManyRequests {
		t.Errorf("after restart: HTTP %d, want 429", pg.Status)
	}
}

func TestResetMFA(t *testing.T) {
	e := newEnv(t)
	p := e.hire("PP001", "Richard", "Hendricks")
	c, _ := e.activate(p, goodPassword)
	e.wantSignedIn(c, p)
	ctx := audit.WithReason(audit.WithActor(context.Background(), "cli:admin"), "lost phone")
	if _, n, err := authn.ResetMFA(ctx, e.store, p.Username); err != nil || n != 1 {
		t.Fatalf("ResetMFA = %d sessions, %v; want 1", n, err)
	}
	e.wantSignedOut(c)
	// The next sign-in enrols a new authenticator.
	c2 := authntest.NewClient()
	pg, _ := authntest.Get(e.ctx, c2, e.srv.URL+"/login")
	pg, _ = authntest.Submit(e.ctx, c2, pg, "/login", url.Values{"login": {p.Username}, "password": {goodPassword}})
	if pg.URL.Path != "/mfa/enrol" || authntest.TOTPSecret(pg.Body) == "" {
		t.Fatalf("sign-in after reset: at %s, want a new enrolment", pg.URL.Path)
	}
	recs, _ := e.store.AuditRecords(e.ctx, 0, 1000)
	found := false
	for _, r := range recs {
		if r.Action == "authn.mfa.reset" {
			found = r.Actor == "cli:admin" && r.Reason == "lost phone"
		}
	}
	if !found {
		t.Error("no authn.mfa.reset audit record by cli:admin with reason \"lost phone\"")
	}
}

// TestPreHireSetsUpBeforeTheFirstDay: a new hire can use their link and enrol before they
// start, but signs in only once active.
func TestPreHireSetsUpBeforeTheFirstDay(t *testing.T) {
	e := newEnv(t)
	start := e.clock.Now().AddDate(0, 0, 7)
	p, err := e.store.CreatePerson(e.ctx, identity.Person{EmployeeID: "PP002", LegalFirstName: "Jared", LegalLastName: "Dunn",
		Username: "jared.dunn", WorkEmail: "jared@piedpiper.test", EmploymentType: identity.Employee, Status: identity.PreHire, StartDate: &start})
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.m.IssueActivation(e.ctx, p.Username)
	if err != nil {
		t.Fatal(err)
	}
	c := authntest.NewClient()
	act, err := authntest.Activate(e.ctx, c, e.srv.URL+a.URL+"?next="+protectedPath, goodPassword, e.clock.Now())
	if err != nil {
		t.Fatalf("pre-hire activation: %v", err)
	}
	if !strings.Contains(act.Page.Body, "first day") || strings.Contains(act.Page.Body, `id="continue"`) {
		t.Errorf("codes page of a pre-hire: %q, want the first-day notice and no way on", trim(act.Page.Body))
	}
	e.wantSignedOut(c)
	e.clock.Add(30 * time.Second)
	pg, _ := authntest.SignIn(e.ctx, c, e.srv.URL, p.Username, goodPassword, act.Secret, e.clock.Now(), protectedPath)
	if pg.Status != http.StatusUnauthorized {
		t.Errorf("pre-hire signing in: HTTP %d at %s, want 401", pg.Status, pg.URL.Path)
	}
	if _, err := e.store.UpdatePerson(e.ctx, p.ID, func(q *identity.Person) error { q.Status = identity.Active; return nil }); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(30 * time.Second)
	if _, err := authntest.SignIn(e.ctx, c, e.srv.URL, p.Username, goodPassword, act.Secret, e.clock.Now(), protectedPath); err != nil {
		t.Fatal(err)
	}
	e.wantSignedIn(c, p)
}

// TestPeopleChangedEndsSessions: told which people the lifecycle engine changed, the manager
// deletes the sessions of those no longer active and leaves the others alone.
func TestPeopleChangedEndsSessions(t *testing.T) {
	e := newEnv(t)
	stays := e.hire("PP001", "Richard", "Hendricks")
	leaves := e.hire("PP002", "Jared", "Dunn")
	cs, _ := e.activate(stays, goodPassword)
	e.activate(leaves, goodPassword)
	e.terminate(leaves)
	e.m.PeopleChanged(e.ctx, []string{stays.ID, leaves.ID})
	if n, _ := e.store.DeletePersonAuthSessions(e.ctx, leaves.ID); n != 0 {
		t.Errorf("%d sessions of the leaver left after PeopleChanged", n)
	}
	e.wantSignedIn(cs, stays)
}
