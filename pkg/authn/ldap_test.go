package authn_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/authn"
	"github.com/tenure-id/tenure/pkg/authn/authntest"
	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/ldapsync"
	"github.com/tenure-id/tenure/pkg/testenv"
)

const hooliBase = "dc=hooli,dc=example"

// TestDelegatedPasswordAgainstSlapd: a person linked to an entry of a delegated-bind source
// signs in with the silo's password (a real bind to slapd), then enrols TOTP as anyone else.
// A wrong password is an ordinary failure; a silo that does not answer is an outage, not a
// wrong password.
func TestDelegatedPasswordAgainstSlapd(t *testing.T) {
	silo := testenv.StartSlapd(t, testenv.SlapdOptions{Suffix: hooliBase, LDIF: []string{"../../testdata/ldap/hooli.ldif"}})
	vars := map[string]string{"HOOLI_PW": silo.RootPW}
	getenv := func(k string) string { return vars[k] }
	cfg := config.LDAP{Sources: []config.LDAPSource{{Name: "hooli", URL: silo.URL, BindDN: silo.RootDN, PasswordEnv: "HOOLI_PW",
		BaseDN: hooliBase, Timeout: "5s", DelegatedBind: true}}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *authn.Options) {
		st := o.Store.(*sqlstore.Store)
		o.Delegated = &authn.LDAPChecker{Entries: st, Delegates: func(s string) bool { return s == "hooli" },
			Binder: &ldapsync.Binder{Store: st, Config: cfg, Getenv: getenv}}
	})
	dinesh, err := e.store.CreatePerson(e.ctx, identity.Person{EmployeeID: "E101", LegalFirstName: "Dinesh", LegalLastName: "Chugtai",
		Username: "dinesh.chugtai", WorkEmail: "dinesh@piedpiper.example", EmploymentType: identity.Employee, Status: identity.Active})
	if err != nil {
		t.Fatal(err)
	}
	richard := e.hire("PP001", "Richard", "Hendricks") // no silo entry: a local password
	sy := &ldapsync.Syncer{Store: e.store, Config: cfg, Getenv: getenv, Clock: e.clock.Now}
	ctx, cancel := context.WithTimeout(e.ctx, time.Minute)
	defer cancel()
	if _, err := sy.Sync(ctx, nil, true); err != nil {
		t.Fatal(err)
	}
	linked, err := e.store.ListLDAPEntries(ctx, directory.LDAPEntryFilter{PersonID: dinesh.ID})
	if err != nil || len(linked) != 1 || linked[0].Username != "dinesh" {
		t.Fatalf("sync linked %+v (%v), want dinesh's hooli entry", linked, err)
	}

	login := func(name, password string) authntest.Page {
		t.Helper()
		c := authntest.NewClient()
		pg, _ := authntest.Get(ctx, c, e.srv.URL+"/login")
		pg, err := authntest.Submit(ctx, c, pg, "/login", url.Values{"login": {name}, "password": {password}})
		if err != nil {
			t.Fatal(err)
		}
		return pg
	}
	if pg := login("dinesh.chugtai", "gold-chain"); pg.URL.Path != "/mfa/enrol" {
		t.Errorf("silo password: at %s HTTP %d (%q), want TOTP enrolment", pg.URL.Path, pg.Status, authntest.PageError(pg.Body))
	}
	if pg := login("dinesh@piedpiper.example", "gold-chain"); pg.URL.Path != "/mfa/enrol" {
		t.Errorf("silo password by email: at %s HTTP %d", pg.URL.Path, pg.Status)
	}
	if pg := login("dinesh.chugtai", "gold-plated"); pg.Status != http.StatusUnauthorized {
		t.Errorf("wrong silo password: HTTP %d, want 401", pg.Status)
	}
	// No activation link for a person whose password is the silo's; and a link issued before
	// the entry was linked cannot set a local password either.
	if _, err := e.m.IssueActivation(e.ctx, dinesh.Username); err == nil || !strings.Contains(err.Error(), "LDAP") {
		t.Errorf("activation link for a delegated person: %v, want a refusal naming LDAP", err)
	}
	plain, err := authn.New(authn.Options{Store: e.store, Clock: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	a, err := plain.IssueActivation(e.ctx, dinesh.Username)
	if err != nil {
		t.Fatal(err)
	}
	c := authntest.NewClient()
	pg, _ := authntest.Get(ctx, c, e.srv.URL+a.URL)
	pg, _ = authntest.Submit(ctx, c, pg, pg.URL.Path, url.Values{"password": {goodPassword}, "confirm": {goodPassword}})
	if pg.Status != http.StatusConflict {
		t.Errorf("activation of a delegated person: HTTP %d, want 409", pg.Status)
	}
	// People without a silo entry keep their local password.
	e.activate(richard, goodPassword)
	e.clock.Add(30 * time.Second)
	if pg := login(richard.Username, goodPassword); pg.URL.Path != "/mfa/verify" {
		t.Errorf("local password next to a delegating source: at %s HTTP %d", pg.URL.Path, pg.Status)
	}

	silo.Stop()
	if pg := login("dinesh.chugtai", "gold-chain"); pg.Status != http.StatusServiceUnavailable {
		t.Errorf("silo down: HTTP %d, want 503 (an outage, not a wrong password)", pg.Status)
	}
	states, _ := e.store.ThrottleStates(ctx, []string{"account:" + dinesh.ID})
	if len(states) != 1 || states[0].Failures != 1 {
		t.Errorf("throttle of dinesh = %+v, want exactly the one wrong password counted (not the outage)", states)
	}
}
