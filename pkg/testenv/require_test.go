package testenv

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// recordingTB captures Skipf/Fatalf instead of ending the test, so the
// missing-dependency policy itself can be tested.
type recordingTB struct {
	testing.TB
	skipped, fatal string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
}
func (r *recordingTB) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
}

func TestRequireFindsBinaries(t *testing.T) {
	bins := Require(t, "sh", "slapd")
	for name, path := range bins {
		if !filepath.IsAbs(path) || filepath.Base(path) != name {
			t.Errorf("Require(%q) = %q, want an absolute path to it", name, path)
		}
	}
}

func TestRequireMissingPolicy(t *testing.T) {
	const missing = "tenure-no-such-binary"
	for _, tc := range []struct {
		name, ci, strict string
		wantFatal        bool
	}{
		{"developer machine skips", "", "", false},
		{"CI fails", "true", "", true},
		{"TENURE_REQUIRE_DEPS fails", "", "1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			t.Setenv("TENURE_REQUIRE_DEPS", tc.strict)
			r := &recordingTB{TB: t}
			Require(r, "sh", missing, "xmlsec1-"+missing)
			msg := r.skipped
			if tc.wantFatal {
				msg = r.fatal
			}
			if (r.fatal != "") != tc.wantFatal || (r.skipped != "") == tc.wantFatal {
				t.Fatalf("skipped=%q fatal=%q, want fatal=%v", r.skipped, r.fatal, tc.wantFatal)
			}
			for _, want := range []string{missing, "apt-get install", "make test"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message lacks %q:\n%s", want, msg)
				}
			}
		})
	}
	if got := packagesFor([]string{"initdb", "slapd", "ldapsearch", "psql"}); strings.Join(got, " ") != "ldap-utils postgresql slapd" {
		t.Errorf("packagesFor = %v", got)
	}
}
