package policy

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/identity"
)

// benchDirectory is a synthetic Pied Piper of n people spread over the leaf units the sample
// policy names, with a manager tree ten wide, a mix of employment types, countries, groups
// attributes and start dates, so every kind of rule in policies/, the cel one included, has
// people to match.
func benchDirectory(set *Set, n int) ([]identity.Person, *Snapshot) {
	var units []identity.OrgUnit
	var leaves []string
	for _, path := range sortedKeys(set.orgUnits) {
		p := set.orgUnits[path]
		parent := ""
		if i := strings.LastIndex(p, "/"); i >= 0 {
			parent = strings.ToLower(p[:i])
		}
		units = append(units, identity.OrgUnit{ID: path, Name: p[strings.LastIndex(p, "/")+1:], ParentID: parent})
	}
	for _, d := range set.OrgUnits {
		leaves = append(leaves, strings.ToLower(d.Path))
	}
	types := []identity.EmploymentType{identity.Employee, identity.Employee, identity.Employee, identity.Contractor, identity.Intern}
	countries := []string{"US", "US", "GB", "DE"}
	people := make([]identity.Person, n)
	groups := map[string][]identity.Group{}
	for i := range people {
		p := identity.Person{ID: fmt.Sprintf("p%d", i), EmployeeID: fmt.Sprintf("E%06d", i), Username: fmt.Sprintf("user%d", i),
			EmploymentType: types[i%len(types)], Status: identity.Active, OrgUnitID: leaves[i%len(leaves)],
			JobTitle: "Software Engineer", Country: countries[i%len(countries)], Location: "Remote"}
		if i > 0 {
			p.ManagerID = fmt.Sprintf("p%d", (i-1)/10)
		}
		start := time.Date(2020, 1, 6, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%2500)
		p.StartDate = &start
		if i%7 == 0 {
			p.Attributes = map[string]string{"prod_access": "yes"}
		}
		if i%11 == 0 {
			if p.Attributes == nil {
				p.Attributes = map[string]string{}
			}
			p.Attributes["clearance"] = "high"
		}
		if i%50 == 0 {
			p.JobTitle, p.Location = "VP of Engineering", "Palo Alto"
		}
		if i%13 == 0 {
			groups[p.ID] = []identity.Group{{Source: "local", Name: "oncall"}}
		}
		if i%101 == 0 {
			groups[p.ID] = append(groups[p.ID], identity.Group{Source: "ldap:finance", Name: "accounts-payable"})
		}
		people[i] = p
	}
	people[0].Username = "richard"
	return people, NewSnapshot(SnapshotData{Now: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC), OrgUnits: units, People: people, Groups: groups})
}

// BenchmarkResolve100k resolves 100,000 people against the shipped sample policy, one op
// being the whole directory; "baseline-one-rule" runs the same people through a policy of a
// single birthright rule, to separate the policy's cost from the per-person floor, and
// "sample-policy-without-cel" drops the sample's cel rules to show what CEL costs. Run it on
// one core: go test -run '^$' -bench Resolve100k -cpu 1 ./pkg/policy/
func BenchmarkResolve100k(b *testing.B) {
	sample, err := LoadDir("../../policies")
	if err != nil {
		b.Fatal(err)
	}
	oneRule, err := Parse(map[string][]byte{"p.yaml": []byte(`apps: [{name: slack, connector: slack}]
rules: [{name: everyone, grant: [{app: slack}]}]
`)}, nil)
	if err != nil {
		b.Fatal(err)
	}
	// The sample without its cel rules shows what evaluating CEL adds.
	noCEL := *sample
	noCEL.Rules = slices.DeleteFunc(slices.Clone(sample.Rules), func(r *Rule) bool { return r.When.has(CondCEL) })
	if len(noCEL.Rules) == len(sample.Rules) {
		b.Fatal("the sample policy has no cel rule to measure")
	}
	const n = 100_000
	people, snap := benchDirectory(sample, n)
	for _, bc := range []struct {
		name string
		set  *Set
	}{{"baseline-one-rule", oneRule}, {"sample-policy-without-cel", &noCEL}, {"sample-policy", sample}} {
		b.Run(bc.name, func(b *testing.B) {
			r := NewResolver(bc.set)
			grants := 0
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				grants = 0
				for i := range people {
					grants += len(r.Resolve(people[i], snap).Grants)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "people/s")
			b.ReportMetric(float64(grants)/n, "grants/person")
		})
	}
}

// has reports whether the block, or any alternative in it, uses a condition of kind.
func (b *Block) has(kind CondKind) bool {
	if b == nil {
		return false
	}
	for _, c := range b.Conds {
		if c.Kind == kind || slices.ContainsFunc(c.Any, func(alt *Block) bool { return alt.has(kind) }) {
			return true
		}
	}
	return false
}
