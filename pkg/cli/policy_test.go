package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const shippedPolicies = "../../policies"

// TestShippedPoliciesValidateAndPass is CI's check on policies/: it must validate and every
// one of its own test cases must pass.
func TestShippedPoliciesValidateAndPass(t *testing.T) {
	r := run(t, nil, "policy", "validate", shippedPolicies)
	if r.code != 0 || !strings.Contains(r.stdout, "valid (") {
		t.Fatalf("policy validate policies/: %+v", r)
	}
	r = run(t, nil, "policy", "test", shippedPolicies, "-o", "json")
	var results []struct {
		Name     string   `json:"name"`
		Passed   bool     `json:"passed"`
		Failures []string `json:"failures"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &results); err != nil {
		t.Fatalf("policy test output: %v; %+v", err, r)
	}
	if r.code != 0 || len(results) < 10 {
		t.Fatalf("policy test policies/: exit %d, %d results; stderr %q", r.code, len(results), r.stderr)
	}
	for _, res := range results {
		if !res.Passed {
			t.Errorf("%s: %v", res.Name, res.Failures)
		}
	}
	// TENURE_POLICIES names the directory when no argument does.
	r = run(t, map[string]string{"TENURE_POLICIES": shippedPolicies}, "policy", "test")
	if r.code != 0 || strings.Contains(r.stdout, "FAIL") {
		t.Fatalf("policy test via TENURE_POLICIES: %+v", r)
	}
}

func TestPolicyValidateNamesFileLineAndField(t *testing.T) {
	dir := "../../testdata/policy/invalid"
	r := run(t, nil, "policy", "validate", dir)
	rules := filepath.Join(dir, "rules.yaml")
	want := []string{
		rules + `:3: rules.grant.entitlements: unknown entitlement "channel:random" in app "slack"`,
		rules + `:5: rules.org_unit: unknown org unit "Pied Piper/Engineerin"`,
		rules + `:6: rules.grant.app: unknown app "github"`,
		rules + `:7: rules.name: duplicate rule name "everyone-slack" (first at ` + rules + `:2)`,
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 1 || len(lines) != len(want) {
		t.Fatalf("exit %d, stdout:\n%s\nstderr %q", r.code, r.stdout, r.stderr)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q, want prefix %q", i+1, lines[i], w)
		}
	}
	if !strings.HasPrefix(r.stderr, "tenure: policy "+dir+": 4 error(s)") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr %q", r.stderr)
	}
	r = run(t, nil, "policy", "validate", dir, "-o", "json")
	var findings []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &findings); err != nil || len(findings) != 4 || findings[0]["line"] != float64(3) || findings[0]["field"] != "rules.grant.entitlements" {
		t.Fatalf("json findings %v: %s", err, r.stdout)
	}
}

func TestPolicyTestReportsFailures(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "p.yaml"), `org_units: [Acme/Sales]
apps: [{name: slack, connector: slack}, {name: crm, connector: scim}]
rules: [{name: sales-crm, when: {org_unit: Acme/Sales}, grant: [{app: crm}]}]
tests:
  - name: seller gets crm
    person: {org_unit: Acme/Sales}
    expect: {grants: [crm]}
  - name: seller gets slack too
    person: {org_unit: Acme/Sales}
    expect: {grants: [crm, slack]}
`)
	r := run(t, nil, "policy", "test", dir)
	if r.code != 1 || !strings.Contains(r.stdout, "PASS    seller gets crm") ||
		!strings.Contains(r.stdout, "FAIL    seller gets slack too") || !strings.Contains(r.stdout, "grants: missing slack") {
		t.Fatalf("policy test: %+v", r)
	}
	if !strings.Contains(r.stderr, "1 of 2 test(s) failed") {
		t.Fatalf("stderr %q", r.stderr)
	}
	if r := run(t, nil, "policy", "validate", dir, "extra"); r.code != 2 {
		t.Fatalf("two arguments: %+v", r)
	}
}

func TestPolicyDiff(t *testing.T) {
	db := tempDB(t)
	seed(t, db)
	env := map[string]string{"TENURE_DB": db}
	base := "../../testdata/policy/diff/"
	r := run(t, env, "policy", "diff", "--policies", base+"current", "--against", base+"candidate", "-o", "json")
	var changes []struct {
		EmployeeID  string   `json:"employee_id"`
		Change      string   `json:"change"`
		App         string   `json:"app"`
		Entitlement string   `json:"entitlement"`
		FromRole    string   `json:"from_role"`
		ToRole      string   `json:"to_role"`
		Reasons     []string `json:"reasons"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &changes); err != nil || r.code != 0 {
		t.Fatalf("diff: %v %+v", err, r)
	}
	want := []string{
		"E001 gain notion  [rule employees-notion]",
		"E001 role slack member>admin [rule employees-slack rule ceo-slack-admin]",
		"E002 lose github  [rule engineering-github]",
		"E002 lose github:team:platform  [rule engineering-github]",
		"E002 gain notion  [rule employees-notion]",
	}
	var got []string
	for _, c := range changes {
		app := c.App
		if c.Entitlement != "" {
			app += ":" + c.Entitlement
		}
		role := ""
		if c.Change == "role" {
			role = c.FromRole + ">" + c.ToRole
		}
		got = append(got, c.EmployeeID+" "+c.Change+" "+app+" "+role+" ["+strings.Join(c.Reasons, " ")+"]")
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	r = run(t, env, "policy", "diff", "--policies", base+"current", "--against", base+"candidate")
	if r.code != 0 || !strings.Contains(r.stdout, "2 gains, 2 losses, 1 role change for 2 people") ||
		!strings.Contains(r.stdout, "member -> admin") {
		t.Fatalf("diff table: %+v", r)
	}
	r = run(t, env, "policy", "diff", "--policies", base+"current", "--against", base+"current", "-o", "json")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "[]" {
		t.Fatalf("diff against itself: %+v", r)
	}
	if r := run(t, env, "policy", "diff"); r.code != 2 || !strings.Contains(r.stderr, "--against DIR is required") {
		t.Fatalf("diff without --against: %+v", r)
	}
}

func TestPolicyPublishApps(t *testing.T) {
	db := tempDB(t)
	seed(t, db)
	env := map[string]string{"TENURE_DB": db, "TENURE_POLICIES": "../../testdata/policy/diff/current"}
	decode := func(r result) map[string]string {
		t.Helper()
		var changes []appChange
		if err := json.Unmarshal([]byte(r.stdout), &changes); err != nil || r.code != 0 {
			t.Fatalf("publish-apps: %v %+v", err, r)
		}
		out := map[string]string{}
		for _, c := range changes {
			out[c.App] = c.Change
		}
		return out
	}
	got := decode(run(t, env, "policy", "publish-apps", "-o", "json"))
	if got["slack"] != "created" || got["github"] != "created" || len(got) != 2 {
		t.Fatalf("first publish: %v", got)
	}
	got = decode(run(t, env, "policy", "publish-apps", "-o", "json"))
	if got["slack"] != "unchanged" || got["github"] != "unchanged" {
		t.Fatalf("second publish: %v", got)
	}
	got = decode(run(t, env, "policy", "publish-apps", "../../testdata/policy/diff/candidate", "-o", "json"))
	if got["notion"] != "created" || got["slack"] != "unchanged" || len(got) != 3 {
		t.Fatalf("candidate publish: %v", got)
	}
	env["TENURE_POLICIES"] = shippedPolicies
	got = decode(run(t, env, "policy", "publish-apps", "-o", "json"))
	if got["notion"] != "not_in_policy" || got["github"] != "updated" || got["zendesk"] != "created" {
		t.Fatalf("shipped publish: %v", got)
	}
}

func TestPolicyValidateAgainstTheDirectory(t *testing.T) {
	db := tempDB(t)
	seed(t, db)
	env := map[string]string{"TENURE_DB": db}
	if r := run(t, env, "policy", "validate", "../../testdata/policy/diff/current", "--directory"); r.code != 0 {
		t.Fatalf("policy whose org units all exist: %+v", r)
	}
	r := run(t, env, "policy", "validate", shippedPolicies, "--directory")
	org := filepath.Join(shippedPolicies, "00-org.yaml")
	line := lineOf(t, org, "  - Pied Piper/Engineering/Platform/Compression")
	if r.code != 1 || !strings.Contains(r.stdout, fmt.Sprintf("%s:%d: org_units: org unit \"Pied Piper/Engineering/Platform/Compression\" is not in the directory", org, line)) ||
		!strings.Contains(r.stderr, "not in the directory") {
		t.Fatalf("shipped policy against the small seed directory: %+v", r)
	}
}

// lineOf finds the line holding text, so tests on the shipped files survive edits above it.
func lineOf(t *testing.T, path, text string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(data), "\n") {
		if l == text {
			return i + 1
		}
	}
	t.Fatalf("%s has no line %q", path, text)
	return 0
}
