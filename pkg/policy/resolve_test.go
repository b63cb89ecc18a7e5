package policy

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/identity"
)

// world is a small directory: Acme → Engineering → Platform → Core, and Acme → Sales.
// ceo E1 ← vp E2 ← engineer E3 (in Core); contractor E4 in Sales reports to E1; E5 is
// terminated in Core.
func world(now time.Time, exceptions ...identity.Grant) ([]identity.Person, *Snapshot) {
	units := []identity.OrgUnit{
		{ID: "u-acme", Name: "Acme", Kind: identity.Organization},
		{ID: "u-eng", Name: "Engineering", Kind: identity.Division, ParentID: "u-acme"},
		{ID: "u-plat", Name: "Platform", Kind: identity.Department, ParentID: "u-eng"},
		{ID: "u-core", Name: "Core", Kind: identity.Team, ParentID: "u-plat"},
		{ID: "u-sales", Name: "Sales", Kind: identity.Division, ParentID: "u-acme"},
	}
	people := []identity.Person{
		{ID: "p1", EmployeeID: "E1", Username: "ceo", EmploymentType: identity.Employee, Status: identity.Active, OrgUnitID: "u-acme", JobTitle: "CEO", Country: "US"},
		{ID: "p2", EmployeeID: "E2", Username: "vp", EmploymentType: identity.Employee, Status: identity.Active, OrgUnitID: "u-eng", ManagerID: "p1", JobTitle: "VP of Engineering"},
		{ID: "p3", EmployeeID: "E3", Username: "dev", WorkEmail: "dev@acme.test", EmploymentType: identity.Employee, Status: identity.Active,
			OrgUnitID: "u-core", ManagerID: "p2", JobTitle: "Senior Software Engineer", JobCode: "SWE3", Location: "Berlin", Country: "DE",
			Attributes: map[string]string{"clearance": "secret-2"}},
		{ID: "p4", EmployeeID: "E4", Username: "seller", EmploymentType: identity.Contractor, Status: identity.Active, OrgUnitID: "u-sales", ManagerID: "p1", Country: "US"},
		{ID: "p5", EmployeeID: "E5", EmploymentType: identity.Employee, Status: identity.Terminated, OrgUnitID: "u-core", ManagerID: "p2"},
	}
	groups := map[string][]identity.Group{
		"p3": {{Source: "ldap:corp", Name: "admins"}},
		"p4": {{Source: "local", Name: "admins"}},
	}
	return people, NewSnapshot(SnapshotData{Now: now, OrgUnits: units, People: people, Groups: groups, Exceptions: exceptions})
}

const worldCatalogue = `org_units: [Acme/Engineering/Platform/Core, Acme/Sales]
apps:
  - name: a
    connector: scim
    roles: [low, high]
    entitlements: [group:type, group:status-any, group:subtree, group:exact, group:title, group:code,
      group:location, group:country, group:manager, group:reports-to, group:is-manager, group:not-manager,
      group:group-any, group:group-qualified, group:attr, group:any, group:unless, group:x, group:y]
  - name: b
    connector: scim
    entitlements: [role:approver, role:payer]
`

func mustParse(t *testing.T, files ...string) *Resolver {
	t.Helper()
	m := map[string][]byte{"catalogue.yaml": []byte(worldCatalogue)}
	for i, f := range files {
		m[string(rune('m'+i))+".yaml"] = []byte(f)
	}
	set, err := Parse(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	return NewResolver(set)
}

func grantKeys(res Result) []string {
	var out []string
	for _, g := range res.Grants {
		out = append(out, g.Key())
	}
	return out
}

func TestEachConditionKind(t *testing.T) {
	r := mustParse(t, `rules:
  - {name: type, when: {employment_type: contractor}, grant: [{app: a, entitlements: [group:type]}]}
  - {name: status-any, when: {status: [active, terminated]}, grant: [{app: a, entitlements: [group:status-any]}]}
  - {name: subtree, when: {org_unit: Acme/Engineering}, grant: [{app: a, entitlements: [group:subtree]}]}
  - {name: exact, when: {org_unit_exact: acme/engineering}, grant: [{app: a, entitlements: [group:exact]}]}
  - {name: title, when: {job_title: ["*software*", CEO]}, grant: [{app: a, entitlements: [group:title]}]}
  - {name: code, when: {job_code: swe3}, grant: [{app: a, entitlements: [group:code]}]}
  - {name: location, when: {location: berlin}, grant: [{app: a, entitlements: [group:location]}]}
  - {name: country, when: {country: US}, grant: [{app: a, entitlements: [group:country]}]}
  - {name: manager, when: {manager: E1}, grant: [{app: a, entitlements: [group:manager]}]}
  - {name: reports-to, when: {reports_to: ceo}, grant: [{app: a, entitlements: [group:reports-to]}]}
  - {name: is-manager, when: {is_manager: true}, grant: [{app: a, entitlements: [group:is-manager]}]}
  - {name: not-manager, when: {is_manager: false}, grant: [{app: a, entitlements: [group:not-manager]}]}
  - {name: group-any, when: {group: admins}, grant: [{app: a, entitlements: [group:group-any]}]}
  - {name: group-qualified, when: {group: "ldap:corp/admins"}, grant: [{app: a, entitlements: [group:group-qualified]}]}
  - {name: attr, when: {attributes: {clearance: "secret*"}}, grant: [{app: a, entitlements: [group:attr]}]}
  - name: any
    when:
      any:
        - {country: DE}
        - {employment_type: contractor}
    grant: [{app: a, entitlements: [group:any]}]
  - {name: unless, when: {org_unit: Acme}, unless: {job_title: "CEO"}, grant: [{app: a, entitlements: [group:unless]}]}
`)
	people, snap := world(time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC))
	want := map[string][]string{
		"E1": {"status-any", "title", "country", "is-manager"}, // the CEO is the "unless"
		"E2": {"status-any", "subtree", "exact", "manager", "reports-to", "is-manager", "unless"},
		"E3": {"status-any", "subtree", "title", "code", "location", "not-manager", "reports-to", "group-any", "group-qualified", "attr", "any", "unless"},
		"E4": {"type", "status-any", "country", "manager", "reports-to", "not-manager", "group-any", "any", "unless"},
		"E5": {"status-any"}, // terminated: only the rule that names terminated applies
	}
	for _, p := range people {
		t.Run(p.EmployeeID, func(t *testing.T) {
			var got []string
			for _, g := range r.Resolve(p, snap).Grants {
				if g.Entitlement != "" {
					got = append(got, strings.TrimPrefix(g.Entitlement, "group:"))
				}
			}
			exp := want[p.EmployeeID]
			slices.Sort(got)
			slices.Sort(exp)
			if !slices.Equal(got, exp) {
				t.Fatalf("matched %v, want %v", got, exp)
			}
		})
	}
}

func TestGrantsMergeReasonsRolesAndAttributes(t *testing.T) {
	r := mustParse(t, `rules:
  - name: base
    when: {org_unit: Acme}
    grant:
      - app: a
        role: low
        entitlements: [group:x]
        attributes: {title: "${person.job_title} in ${org.unit}", unit_path: "${org.path}", clr: "${person.attributes.clearance}"}
  - name: eng
    when: {org_unit: Acme/Engineering}
    grant: [{app: a, role: high, entitlements: [group:x, group:y]}]
  - name: late-low
    when: {org_unit: Acme/Engineering}
    grant: [{app: a, role: low}]
`)
	people, snap := world(time.Time{})
	res := r.Resolve(people[2], snap)
	if got := grantKeys(res); !slices.Equal(got, []string{"a", "a:group:x", "a:group:y"}) {
		t.Fatalf("grants %v", got)
	}
	acct, _ := res.Find("a")
	if acct.Role != "high" {
		t.Errorf("role = %q, want the most privileged, high", acct.Role)
	}
	if got := ruleNames(acct.Reasons); !slices.Equal(got, []string{"base", "eng", "late-low"}) {
		t.Errorf("account reasons %v", got)
	}
	x, _ := res.Find("a:group:x")
	if got := ruleNames(x.Reasons); !slices.Equal(got, []string{"base", "eng"}) {
		t.Errorf("group:x reasons %v", got)
	}
	wantAttrs := map[string]string{"title": "Senior Software Engineer in Core", "unit_path": "Acme/Engineering/Platform/Core", "clr": "secret-2"}
	for k, v := range wantAttrs {
		if acct.Attributes[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, acct.Attributes[k], v)
		}
	}
	// Leaving the org unit is revocation: the same resolve simply stops producing the grants.
	moved := people[2]
	moved.OrgUnitID = "u-sales"
	if got := grantKeys(r.Resolve(moved, snap)); !slices.Equal(got, []string{"a", "a:group:x"}) {
		t.Fatalf("after moving to Sales: %v", got)
	}
}

func TestExclusions(t *testing.T) {
	r := mustParse(t, `rules:
  - {name: grant-all, when: {org_unit: Acme}, grant: [{app: a, entitlements: [group:x, group:y]}, {app: b, entitlements: [role:approver]}]}
  - {name: no-y-for-contractors, when: {employment_type: contractor}, exclude: [{app: a, entitlements: [group:y]}]}
  - {name: no-b-in-sales, when: {org_unit: Acme/Sales}, exclude: [{app: b}]}
`)
	people, snap := world(time.Time{})
	tests := []struct {
		person   identity.Person
		grants   []string
		excluded []string
	}{
		{people[2], []string{"a", "a:group:x", "a:group:y", "b", "b:role:approver"}, nil},
		{people[3], []string{"a", "a:group:x"}, []string{"a:group:y", "b", "b:role:approver"}},
	}
	for _, tt := range tests {
		t.Run(tt.person.EmployeeID, func(t *testing.T) {
			res := r.Resolve(tt.person, snap)
			if got := grantKeys(res); !slices.Equal(got, tt.grants) {
				t.Errorf("grants %v, want %v", got, tt.grants)
			}
			var ex []string
			for _, x := range res.Excluded {
				ex = append(ex, grantKey(x.App, x.Entitlement))
				if len(x.Rules) == 0 || x.By == "" {
					t.Errorf("exclusion %+v lacks its rules", x)
				}
			}
			slices.Sort(ex)
			if !slices.Equal(ex, tt.excluded) {
				t.Errorf("excluded %v, want %v", ex, tt.excluded)
			}
		})
	}
}

func TestExceptionsExpireUnderTheClock(t *testing.T) {
	r := mustParse(t, `rules:
  - {name: base, when: {org_unit: Acme}, grant: [{app: a}]}
`)
	expires := ExpiryFromDate(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC))
	ex := identity.Grant{ID: "x1", PersonID: "p3", App: "b", Entitlement: "role:payer", Source: identity.FromException,
		Approver: "E1", Reason: "audit", ExpiresAt: &expires}
	tests := []struct {
		name string
		now  time.Time
		who  int
		want []string
	}{
		{"before expiry", time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC), 2, []string{"a", "b", "b:role:payer"}},
		{"on the last day", time.Date(2026, 12, 31, 23, 59, 0, 0, time.UTC), 2, []string{"a", "b", "b:role:payer"}},
		{"the day after", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), 2, []string{"a"}},
		{"terminated person", time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC), 4, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ex
			people, _ := world(tt.now)
			e.PersonID = people[tt.who].ID
			_, snap := world(tt.now, e)
			res := r.Resolve(people[tt.who], snap)
			if got := grantKeys(res); !slices.Equal(got, tt.want) {
				t.Fatalf("grants %v, want %v", got, tt.want)
			}
			if g, ok := res.Find("b:role:payer"); ok && (g.Reasons[0].Exception == nil || g.Reasons[0].Exception.ID != "x1" || g.Reasons[0].Exception.Approver != "E1") {
				t.Fatalf("exception reason %+v", g.Reasons)
			}
		})
	}
}

func TestSeparationOfDuties(t *testing.T) {
	r := mustParse(t, `rules:
  - {name: managers-approve, when: {is_manager: true}, grant: [{app: b, entitlements: [role:approver]}]}
  - {name: admins-pay, when: {group: admins}, grant: [{app: b, entitlements: [role:payer]}]}
conflicts:
  - {name: approve-vs-pay, entitlements: ["b:role:approver", "b:role:payer"]}
`)
	now := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	people, plain := world(now)
	dev := people[2] // in group admins, no reports
	dev.ManagerID = ""
	// E2 has direct reports; putting him in admins as well gives him both sides.
	groups := map[string][]identity.Group{"p2": {{Source: "local", Name: "admins"}}}
	expires := now.AddDate(0, 1, 0)
	ex := identity.Grant{ID: "x9", PersonID: "p2", App: "b", Entitlement: "role:payer", Source: identity.FromException, Approver: "E1", Reason: "close", ExpiresAt: &expires}
	snapFor := func(exceptions ...identity.Grant) *Snapshot {
		ps, _ := world(now)
		return NewSnapshot(SnapshotData{Now: now, OrgUnits: nil, People: ps, Groups: groups, Exceptions: exceptions})
	}
	tests := []struct {
		name     string
		person   identity.Person
		view     View
		grants   []string
		blocked  []string
		override string
	}{
		{"one side only", dev, plain, []string{"b", "b:role:payer"}, nil, ""},
		{"both sides: the second is blocked", people[1], snapFor(), []string{"b", "b:role:approver"}, []string{"b:role:payer"}, ""},
		{"an exception lets it through", people[1], snapFor(ex), []string{"b", "b:role:approver", "b:role:payer"}, nil, "approve-vs-pay"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := r.Resolve(tt.person, tt.view)
			if got := grantKeys(res); !slices.Equal(got, tt.grants) {
				t.Errorf("grants %v, want %v", got, tt.grants)
			}
			var blocked []string
			for _, b := range res.Blocked {
				blocked = append(blocked, b.Key())
				if b.Conflict != "approve-vs-pay" || b.HeldWith != "b:role:approver" || !slices.Equal(b.Rules, []string{"admins-pay"}) {
					t.Errorf("blocked entry %+v", b)
				}
			}
			if !slices.Equal(blocked, tt.blocked) {
				t.Errorf("blocked %v, want %v", blocked, tt.blocked)
			}
			if tt.override != "" {
				g, _ := res.Find("b:role:payer")
				var found bool
				for _, r := range g.Reasons {
					found = found || (r.Exception != nil && r.Exception.Overrides == tt.override)
				}
				if !found {
					t.Errorf("payer reasons %+v do not record the override", g.Reasons)
				}
			}
		})
	}
}

func TestExplainTracesEveryConditionAgainstThePerson(t *testing.T) {
	r := mustParse(t, `rules:
  - name: eng
    when: {org_unit: Acme/Engineering, reports_to: ceo}
    unless: {employment_type: contractor}
    grant: [{app: a, entitlements: [group:x]}]
  - {name: sales, when: {org_unit: Acme/Sales}, grant: [{app: a, entitlements: [group:y]}]}
  - {name: other-app, when: {org_unit: Acme}, grant: [{app: b}]}
`)
	people, snap := world(time.Time{})
	ex := r.Explain(people[2], snap, "a")
	if len(ex.Rules) != 2 || ex.Rules[0].Rule != "eng" || !ex.Rules[0].Matched || ex.Rules[1].Matched {
		t.Fatalf("rules traced: %+v", ex.Rules)
	}
	got := map[string]CondTrace{}
	for _, c := range ex.Rules[0].Conditions {
		got[c.Clause+" "+c.Condition] = c
	}
	want := map[string]string{
		"when status is active (the default for rules that name no status)": "active",
		"when org unit is Acme/Engineering or below":                        "Acme/Engineering/Platform/Core, which is below Acme/Engineering",
		"when reports, directly or not, to ceo":                             "manager chain E2 (vp) > E1 (ceo), including E1 (ceo)",
		"unless employment type is one of contractor":                       "employee",
	}
	for cond, person := range want {
		c, ok := got[cond]
		if !ok {
			t.Errorf("no trace for %q in %+v", cond, ex.Rules[0].Conditions)
			continue
		}
		if c.Person != person {
			t.Errorf("%s: person %q, want %q", cond, c.Person, person)
		}
	}
	if got["unless employment type is one of contractor"].Matched {
		t.Error("unless clause should not hold for an employee")
	}
	if len(ex.Grants) != 2 || ex.Grants[1].Key() != "a:group:x" {
		t.Fatalf("explained grants %+v", ex.Grants)
	}
}

func TestManagerCycleDoesNotHang(t *testing.T) {
	r := mustParse(t, `rules:
  - {name: r, when: {reports_to: nobody}, grant: [{app: a}]}
`)
	people := []identity.Person{
		{ID: "x", EmployeeID: "X", EmploymentType: identity.Employee, Status: identity.Active, ManagerID: "y"},
		{ID: "y", EmployeeID: "Y", EmploymentType: identity.Employee, Status: identity.Active, ManagerID: "x"},
	}
	snap := NewSnapshot(SnapshotData{People: people})
	if got := grantKeys(r.Resolve(people[0], snap)); got != nil {
		t.Fatalf("grants %v", got)
	}
}

func TestResolverIsSafeForConcurrentUse(t *testing.T) {
	set, err := LoadDir("../../policies")
	if err != nil {
		t.Fatal(err)
	}
	people, snap := benchDirectory(set, 2000)
	r := NewResolver(set)
	want := make([][]string, len(people))
	for i, p := range people {
		want[i] = grantKeys(r.Resolve(p, snap))
	}
	errs := make(chan string, 4)
	for w := 0; w < 4; w++ {
		go func() {
			for i, p := range people {
				if got := grantKeys(r.Resolve(p, snap)); !slices.Equal(got, want[i]) {
					errs <- p.EmployeeID + ": " + strings.Join(got, ",")
					return
				}
			}
			errs <- ""
		}()
	}
	for w := 0; w < 4; w++ {
		if e := <-errs; e != "" {
			t.Fatalf("concurrent resolve differs: %s", e)
		}
	}
}
