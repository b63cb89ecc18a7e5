package provision

import (
	"fmt"
	"testing"

	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/policy"
)

const desiredPolicy = `org_units: [Acme, Acme/Eng]
apps:
  - {name: google, connector: google, roles: [user, admin], entitlements: [group:everyone, group:eng]}
  - {name: slack, connector: slack, roles: [member], entitlements: [channel:general]}
rules:
  - name: google-early
    when: {status: [pre_hire, active]}
    grant:
      - app: google
        role: user
        entitlements: [group:everyone]
        attributes: {title: "${person.job_title}", unit: "${org.unit}"}
  - name: eng-google
    when: {org_unit: Acme/Eng}
    grant: [{app: google, entitlements: [group:eng]}]
  - name: slack-everyone
    grant: [{app: slack, role: member, entitlements: [channel:general]}]
`

func TestBuildDesired(t *testing.T) {
	set, err := policy.Parse(map[string][]byte{"p.yaml": []byte(desiredPolicy)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	people := []identity.Person{
		{ID: "a", EmployeeID: "E1", LegalFirstName: "Ada", LegalLastName: "Lovelace", PreferredName: "Addie", Username: "ada", WorkEmail: "ada@acme.test",
			Status: identity.Active, JobTitle: "Engineer", OrgUnitID: "eng"},
		{ID: "b", EmployeeID: "E2", LegalFirstName: "Bob", LegalLastName: "Ross", Status: identity.PreHire, JobTitle: "Painter", OrgUnitID: "root"},
		{ID: "c", EmployeeID: "E3", LegalFirstName: "Cy", LegalLastName: "Young", Status: identity.OnLeave, OrgUnitID: "eng"},
		{ID: "d", EmployeeID: "E4", LegalFirstName: "Di", LegalLastName: "Prince", Status: identity.Terminated, OrgUnitID: "eng"},
	}
	snap := policy.NewSnapshot(policy.SnapshotData{Now: now, People: people,
		OrgUnits: []identity.OrgUnit{{ID: "root", Name: "Acme"}, {ID: "eng", Name: "Eng", ParentID: "root"}}})
	cost, err := policy.ParseTemplate("${person.employee_id}/${org.path}")
	if err != nil {
		t.Fatal(err)
	}
	title, err := policy.ParseTemplate("config title") // the rule's attribute wins over config, even when empty
	if err != nil {
		t.Fatal(err)
	}
	got := BuildDesired(DesiredInput{People: people, View: snap, Resolver: policy.NewResolver(set), Apps: []string{"google", "slack"},
		Attributes: map[string]map[string]policy.Template{"google": {"cost": cost, "title": title}}})

	render := func(ds []Desired) []string {
		var out []string
		for _, d := range ds {
			a := d.Account
			out = append(out, fmt.Sprintf("%s %s %s %s|%s|%s active=%v role=%s attrs=%v reason=%q ms=%v", d.PersonID, a.ExternalID, a.UserName,
				a.Email, a.GivenName+" "+a.FamilyName, a.DisplayName, a.Active, a.Role, a.Attributes, d.Reason, d.Memberships))
		}
		return out
	}
	want := map[string][]string{
		"google": {
			`a a ada ada@acme.test|Addie Lovelace|Addie Lovelace active=true role=user attrs=map[cost:E1/Acme/Eng title:Engineer unit:Eng] reason="rule google-early; rule eng-google" ms=[{group:eng rule eng-google} {group:everyone rule google-early}]`,
			`b b  |Bob Ross|Bob Ross active=true role=user attrs=map[cost:E2/Acme title:Painter unit:Acme] reason="rule google-early" ms=[{group:everyone rule google-early}]`,
			`c c  |Cy Young|Cy Young active=false role=user attrs=map[cost:E3/Acme/Eng unit:Eng] reason="rule google-early; rule eng-google" ms=[{group:eng rule eng-google} {group:everyone rule google-early}]`,
		},
		"slack": {
			`a a ada ada@acme.test|Addie Lovelace|Addie Lovelace active=true role=member attrs=map[] reason="rule slack-everyone" ms=[{channel:general rule slack-everyone}]`,
			`c c  |Cy Young|Cy Young active=false role=member attrs=map[] reason="rule slack-everyone" ms=[{channel:general rule slack-everyone}]`,
		},
	}
	for app, w := range want {
		g := render(got[app])
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("%s:\n got  %q\n want %q", app, g, w)
		}
	}

	only := BuildDesired(DesiredInput{People: people, Only: map[string]bool{"c": true}, View: snap, Resolver: policy.NewResolver(set), Apps: []string{"slack"}})
	if len(only["slack"]) != 1 || only["slack"][0].PersonID != "c" || len(only) != 1 {
		t.Errorf("only c: %+v", only)
	}
}
