package policy

import (
	"errors"
	"strings"
	"testing"

	"github.com/tenure-id/tenure/pkg/identity"
)

const baseCatalogue = `org_units:
  - Acme/Engineering/Platform
  - Acme/Sales
apps:
  - name: github
    connector: github
    roles: [member, owner]
    entitlements: [team:platform, team:all]
  - name: slack
    connector: slack
rules:
  - name: everyone-slack
    grant: [{app: slack}]
`

func TestValidationErrorsNameFileLineAndField(t *testing.T) {
	tests := []struct {
		name string
		file string
		want string // "case.yaml:LINE: FIELD: text"
	}{
		{"unknown app", `rules:
  - name: r
    grant:
      - app: gitlab
`, "case.yaml:4: rules.grant.app: unknown app \"gitlab\""},
		{"unknown entitlement", `rules:
  - name: r
    grant:
      - app: github
        entitlements: [team:platform,
          team:plaform]
`, "case.yaml:6: rules.grant.entitlements: unknown entitlement \"team:plaform\" in app \"github\""},
		{"unknown role", `rules:
  - name: r
    grant:
      - {app: github, role: admin}
`, "case.yaml:4: rules.grant.role: app \"github\" has no role \"admin\""},
		{"role on an app without roles", `rules:
  - name: r
    grant: [{app: slack, role: admin}]
`, "case.yaml:3: rules.grant.role: app \"slack\" declares no roles"},
		{"duplicate rule name", `rules:
  - name: everyone-slack
    grant: [{app: slack}]
`, "case.yaml:2: rules.name: duplicate rule name \"everyone-slack\" (first at base.yaml:12)"},
		{"unknown org unit", `rules:
  - name: r
    when:
      org_unit:
        - Acme/Sales
        - Acme/Enginering
    grant: [{app: slack}]
`, "case.yaml:6: rules.org_unit: unknown org unit \"Acme/Enginering\""},
		{"unknown org unit inside any", `rules:
  - name: r
    when:
      any:
        - {org_unit_exact: Acme/Sales}
        - {org_unit_exact: Acme/Legal}
    grant: [{app: slack}]
`, "case.yaml:6: rules.org_unit_exact: unknown org unit \"Acme/Legal\""},
		{"unknown condition key", `rules:
  - name: r
    when:
      departement: Sales
    grant: [{app: slack}]
`, "case.yaml:4: rules[0].when.departement: unknown key"},
		{"unknown top-level key", `rule:
  - name: r
`, "case.yaml:1: rule: unknown key"},
		{"bad employment type", `rules:
  - name: r
    when:
      employment_type: [employee, freelancer]
    grant: [{app: slack}]
`, "case.yaml:4: rules[0].when.employment_type[1]: \"freelancer\" is not one of"},
		{"bad status", `rules:
  - name: r
    when: {status: retired}
    grant: [{app: slack}]
`, "case.yaml:3: rules[0].when.status: \"retired\" is not one of"},
		{"grant and exclude", `rules:
  - name: r
    grant: [{app: slack}]
    exclude: [{app: github}]
`, "case.yaml:4: rules[0].exclude: a rule either grants or excludes"},
		{"neither grant nor exclude", `rules:
  - name: r
    when: {country: US}
`, "case.yaml:2: rules[0]: a rule needs grant or exclude"},
		{"missing rule name", `rules:
  - grant: [{app: slack}]
`, "case.yaml:2: rules[0].name: required"},
		{"bad template", `rules:
  - name: r
    grant:
      - app: github
        attributes:
          title: ${person.title}
`, "case.yaml:6: rules[0].grant[0].attributes.title: unknown reference ${person.title}"},
		{"bad catalogue entitlement", `apps:
  - name: jira
    connector: scim
    entitlements: [project-x]
`, "case.yaml:4: apps[0].entitlements[0]: \"project-x\": want kind:name"},
		{"duplicate app", `apps:
  - {name: slack, connector: slack}
`, "case.yaml:2: apps.name: app \"slack\" is already declared at base.yaml:9"},
		{"app without connector", `apps:
  - name: jira
`, "case.yaml:2: apps[0].connector: required"},
		{"conflict names unknown entitlement", `conflicts:
  - name: c
    entitlements: [github:team:platform, github:team:admins]
`, "case.yaml:3: conflicts.entitlements: unknown entitlement \"team:admins\" in app \"github\""},
		{"conflict with one member", `conflicts:
  - name: c
    entitlements: [github]
`, "case.yaml:3: conflicts[0].entitlements: a conflict needs at least two members"},
		{"is_manager not a bool", `rules:
  - name: r
    when: {is_manager: "sometimes"}
    grant: [{app: slack}]
`, "case.yaml:3: rules[0].when.is_manager: expected true or false"},
		{"any with one alternative", `rules:
  - name: r
    when:
      any: [{country: US}]
    grant: [{app: slack}]
`, "case.yaml:4: rules[0].when.any: any needs two or more alternatives"},
		{"invalid yaml", "rules:\n  - name: r\n    grant: x: y\n", "case.yaml:3: not valid YAML"},
		{"test names unknown org unit", `tests:
  - name: t
    person: {org_unit: Acme/Legal}
    expect: {grants: []}
`, "case.yaml:2: tests.person.org_unit: unknown org unit \"Acme/Legal\""},
		{"test exceptions without now", `tests:
  - name: t
    person: {org_unit: Acme/Sales}
    exceptions: [{app: github, approver: e1, reason: r}]
    expect: {grants: []}
`, "case.yaml:4: tests[0].now: required with exceptions"},
		{"test expects unknown grant", `tests:
  - name: t
    person: {org_unit: Acme/Sales}
    expect: {grants: [slack, github:team:nope]}
`, "case.yaml:2: tests.expect.grants: unknown entitlement \"team:nope\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(map[string][]byte{"base.yaml": []byte(baseCatalogue), "case.yaml": []byte(tt.file)}, nil)
			var list Errors
			if !errors.As(err, &list) {
				t.Fatalf("Parse error = %v, want policy Errors", err)
			}
			if !errors.Is(err, identity.ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) = false")
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

func joinErrors(list Errors) string {
	var b strings.Builder
	for _, e := range list {
		b.WriteString(e.Error() + "\n")
	}
	return b.String()
}

func TestValidPolicyHasNoErrorsAndIndexesApps(t *testing.T) {
	set, err := Parse(map[string][]byte{"base.yaml": []byte(baseCatalogue)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, ok := set.App("github")
	if !ok || !a.HasEntitlement("team:platform") || a.HasEntitlement("team:nope") {
		t.Fatalf("catalogue lookup wrong: %+v", a)
	}
	if got := a.Identity(); got.Validate() != nil || len(got.Entitlements) != 2 {
		t.Fatalf("Identity() = %+v, %v", got, got.Validate())
	}
}

func TestAllErrorsReportedInFileAndLineOrder(t *testing.T) {
	_, err := Parse(map[string][]byte{"base.yaml": []byte(baseCatalogue), "b.yaml": []byte(`rules:
  - name: r1
    grant: [{app: nope}]
  - name: r2
    grant: [{app: nada}]
`), "a.yaml": []byte("rules:\n  - name: r0\n    grant: [{app: zilch}]\n")}, nil)
	var list Errors
	if !errors.As(err, &list) || len(list) != 3 {
		t.Fatalf("want 3 errors, got %v", err)
	}
	want := []string{"a.yaml:3:", "b.yaml:3:", "b.yaml:5:"}
	for i, w := range want {
		if !strings.HasPrefix(list[i].Error(), w) {
			t.Errorf("error %d = %q, want prefix %q", i, list[i], w)
		}
	}
}
