package ldapsync_test

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore/sqlstoretest"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/testenv"
)

func testdata(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "ldap", name)
}

const (
	hooliBase    = "dc=hooli,dc=example"
	endframeBase = "dc=endframe,dc=example"
)

// silos starts the two overlapping silos; Endframe speaks only TLS (ldaps) to the syncer.
type silos struct {
	hooli, endframe *testenv.Slapd
	cfg             config.LDAP
	env             map[string]string
}

func startSilos(t *testing.T) *silos {
	t.Helper()
	s := &silos{
		hooli:    testenv.StartSlapd(t, testenv.SlapdOptions{Suffix: hooliBase, LDIF: []string{testdata("hooli.ldif")}}),
		endframe: testenv.StartSlapd(t, testenv.SlapdOptions{Suffix: endframeBase, TLS: true, LDIF: []string{testdata("endframe.ldif")}}),
	}
	s.env = map[string]string{"HOOLI_PW": s.hooli.RootPW, "ENDFRAME_PW": s.endframe.RootPW}
	s.cfg = config.LDAP{Sources: []config.LDAPSource{
		{Name: "hooli", URL: s.hooli.URL, BindDN: s.hooli.RootDN, PasswordEnv: "HOOLI_PW", BaseDN: hooliBase,
			Attributes: map[string]string{"title": "title"}, PageSize: 3, Timeout: "5s", DelegatedBind: true},
		{Name: "endframe", URL: s.endframe.LDAPSURL, CAFile: s.endframe.CAFile, BindDN: s.endframe.RootDN,
			PasswordEnv: "ENDFRAME_PW", BaseDN: endframeBase, Attributes: map[string]string{"title": "title"},
			Timeout: "5s", DelegatedBind: true},
	}}
	if err := s.cfg.Validate(); err != nil {
		t.Fatalf("test config: %v", err)
	}
	return s
}

func (s *silos) getenv(k string) string { return s.env[k] }

func newStore(t *testing.T) *sqlstore.Store {
	t.Helper()
	st := sqlstoretest.SQLite(t, sqlstore.Options{})
	return st
}

// piedPiper creates the people HR knows, by employee ID.
func piedPiper(t *testing.T, st directory.Store) map[string]identity.Person {
	t.Helper()
	ctx := audit.WithActor(context.Background(), "test:hr")
	people := []identity.Person{
		{EmployeeID: "E100", LegalFirstName: "Richard", LegalLastName: "Hendricks", WorkEmail: "richard@piedpiper.example"},
		{EmployeeID: "E101", LegalFirstName: "Dinesh", LegalLastName: "Chugtai", WorkEmail: "dinesh@piedpiper.example"},
		{EmployeeID: "E102", LegalFirstName: "Bertram", LegalLastName: "Gilfoyle", WorkEmail: "gilfoyle@piedpiper.example"},
		{EmployeeID: "E103", LegalFirstName: "Jian", LegalLastName: "Yang", WorkEmail: "jian@piedpiper.example"},
		{EmployeeID: "E104", LegalFirstName: "Monica", LegalLastName: "Hall", WorkEmail: "monica@piedpiper.example"},
		{EmployeeID: "E105", LegalFirstName: "Peter", LegalLastName: "Gregory"},
		{EmployeeID: "E106", LegalFirstName: "Nelson", LegalLastName: "Bighetti", WorkEmail: "bighead@piedpiper.example"},
		{EmployeeID: "E107", LegalFirstName: "Erlich", LegalLastName: "Bachman", WorkEmail: "erlich@piedpiper.example"},
	}
	out := map[string]identity.Person{}
	for _, p := range people {
		p.EmploymentType, p.Status = identity.Employee, identity.Active
		got, err := st.CreatePerson(ctx, p)
		if err != nil {
			t.Fatalf("CreatePerson %s: %v", p.EmployeeID, err)
		}
		out[p.EmployeeID] = got
	}
	return out
}

// fixedClock is a clock tests control.
func fixedClock() func() time.Time {
	t := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	return func() time.Time { return t }
}

func ctxWithTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(audit.WithActor(context.Background(), "test:ldapsync"), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// entryByUID finds a synced entry by source and username.
func entryByUID(t *testing.T, st directory.Store, source, uid string) directory.LDAPEntry {
	t.Helper()
	es, err := st.ListLDAPEntries(context.Background(), directory.LDAPEntryFilter{Source: source})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.Username == uid {
			return e
		}
	}
	t.Fatalf("no synced entry %s/%s", source, uid)
	return directory.LDAPEntry{}
}
