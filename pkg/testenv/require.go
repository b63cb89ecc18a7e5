// Package testenv starts real external components — PostgreSQL and OpenLDAP
// slapd — for tests, each on 127.0.0.1, a free port and a private temp dir.
//
// Tenure's tests run against the real servers rather than fakes because the
// behaviour that matters (SQL semantics, LDAP overlays such as memberOf,
// paged searches, TLS) is exactly what fakes get wrong. The servers come from
// the Debian packages (postgresql, slapd, ldap-utils); when they are missing a
// test is skipped loudly on a developer machine and fails in CI, see Require.
//
// Every server is started as a direct child of the test binary with
// Pdeathsig=SIGKILL, so a test binary that is killed (timeout, ^C, panic) does
// not leave servers running; their temp dirs are removed by tb.Cleanup or, for
// shared servers, by RunMain.
//
// Typical use in a package whose tests need a database:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.RunMain(m)) }
//
//	func TestStore(t *testing.T) {
//		url := testenv.SharedPostgres(t).NewDatabase(t) // fresh, empty DB
//		...
//	}
//
// and for LDAP (one slapd per silo; cheap, ~0.2 s):
//
//	silo := testenv.StartSlapd(t, testenv.SlapdOptions{LDIF: []string{"testdata/people.ldif"}})
//	// silo.URL, silo.RootDN, silo.RootPW, silo.BaseDN
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// knownDirs are searched after PATH because several of the binaries we need
// are not on a normal user's PATH on Debian: the PostgreSQL server tools live
// in a versioned directory and slapd/slaptest in /usr/sbin.
var knownDirs = []string{
	"/usr/lib/postgresql/15/bin",
	"/usr/sbin",
	"/sbin",
	"/usr/local/sbin",
}

// debianPackage names the package that provides a binary, so that the skip
// message can tell the developer exactly what to install.
var debianPackage = map[string]string{
	"initdb":     "postgresql",
	"postgres":   "postgresql",
	"pg_ctl":     "postgresql",
	"psql":       "postgresql",
	"pg_isready": "postgresql",
	"createdb":   "postgresql",
	"dropdb":     "postgresql",
	"slapd":      "slapd",
	"slaptest":   "slapd",
	"slapadd":    "slapd",
	"ldapadd":    "ldap-utils",
	"ldapmodify": "ldap-utils",
	"ldapdelete": "ldap-utils",
	"ldapsearch": "ldap-utils",
	"xmlsec1":    "xmlsec1",
	"chromium":   "chromium",
}

// Require resolves each named binary, looking in PATH first and then in the
// Debian locations that are not on PATH (/usr/lib/postgresql/15/bin,
// /usr/sbin), and returns name → absolute path.
//
// If any binary is missing the test cannot run. On a developer machine it is
// skipped with a loud message naming the Debian packages to install, because a
// silent skip would hide that the real-component tests never ran. When the
// environment variable CI or TENURE_REQUIRE_DEPS is true (true, 1, yes), it fails
// instead: CI installs every dependency, so a missing one there is a broken
// pipeline, never a reason to skip.
func Require(tb testing.TB, binaries ...string) map[string]string {
	tb.Helper()
	found, missing := lookupBinaries(binaries...)
	if len(missing) > 0 {
		missingDeps(tb, fmt.Sprintf("required binaries not found: %s", strings.Join(missing, ", ")), packagesFor(missing))
	}
	return found
}

// lookupBinaries is Require without the testing.TB, for code paths (such as
// the Pdeathsig child helper) that have none.
func lookupBinaries(binaries ...string) (found map[string]string, missing []string) {
	found = make(map[string]string, len(binaries))
	for _, name := range binaries {
		if path, ok := lookupBinary(name); ok {
			found[name] = path
		} else {
			missing = append(missing, name)
		}
	}
	return found, missing
}

func lookupBinary(name string) (string, bool) {
	if path, err := exec.LookPath(name); err == nil {
		if abs, err := filepath.Abs(path); err == nil {
			return abs, true
		}
		return path, true
	}
	for _, dir := range knownDirs {
		path := filepath.Join(dir, name)
		if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return path, true
		}
	}
	return "", false
}

// packagesFor lists, sorted and de-duplicated, the Debian packages providing
// the missing binaries.
func packagesFor(missing []string) []string {
	set := map[string]bool{}
	for _, name := range missing {
		if pkg, ok := debianPackage[name]; ok {
			set[pkg] = true
		} else {
			set["<package providing "+name+">"] = true
		}
	}
	pkgs := make([]string, 0, len(set))
	for pkg := range set {
		pkgs = append(pkgs, pkg)
	}
	sort.Strings(pkgs)
	return pkgs
}

// strictDeps reports whether missing dependencies must fail the test rather
// than skip it.
func strictDeps() bool {
	return isTrue(os.Getenv("CI")) || isTrue(os.Getenv("TENURE_REQUIRE_DEPS"))
}

// missingDeps applies the skip-locally / fail-in-CI policy. It is shared by
// Require and by other prerequisites that are not binaries (for example the
// "postgres" system user that the postgresql package creates).
func missingDeps(tb testing.TB, what string, pkgs []string) {
	tb.Helper()
	install := "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends " + strings.Join(pkgs, " ")
	if strictDeps() {
		tb.Fatalf("\n*** MISSING TEST DEPENDENCY (CI=%q, TENURE_REQUIRE_DEPS=%q: failing instead of skipping) ***\n"+
			"*** %s\n*** install with: %s\n*** or run the tests via `make test`, which installs them.",
			os.Getenv("CI"), os.Getenv("TENURE_REQUIRE_DEPS"), what, install)
		return // unreachable with a real testing.TB; Fatalf ends the test
	}
	tb.Skipf("\n*** SKIPPING: MISSING TEST DEPENDENCY — this test did NOT run ***\n"+
		"*** %s\n*** install with: %s\n*** or run the tests via `make test`, which installs them.\n"+
		"*** (set TENURE_REQUIRE_DEPS=1 to make this a failure)",
		what, install)
}

// isTrue reads an environment flag the way CI systems set it ("true", "1", "yes").
func isTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}
