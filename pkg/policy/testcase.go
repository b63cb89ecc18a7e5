package policy

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tenure-id/tenure/pkg/identity"
)

func (w *walker) testCase(n *yaml.Node, field string) *TestCase {
	tc := &TestCase{Pos: w.pos(n)}
	m := w.object(n, field, keys["test"]...)
	if m == nil {
		return tc
	}
	for _, req := range []string{"name", "person", "expect"} {
		if m[req] == nil {
			w.fail(n, join(field, req), "required")
		}
	}
	if v := m["name"]; v != nil {
		tc.Name = w.str(v, join(field, "name"))
	}
	if v := m["now"]; v != nil {
		tc.Now = w.date(v, join(field, "now"))
	}
	if v := m["person"]; v != nil {
		tc.Person = w.testPerson(v, join(field, "person"))
	}
	if v := m["exceptions"]; v != nil {
		if m["now"] == nil {
			w.fail(v, join(field, "now"), "required with exceptions, so expiry is decided the same way on every run")
		}
		for i, item := range w.seq(v, join(field, "exceptions")) {
			ef := index(join(field, "exceptions"), i)
			em := w.object(item, ef, keys["test.exception"]...)
			g := identity.Grant{ID: fmt.Sprintf("test-exception-%d", i+1), PersonID: "test-subject", Source: identity.FromException}
			for _, req := range []string{"app", "approver", "reason"} {
				if em[req] == nil && em != nil {
					w.fail(item, join(ef, req), "required")
				}
			}
			if em["app"] != nil {
				g.App = w.str(em["app"], join(ef, "app"))
			}
			if em["entitlement"] != nil {
				g.Entitlement = w.str(em["entitlement"], join(ef, "entitlement"))
			}
			if em["approver"] != nil {
				g.Approver = w.str(em["approver"], join(ef, "approver"))
			}
			if em["reason"] != nil {
				g.Reason = w.str(em["reason"], join(ef, "reason"))
			}
			if em["expires"] != nil {
				t := ExpiryFromDate(w.date(em["expires"], join(ef, "expires")))
				g.ExpiresAt = &t
			}
			tc.Exceptions = append(tc.Exceptions, g)
		}
	}
	if v := m["expect"]; v != nil {
		em := w.object(v, join(field, "expect"), keys["test.expect"]...)
		if em["grants"] == nil && em != nil {
			w.fail(v, join(field, "expect.grants"), "required: the exact grants, [] for none")
		}
		if g := em["grants"]; g != nil {
			tc.Expect.Grants = w.keyList(g, join(field, "expect.grants"))
		}
		if b := em["blocked"]; b != nil {
			tc.Expect.Blocked, tc.Expect.HasBlocked = w.keyList(b, join(field, "expect.blocked")), true
		}
		if r := em["roles"]; r != nil {
			tc.Expect.Roles = map[string]string{}
			keys, vals := w.pairs(r, join(field, "expect.roles"))
			for i, k := range keys {
				tc.Expect.Roles[k.Value] = w.str(vals[i], join(field, "expect.roles."+k.Value))
			}
		}
	}
	return tc
}

// keyList is a list of grant keys where [] means none.
func (w *walker) keyList(n *yaml.Node, field string) []string {
	if n.Kind == yaml.SequenceNode && len(n.Content) == 0 {
		return []string{}
	}
	return w.strs(n, field)
}

func (w *walker) testPerson(n *yaml.Node, field string) TestPerson {
	tp := TestPerson{Person: identity.Person{ID: "test-subject", EmploymentType: identity.Employee, Status: identity.Active}}
	m := w.object(n, field, keys["test.person"]...)
	p := &tp.Person
	for key, dst := range map[string]*string{"employee_id": &p.EmployeeID, "username": &p.Username, "work_email": &p.WorkEmail,
		"job_title": &p.JobTitle, "job_code": &p.JobCode, "location": &p.Location, "country": &p.Country,
		"cost_center": &p.CostCenter, "org_unit": &tp.OrgUnit} {
		if m[key] != nil {
			*dst = w.str(m[key], join(field, key))
		}
	}
	if v := m["employment_type"]; v != nil {
		t, err := identity.ParseEmploymentType(w.str(v, join(field, "employment_type")))
		if err != nil {
			w.fail(v, join(field, "employment_type"), "%v", err)
		}
		p.EmploymentType = t
	}
	if v := m["status"]; v != nil {
		s, err := identity.ParseStatus(w.str(v, join(field, "status")))
		if err != nil {
			w.fail(v, join(field, "status"), "%v", err)
		}
		p.Status = s
	}
	for key, dst := range map[string]**time.Time{"start_date": &p.StartDate, "end_date": &p.EndDate} {
		if m[key] != nil {
			d := w.date(m[key], join(field, key))
			*dst = &d
		}
	}
	if v := m["managers"]; v != nil {
		tp.Managers = w.strs(v, join(field, "managers"))
	}
	if v := m["direct_reports"]; v != nil {
		tp.DirectReports = w.integer(v, join(field, "direct_reports"))
	}
	if v := m["groups"]; v != nil {
		tp.Groups = w.strs(v, join(field, "groups"))
	}
	if v := m["attributes"]; v != nil {
		p.Attributes = map[string]string{}
		keys, vals := w.pairs(v, join(field, "attributes"))
		for i, k := range keys {
			p.Attributes[k.Value] = w.str(vals[i], join(field, "attributes."+k.Value))
		}
	}
	if p.EmployeeID == "" {
		p.EmployeeID = "TEST"
	}
	p.Normalize()
	return tp
}

func (set *Set) checkTests(c *errs) {
	names := map[string]Pos{}
	for _, tc := range set.Tests {
		if prev, dup := names[tc.Name]; dup && tc.Name != "" {
			c.add(tc.Pos, "tests.name", "duplicate test name %q (first at %s:%d)", tc.Name, prev.File, prev.Line)
		}
		names[tc.Name] = tc.Pos
		if u := tc.Person.OrgUnit; u != "" {
			if _, ok := set.orgUnits[strings.ToLower(strings.Trim(u, "/"))]; !ok {
				c.add(tc.Pos, "tests.person.org_unit", "unknown org unit %q: declare it under org_units", u)
			}
		}
		for _, k := range tc.Expect.Grants {
			set.checkMember(k, tc.Pos, "tests.expect.grants", c)
		}
		for _, k := range tc.Expect.Blocked {
			set.checkMember(k, tc.Pos, "tests.expect.blocked", c)
		}
		for _, ex := range tc.Exceptions {
			if ex.App != "" {
				set.checkMember(grantKey(ex.App, ex.Entitlement), tc.Pos, "tests.exceptions", c)
			}
		}
	}
}

// TestResult is the outcome of one policy test case.
type TestResult struct {
	Name     string   `json:"name"`
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Passed   bool     `json:"passed"`
	Failures []string `json:"failures,omitempty"`
}

// RunTests runs the set's own test cases.
func (r *Resolver) RunTests() []TestResult {
	out := make([]TestResult, 0, len(r.set.Tests))
	for _, tc := range r.set.Tests {
		person, view := r.testView(tc)
		res := r.Resolve(person, view)
		tr := TestResult{Name: tc.Name, File: tc.File, Line: tc.Line}
		got := make([]string, len(res.Grants))
		for i, g := range res.Grants {
			got[i] = g.Key()
		}
		if d := setDiff("grants", withAccounts(tc.Expect.Grants), got); d != "" {
			tr.Failures = append(tr.Failures, d)
		}
		if tc.Expect.HasBlocked {
			var blocked []string
			for _, b := range res.Blocked {
				blocked = append(blocked, b.Key())
			}
			if d := setDiff("blocked", tc.Expect.Blocked, blocked); d != "" {
				tr.Failures = append(tr.Failures, d)
			}
		}
		for _, app := range sortedKeys(tc.Expect.Roles) {
			g, _ := res.Find(app)
			if g.Role != tc.Expect.Roles[app] {
				tr.Failures = append(tr.Failures, fmt.Sprintf("role in %s: got %q, want %q", app, g.Role, tc.Expect.Roles[app]))
			}
		}
		tr.Passed = len(tr.Failures) == 0
		out = append(out, tr)
	}
	return out
}

// testView builds the little world a test case describes: the declared org tree, a manager
// chain of stand-in people, the person's groups and exceptions.
func (r *Resolver) testView(tc *TestCase) (identity.Person, *Snapshot) {
	var units []identity.OrgUnit
	// Sorted paths put every parent before its children.
	for _, path := range slices.Sorted(maps.Values(r.set.orgUnits)) {
		parent := ""
		if i := strings.LastIndex(path, "/"); i >= 0 {
			parent = strings.ToLower(path[:i])
		}
		units = append(units, identity.OrgUnit{ID: strings.ToLower(path), Name: path[strings.LastIndex(path, "/")+1:], ParentID: parent})
	}
	p := tc.Person.Person
	p.OrgUnitID = strings.ToLower(strings.Trim(tc.Person.OrgUnit, "/"))
	people := []identity.Person{p}
	prev := &people[0]
	for i, m := range tc.Person.Managers {
		id := fmt.Sprintf("test-manager-%d", i+1)
		prev.ManagerID = id
		people = append(people, identity.Person{ID: id, EmployeeID: m, Username: strings.ToLower(m)})
		prev = &people[len(people)-1]
	}
	groups := map[string][]identity.Group{}
	for _, g := range tc.Person.Groups {
		src, name, ok := strings.Cut(g, "/")
		if !ok {
			src, name = "local", g
		}
		groups[p.ID] = append(groups[p.ID], identity.Group{Source: src, Name: name})
	}
	snap := NewSnapshot(SnapshotData{Now: tc.Now, OrgUnits: units, People: people, Groups: groups, Exceptions: tc.Exceptions})
	snap.reports[p.ID] = tc.Person.DirectReports
	return people[0], snap
}

// withAccounts adds the account an entitlement implies, so test authors list what matters.
func withAccounts(keys []string) []string {
	out := slices.Clone(keys)
	for _, k := range keys {
		if app, _, ok := strings.Cut(k, ":"); ok && !slices.Contains(out, app) {
			out = append(out, app)
		}
	}
	return out
}

func setDiff(what string, want, got []string) string {
	var missing, extra []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			extra = append(extra, g)
		}
	}
	if missing == nil && extra == nil {
		return ""
	}
	var parts []string
	if missing != nil {
		parts = append(parts, "missing "+strings.Join(missing, ", "))
	}
	if extra != nil {
		parts = append(parts, "unexpected "+strings.Join(extra, ", "))
	}
	return what + ": " + strings.Join(parts, "; ")
}
