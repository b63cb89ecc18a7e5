package provision

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/connector/memconn"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/policy"
)

// memStore is an in-memory PlannerStore, so the benchmark measures planning, not the database.
type memStore struct {
	units    []identity.OrgUnit
	people   []identity.Person
	groups   []identity.Group
	members  map[string][]identity.Person // group ID → members
	accounts map[string][]identity.Account
}

func (m *memStore) ListOrgUnits(context.Context) ([]identity.OrgUnit, error) { return m.units, nil }
func (m *memStore) ListPeople(context.Context, directory.PersonFilter) ([]identity.Person, error) {
	return m.people, nil
}
func (m *memStore) ListGroups(context.Context) ([]identity.Group, error) { return m.groups, nil }
func (m *memStore) GroupMembers(_ context.Context, id string) ([]identity.Person, error) {
	return m.members[id], nil
}
func (m *memStore) ListGrants(context.Context, directory.GrantFilter) ([]identity.Grant, error) {
	return nil, nil
}
func (m *memStore) ListAccounts(_ context.Context, f directory.AccountFilter) ([]identity.Account, error) {
	return m.accounts[f.App], nil
}

// benchCompany is n people over every org unit the sample policy names, with a manager tree
// ten wide, mixed employment types and countries, an on-call group, and 0.5 % leavers and
// 0.5 % on leave.
func benchCompany(set *policy.Set, n int) *memStore {
	m := &memStore{members: map[string][]identity.Person{}, accounts: map[string][]identity.Account{}}
	ids := map[string]string{}
	var leaves []string
	for _, d := range set.OrgUnits {
		parts := strings.Split(d.Path, "/")
		for i := range parts {
			path := strings.Join(parts[:i+1], "/")
			if _, ok := ids[path]; ok {
				continue
			}
			u := identity.OrgUnit{ID: fmt.Sprintf("ou%d", len(ids)), Name: parts[i]}
			if i > 0 {
				u.ParentID = ids[strings.Join(parts[:i], "/")]
			}
			ids[path] = u.ID
			m.units = append(m.units, u)
		}
		leaves = append(leaves, ids[d.Path])
	}
	oncall := identity.Group{ID: "g1", Name: "oncall", Source: "local"}
	m.groups = []identity.Group{oncall}
	types := []identity.EmploymentType{identity.Employee, identity.Employee, identity.Employee, identity.Contractor, identity.Intern}
	countries := []string{"US", "US", "GB", "DE"}
	ended := time.Date(2026, 11, 20, 17, 0, 0, 0, time.UTC)
	m.people = make([]identity.Person, n)
	for i := range m.people {
		p := identity.Person{ID: fmt.Sprintf("p%d", i), EmployeeID: fmt.Sprintf("E%06d", i), Username: fmt.Sprintf("user%d", i),
			WorkEmail: fmt.Sprintf("user%d@piedpiper.test", i), LegalFirstName: "Ada", LegalLastName: fmt.Sprintf("Lovelace%d", i),
			EmploymentType: types[i%len(types)], Status: identity.Active, OrgUnitID: leaves[i%len(leaves)],
			JobTitle: "Software Engineer", Country: countries[i%len(countries)], Location: "Remote", CostCenter: "CC-100"}
		if i > 0 {
			p.ManagerID = fmt.Sprintf("p%d", (i-1)/10)
		}
		switch {
		case i%200 == 7:
			p.Status, p.EndDate = identity.Terminated, &ended
		case i%200 == 8:
			p.Status = identity.OnLeave
		}
		if i%13 == 0 {
			m.members[oncall.ID] = append(m.members[oncall.ID], p)
		}
		m.people[i] = p
	}
	return m
}

var benchApps = map[string]connector.Traits{
	"google-workspace": {CanDisable: true, MembershipKinds: []string{"group"}, Fields: []string{"user_name", "email", "given_name", "family_name", "display_name", "role", "attributes.title", "attributes.department", "attributes.employee_id"}},
	"slack":            {CanDisable: true, MembershipKinds: []string{"channel"}, Fields: []string{"user_name", "email", "display_name", "role"}},
	"github":           {CanDisable: false, MembershipKinds: []string{"team"}, Fields: []string{"user_name", "email", "role"}},
	"zendesk":          {CanDisable: true, MembershipKinds: []string{"group"}, Fields: []string{"user_name", "email", "display_name", "role"}},
	"aws":              {CanDisable: true, MembershipKinds: []string{"role"}},
	"expenses":         {CanDisable: true, MembershipKinds: []string{"role"}},
}

// benchPlanner builds the company and six in-memory apps that hold what the policy grants,
// recorded as applied, then changes about 1 % of the accounts in the apps (a title or email
// edited, a membership dropped, an account missing) so the plan has real work to find.
func benchPlanner(b *testing.B, n int) (*Planner, *memStore) {
	set, err := policy.LoadDir("../../policies")
	if err != nil {
		b.Fatal(err)
	}
	m := benchCompany(set, n)
	p := &Planner{Store: m, Policy: set, Connectors: map[string]connector.Connector{}, Apps: map[string]config.AppConfig{},
		Clock: func() time.Time { return now }}
	var names []string
	for app := range benchApps {
		names = append(names, app)
	}
	desired := BuildDesired(DesiredInput{People: m.people, View: mustSnapshot(b, p), Resolver: policy.NewResolver(set), Apps: names})
	for app, traits := range benchApps {
		conn := memconn.New(traits)
		for i, d := range desired[app] {
			if !d.Account.Active {
				continue
			}
			acc := d.Account
			acc.ID = "a" + d.PersonID
			for _, ms := range d.Memberships {
				acc.Memberships = append(acc.Memberships, ms.Entitlement)
			}
			m.accounts[app] = append(m.accounts[app], Record(app, d.PersonID, acc, now))
			switch i % 400 {
			case 1, 2:
				acc.Email = "changed-" + acc.Email
			case 3:
				if len(acc.Memberships) > 0 {
					acc.Memberships = acc.Memberships[1:]
				}
			case 4:
				continue // missing in the app
			}
			conn.Put(acc)
		}
		p.Connectors[app] = conn
	}
	return p, m
}

func mustSnapshot(b *testing.B, p *Planner) *policy.Snapshot {
	snap, _, err := p.snapshot(context.Background(), now)
	if err != nil {
		b.Fatal(err)
	}
	return snap
}

// BenchmarkPlan100k plans 100,000 people in six apps: reading the directory from memory,
// resolving everyone, building desired accounts, listing each in-memory app (up to 100k
// accounts each) and computing its plan, apps concurrently, as Planner.Plan does. The baseline
// is resolving the same people against the same policy, spread over the same cores, and
// nothing else. Each iteration times the baseline and then the plan, back to back, so a
// machine whose load changes still compares like with like; both wall time and the process's
// CPU time are reported (ns/op is the sum of both phases and not the figure to read).
// Run: go test -run '^$' -bench Plan100k -cpu 2 -benchtime 5x ./pkg/provision/
func BenchmarkPlan100k(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	p, m := benchPlanner(b, n)
	r := policy.NewResolver(p.Policy)
	snap := mustSnapshot(b, p)
	var wall, cpu [2]time.Duration
	ops, iters := 0, 0
	b.ResetTimer()
	for b.Loop() {
		runtime.GC()
		t0, c0 := time.Now(), cpuTime(b)
		var wg sync.WaitGroup
		workers := runtime.GOMAXPROCS(0)
		for w := range workers {
			wg.Go(func() {
				for i := w; i < len(m.people); i += workers {
					r.Resolve(m.people[i], snap)
				}
			})
		}
		wg.Wait()
		wall[0] += time.Since(t0)
		cpu[0] += cpuTime(b) - c0

		runtime.GC()
		t0, c0 = time.Now(), cpuTime(b)
		plan, err := p.Plan(ctx)
		if err != nil {
			b.Fatal(err)
		}
		wall[1] += time.Since(t0)
		cpu[1] += cpuTime(b) - c0
		for _, ap := range plan.Apps {
			if ap.Error != "" {
				b.Fatal(ap.Error)
			}
		}
		ops = plan.Count()
		iters++
	}
	per := func(d time.Duration) float64 { return d.Seconds() / float64(iters) }
	b.ReportMetric(per(wall[0]), "baseline-s")
	b.ReportMetric(per(wall[1]), "plan-s")
	b.ReportMetric(wall[1].Seconds()/wall[0].Seconds(), "wall-ratio")
	b.ReportMetric(per(cpu[0]), "baseline-cpu-s")
	b.ReportMetric(per(cpu[1]), "plan-cpu-s")
	b.ReportMetric(cpu[1].Seconds()/cpu[0].Seconds(), "cpu-ratio")
	b.ReportMetric(float64(ops), "ops/plan")
	accounts := 0
	for _, recs := range m.accounts {
		accounts += len(recs)
	}
	b.ReportMetric(float64(accounts), "accounts")
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
