package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/testenv"
)

const ldapTestBase = "dc=hooli,dc=example"

func ldapTestdata(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "ldap", name)
}

// ldapSetup starts the Hooli silo, writes a configuration naming it and a second, unreachable
// source, and creates the people HR knows.
func ldapSetup(t *testing.T) (env map[string]string, silo *testenv.Slapd) {
	t.Helper()
	silo = testenv.StartSlapd(t, testenv.SlapdOptions{Suffix: ldapTestBase, LDIF: []string{ldapTestdata("hooli.ldif")}})
	dir := t.TempDir()
	db := "sqlite://" + filepath.Join(dir, "tenure.db")
	pwFile := filepath.Join(dir, "hooli.pw")
	writeFile(t, pwFile, silo.RootPW+"\n")
	cfg := filepath.Join(dir, "tenure.yaml")
	writeFile(t, cfg, fmt.Sprintf(`ldap:
  sources:
    - name: hooli
      url: %s
      bind_dn: %s
      password_file: %s
      base_dn: %s
      page_size: 2
    - name: down
      url: ldap://127.0.0.1:1
      base_dn: dc=down,dc=example
      timeout: 2s
`, silo.URL, silo.RootDN, pwFile, ldapTestBase))
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, db, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range []identity.Person{
		{EmployeeID: "E100", LegalFirstName: "Richard", LegalLastName: "Hendricks", WorkEmail: "richard@piedpiper.example"},
		{EmployeeID: "E101", LegalFirstName: "Dinesh", LegalLastName: "Chugtai", WorkEmail: "dinesh@piedpiper.example"},
		{EmployeeID: "E107", LegalFirstName: "Erlich", LegalLastName: "Bachman", WorkEmail: "erlich@piedpiper.example"},
	} {
		p.EmploymentType, p.Status = identity.Employee, identity.Active
		if _, err := s.CreatePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	return map[string]string{"TENURE_DB": db, "TENURE_CONFIG": cfg, "TENURE_ACTOR": "alice"}, silo
}

type syncRow struct {
	Source    string `json:"source"`
	Full      bool   `json:"full"`
	Read      int    `json:"read"`
	Created   int    `json:"created"`
	Linked    int    `json:"linked"`
	Conflicts int    `json:"conflicts"`
	Removed   int    `json:"removed"`
	Error     string `json:"error"`
}

func TestLDAPSyncConflictsLinkUnlink(t *testing.T) {
	env, silo := ldapSetup(t)

	r := run(t, env, "ldap", "sync", "--source", "hooli", "--full", "-o", "json")
	if r.code != 0 {
		t.Fatalf("ldap sync: %+v", r)
	}
	var rows []syncRow
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatalf("sync JSON: %v\n%s", err, r.stdout)
	}
	want := []syncRow{{Source: "hooli", Full: true, Read: 8, Created: 8, Linked: 2, Conflicts: 2}}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("sync summary = %+v, want %+v", rows, want)
	}
	if !strings.Contains(r.stderr, "reading LDAP entries") {
		t.Errorf("no progress bar on stderr: %q", r.stderr)
	}

	conflicts := func(args ...string) []string {
		t.Helper()
		r := run(t, env, append([]string{"ldap", "conflicts", "-o", "json"}, args...)...)
		if r.code != 0 {
			t.Fatalf("ldap conflicts: %+v", r)
		}
		var items []struct {
			Username   string   `json:"username"`
			Link       string   `json:"link"`
			Candidates []string `json:"candidate_employee_ids"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &items); err != nil {
			t.Fatalf("conflicts JSON: %v\n%s", err, r.stdout)
		}
		var out []string
		for _, it := range items {
			out = append(out, it.Username+":"+it.Link+":"+strings.Join(it.Candidates, ","))
		}
		return out
	}
	if got, want := conflicts(), []string{"ebachman:conflict:E107", "erlich-admin:conflict:E107"}; !sameStrings(got, want) {
		t.Errorf("conflicts = %v, want %v", got, want)
	}
	if got := conflicts("--unmatched"); len(got) != 2+4 {
		t.Errorf("conflicts --unmatched = %v, want the 2 conflicts and 4 unmatched entries", got)
	}

	// The administrator decides: the person account is Erlich's, the admin account nobody's.
	if r := run(t, env, "ldap", "link", "hooli", "ebachman", "erlich@piedpiper.example"); r.code != 0 || !strings.Contains(r.stdout, "manual") {
		t.Fatalf("ldap link: %+v", r)
	}
	if r := run(t, env, "ldap", "link", "hooli", "uid=erlich-admin,ou=people,"+ldapTestBase, "--nobody"); r.code != 0 || !strings.Contains(r.stdout, "excluded") {
		t.Fatalf("ldap link --nobody: %+v", r)
	}
	if got := conflicts(); len(got) != 0 {
		t.Errorf("conflicts after decisions = %v, want none", got)
	}
	if r := run(t, env, "ldap", "sync", "--quiet", "-o", "json"); r.code != 1 || !strings.Contains(r.stderr, "1 of 2 LDAP sources failed: down:") {
		t.Errorf("sync with one source down: code %d stderr %q", r.code, r.stderr)
	} else if !strings.Contains(r.stdout, `"source": "hooli"`) {
		t.Errorf("summary of the healthy source missing: %s", r.stdout)
	}
	if got := conflicts(); len(got) != 0 {
		t.Errorf("conflicts after another sync = %v, want decisions kept", got)
	}
	if r := run(t, env, "ldap", "unlink", "hooli", "ebachman"); r.code != 0 || !strings.Contains(r.stdout, "unmatched") {
		t.Fatalf("ldap unlink: %+v", r)
	}
	run(t, env, "ldap", "sync", "--source", "hooli", "--quiet")
	// Erlich's only live automatic candidate is now the person account again.
	if got := conflicts(); len(got) != 0 {
		t.Errorf("conflicts after unlink and sync = %v", got)
	}

	r = run(t, env, "ldap", "test", "--source", "hooli", "--limit", "3", "-o", "json")
	if r.code != 0 {
		t.Fatalf("ldap test: %+v", r)
	}
	var preview []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &preview); err != nil || len(preview) != 3 {
		t.Errorf("ldap test = %v entries, %v; want 3", len(preview), err)
	}
	silo.Stop()
	if r := run(t, env, "ldap", "test", "--source", "hooli"); r.code != 1 || !strings.Contains(r.stderr, "connect") {
		t.Errorf("ldap test with the silo down: %+v", r)
	}
}

func TestLDAPUsageErrors(t *testing.T) {
	env, _ := ldapSetup(t)
	noConfig := map[string]string{"TENURE_DB": env["TENURE_DB"]}
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		code    int
		errPart string
	}{
		{"unknown source", env, []string{"ldap", "sync", "--source", "nope"}, 2, `--source "nope"`},
		{"no sources configured", noConfig, []string{"ldap", "sync"}, 2, "no LDAP sources configured"},
		{"test needs a source", env, []string{"ldap", "test"}, 2, "--source is required"},
		{"link needs a person", env, []string{"ldap", "link", "hooli", "gavin"}, 2, "expected 3 argument(s)"},
		{"unknown entry", env, []string{"ldap", "unlink", "hooli", "nobody-here"}, 1, `ldap entry "hooli/nobody-here" not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.env, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.errPart) {
				t.Errorf("code %d stderr %q; want %d and %q", r.code, r.stderr, tt.code, tt.errPart)
			}
		})
	}
}

func sameStrings(a, b []string) bool { return strings.Join(a, "|") == strings.Join(b, "|") }
