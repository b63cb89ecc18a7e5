package policy

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/identity"
)

var celNow = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

func celDay(y int, m time.Month, d int) *time.Time {
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return &t
}

func TestCELConditionMatches(t *testing.T) {
	// E3 (dev) is in Acme/Engineering/Platform/Core, reports to E2 then E1, is in ldap:corp
	// admins, has clearance=secret-2 and is in DE.
	tests := []struct {
		name   string
		expr   string
		person func(*identity.Person)
		want   bool
	}{
		{"string field", `person.country == "DE"`, nil, true},
		{"string field, other value", `person.country in ["US", "GB"]`, nil, false},
		{"employment type and status", `person.employment_type == "employee" && person.status == "active"`, nil, true},
		{"ext strings", `person.job_title.lowerAscii().contains("engineer")`, nil, true},
		{"attribute", `person.attributes["clearance"].startsWith("secret")`, nil, true},
		{"attribute, other value", `person.attributes["clearance"] == "top-secret"`, nil, false},
		{"attribute presence", `"clearance" in person.attributes && !("badge" in person.attributes)`, nil, true},
		{"optional attribute", `person.attributes[?"badge"].orValue("none") == "none"`, nil, true},
		{"org path, root first", `person.org_path == ["Acme", "Engineering", "Platform", "Core"]`, nil, true},
		{"org path membership", `"Platform" in person.org_path && !("Sales" in person.org_path)`, nil, true},
		{"org unit", `person.org_unit.endsWith("/Core")`, nil, true},
		{"manager chain, nearest first", `person.manager_chain == ["E2", "E1"]`, nil, true},
		{"manager chain depth", `size(person.manager_chain) > 2`, nil, false},
		{"groups", `person.groups.exists(g, g == "admins")`, nil, true},
		{"direct reports", `person.direct_reports == 0`, nil, true},
		{"after 90 days", `now - person.start_date >= duration("2160h")`,
			func(p *identity.Person) { p.StartDate = celDay(2026, 8, 30) }, true},
		{"within 90 days", `now - person.start_date >= duration("2160h")`,
			func(p *identity.Person) { p.StartDate = celDay(2026, 8, 31) }, false},
		{"contract ends within 30 days", `person.end_date - now < duration("720h")`,
			func(p *identity.Person) { p.EndDate = celDay(2026, 12, 20) }, true},
		{"timestamp literal", `person.start_date < timestamp("2020-01-01T00:00:00Z")`,
			func(p *identity.Person) { p.StartDate = celDay(2019, 6, 1) }, true},
		{"now alone", `now.getFullYear() == 2026 && now.getMonth() == 10`, nil, true},
		{"missing key errors, so no match", `person.attributes["badge"] == "red"`, nil, false},
		{"unset start date errors, so no match", `now > person.start_date`, nil, false},
		{"error absorbed by a false operand", `person.country == "US" && person.attributes["badge"] == "red"`, nil, false},
		{"error absorbed by a true operand", `person.country == "DE" || person.attributes["badge"] == "red"`, nil, true},
	}
	people, snap := world(celNow)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc, issues := compileCEL(tt.expr)
			if issues != nil {
				t.Fatalf("compile %q: %v", tt.expr, issues)
			}
			p := people[2]
			if tt.person != nil {
				tt.person(&p)
			}
			s := &subject{p: p, view: snap, chain: snap.OrgChain(p.OrgUnitID)}
			if got, _ := cc.eval(s); got != tt.want {
				t.Fatalf("%s = %v, want %v", tt.expr, got, tt.want)
			}
		})
	}
}

// TestCELInRules checks cel works wherever structured conditions do: in when, unless and
// any, and that now is the view's clock, not the wall clock.
func TestCELInRules(t *testing.T) {
	r := mustParse(t, `rules:
  - name: x
    when:
      org_unit: Acme/Engineering
      cel: now - person.start_date >= duration("720h")
    grant: [{app: a, entitlements: [group:x]}]
  - name: y
    when:
      any:
        - {cel: '"admins" in person.groups && person.country == "US"'}
        - {org_unit_exact: Acme/Engineering}
    unless: {cel: 'person.attributes[?"frozen"].orValue("") == "yes"'}
    grant: [{app: a, entitlements: [group:y]}]
`)
	people, _ := world(celNow)
	seller := people[3] // E4: local admins, US
	seller.StartDate = celDay(2026, 11, 1)
	dev := people[2] // E3: Engineering, ldap:corp admins, DE
	dev.StartDate = celDay(2026, 10, 1)
	frozen := people[1] // E2: directly in Engineering
	frozen.StartDate = celDay(2020, 1, 1)
	frozen.Attributes = map[string]string{"frozen": "yes"}
	tests := []struct {
		name   string
		person identity.Person
		now    time.Time
		want   []string
	}{
		{"dev past 30 days", dev, celNow, []string{"a", "a:group:x"}},
		{"dev under an earlier clock", dev, time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC), nil},
		{"seller through any", seller, celNow, []string{"a", "a:group:y"}},
		{"unless holds", frozen, celNow, []string{"a", "a:group:x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, snap := world(tt.now)
			if got := grantKeys(r.Resolve(tt.person, snap)); strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Fatalf("grants %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCELValidationErrorsNameFileLineAndField(t *testing.T) {
	tests := []struct {
		name string
		file string
		want string // "case.yaml:LINE: FIELD: text"
	}{
		{"syntax error", `rules:
  - name: r
    when: {cel: 'person.country =='}
    grant: [{app: slack}]
`, "case.yaml:3: rules[0].when.cel: CEL: Syntax error: mismatched input '<EOF>'"},
		{"unknown person field", `rules:
  - name: r
    when:
      cel: person.cuntry == "US"
    grant: [{app: slack}]
`, "case.yaml:4: rules[0].when.cel: CEL: unknown field person.cuntry (did you mean 'person.country'?)"},
		{"unknown identifier", `rules:
  - name: r
    when:
      cel: today > person.start_date
    grant: [{app: slack}]
`, "case.yaml:4: rules[0].when.cel: CEL: undeclared reference to 'today'"},
		{"person on its own", `rules:
  - name: r
    when:
      cel: person["country"] == "US"
    grant: [{app: slack}]
`, "case.yaml:4: rules[0].when.cel: CEL: person is not a value on its own: use person.FIELD"},
		{"type error", `rules:
  - name: r
    when:
      cel: person.start_date > "2020-01-01"
    grant: [{app: slack}]
`, "case.yaml:4: rules[0].when.cel: CEL: found no matching overload for '_>_'"},
		{"not a bool", `rules:
  - name: r
    when:
      cel: person.attributes["clearance"]
    grant: [{app: slack}]
`, "case.yaml:4: rules[0].when.cel: CEL: the expression must be a bool (true grants), got string"},
		{"error on the second line of a literal block", `rules:
  - name: r
    when:
      cel: |
        person.country == "US" &&
        person.clearance == "high"
    grant: [{app: slack}]
`, "case.yaml:6: rules[0].when.cel: CEL: unknown field person.clearance"},
		{"inside any and unless", `rules:
  - name: r
    unless:
      any:
        - {country: US}
        - {cel: 'person.groups'}
    grant: [{app: slack}]
`, "case.yaml:6: rules[0].unless.any[1].cel: CEL: the expression must be a bool"},
		{"not a string", `rules:
  - name: r
    when: {cel: [person.country == "US"]}
    grant: [{app: slack}]
`, "case.yaml:3: rules[0].when.cel: expected a string, got a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(map[string][]byte{"base.yaml": []byte(baseCatalogue), "case.yaml": []byte(tt.file)}, nil)
			var list Errors
			if !errors.As(err, &list) || !errors.Is(err, identity.ErrInvalid) {
				t.Fatalf("Parse error = %v, want policy Errors", err)
			}
			for _, e := range list {
				if strings.HasPrefix(e.Error(), tt.want) {
					return
				}
			}
			t.Fatalf("no error starting %q in:\n%v", tt.want, joinErrors(list))
		})
	}
}

// TestCELFixtureReportsEveryError loads testdata/policy/invalid/cel, the fixture `tenure
// policy validate` users can try, and expects each bad expression at its own line.
func TestCELFixtureReportsEveryError(t *testing.T) {
	dir := "../../testdata/policy/invalid/cel"
	_, err := LoadDir(dir)
	var list Errors
	if !errors.As(err, &list) {
		t.Fatalf("LoadDir = %v, want policy Errors", err)
	}
	file := filepath.Join(dir, "rules.yaml")
	want := []string{
		file + ":7: rules[0].when.cel: CEL: Syntax error:",
		file + ":11: rules[1].when.cel: CEL: unknown field person.clearance",
		file + ":15: rules[2].when.cel: CEL: the expression must be a bool (true grants), got int",
		file + ":21: rules[3].when.any[1].cel: CEL: undeclared reference to 'yesterday'",
	}
	if len(list) != len(want) {
		t.Fatalf("%d errors, want %d:\n%v", len(list), len(want), joinErrors(list))
	}
	for i, w := range want {
		if !strings.HasPrefix(list[i].Error(), w) {
			t.Errorf("error %d = %q, want prefix %q", i, list[i], w)
		}
	}
	if hint := `a custom attribute is person.attributes["clearance"]`; !strings.HasSuffix(list[1].Error(), hint) {
		t.Errorf("error %q does not end with the hint %q", list[1], hint)
	}
}

func TestExplainShowsCELAndEvaluationErrors(t *testing.T) {
	r := mustParse(t, `rules:
  - name: cleared
    when:
      cel: person.attributes["clearance"] == "secret-2"
    grant: [{app: a, entitlements: [group:x]}]
  - name: badge
    when:
      cel: person.attributes["badge"] == "red"
    grant: [{app: a, entitlements: [group:y]}]
  - name: tenure
    when:
      cel: |
        now - person.start_date > duration("24h") &&
          person.manager_chain[0] == "E2"
    grant: [{app: a, entitlements: [group:x]}]
`)
	people, snap := world(celNow)
	ex := r.Explain(people[2], snap, "a")
	if len(ex.Grants) != 2 || ex.Grants[1].Key() != "a:group:x" {
		t.Fatalf("grants %+v", ex.Grants)
	}
	want := map[string]CondTrace{
		"cleared": {Clause: "when", Line: 4, Condition: `CEL person.attributes["clearance"] == "secret-2"`,
			Person: `evaluates to true; person.attributes = {"clearance": "secret-2"}`, Matched: true},
		"badge": {Clause: "when", Line: 8, Condition: `CEL person.attributes["badge"] == "red"`,
			Person: `evaluation error, so it does not hold: no such key: badge; person.attributes = {"clearance": "secret-2"}`, Matched: false},
		"tenure": {Clause: "when", Line: 12, Condition: `CEL now - person.start_date > duration("24h") && person.manager_chain[0] == "E2"`,
			Person: `evaluation error, so it does not hold: no such attribute(s): person.start_date; now = 2026-11-28T09:00:00Z, person.start_date = (not set), person.manager_chain = ["E2", "E1"]`},
	}
	for _, rt := range ex.Rules {
		w := want[rt.Rule]
		var got *CondTrace
		for i, c := range rt.Conditions {
			if strings.HasPrefix(c.Condition, "CEL ") {
				got = &rt.Conditions[i]
			}
		}
		if got == nil || *got != w || rt.Matched != w.Matched {
			t.Errorf("rule %s: matched %v, cel trace %+v, want %+v", rt.Rule, rt.Matched, got, w)
		}
		delete(want, rt.Rule)
	}
	if len(want) != 0 {
		t.Errorf("rules not traced: %v", want)
	}
}
