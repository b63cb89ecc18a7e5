package provision

import (
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/policy"
)

// Desired is what one person should hold in one app.
type Desired struct {
	PersonID string
	// Account is the account the person should hold. Active false (leave, suspension) keeps an
	// existing account disabled and creates none.
	Account connector.Account
	// Reason names the rules and exceptions behind the account.
	Reason string
	// Memberships are the granted entitlements of every kind; Compute keeps the kinds the app
	// manages.
	Memberships []Membership
	// Status is the person's lifecycle status, which explains a disabled account.
	Status identity.Status
}

// Membership is one granted entitlement ("team:web") with the rules behind it.
type Membership struct {
	Entitlement string
	Reason      string
}

// Person is what correlation and deprovisioning need to know about someone in the directory.
type Person struct {
	ID, EmployeeID, Name, UserName, Email string
	Status                                identity.Status
	// Ended is when a person who left stopped working (their end date); zero when not known.
	Ended time.Time
}

// People indexes everyone in the directory by the keys correlation tries. Build it once per
// run: it is read-only afterwards and shared by every app's Compute.
type People struct {
	byID    map[string]*Person
	byUser  map[string][]*Person // lowercase user name
	byEmail map[string][]*Person // lowercase email
}

// NewPeople indexes people.
func NewPeople(people []Person) *People {
	ix := &People{byID: make(map[string]*Person, len(people)), byUser: make(map[string][]*Person, len(people)),
		byEmail: make(map[string][]*Person, len(people))}
	for i := range people {
		p := &people[i]
		ix.byID[p.ID] = p
		if p.UserName != "" {
			k := strings.ToLower(p.UserName)
			ix.byUser[k] = append(ix.byUser[k], p)
		}
		if p.Email != "" {
			k := strings.ToLower(p.Email)
			ix.byEmail[k] = append(ix.byEmail[k], p)
		}
	}
	return ix
}

// Get returns the person with id.
func (ix *People) Get(id string) (*Person, bool) {
	p, ok := ix.byID[id]
	return p, ok
}

// PersonOf is the planner's view of a directory person.
func PersonOf(p identity.Person) Person {
	out := Person{ID: p.ID, EmployeeID: p.EmployeeID, Name: p.DisplayName(), UserName: p.Username, Email: p.WorkEmail, Status: p.Status}
	switch {
	case p.EndDate != nil:
		out.Ended = *p.EndDate
	case p.Status == identity.Terminated:
		// A termination without an end date (an old import) counts from when it was recorded.
		out.Ended = p.UpdatedAt
	}
	return out
}

// DesiredInput is what BuildDesired reads.
type DesiredInput struct {
	// People is the whole directory; Only, when not nil, limits the result to these IDs.
	People []identity.Person
	Only   map[string]bool
	// View is the snapshot the resolver looks at (org tree, managers, groups, exceptions, now).
	View     policy.View
	Resolver *policy.Resolver
	// Apps are the apps to build for; Attributes holds each app's configured attribute
	// templates (provisioning.apps.NAME.attributes), which policy grant attributes override.
	Apps       []string
	Attributes map[string]map[string]policy.Template
}

// BuildDesired resolves every person once and returns, per app, the accounts people should
// hold, ordered as People. It is pure and spreads the people over the CPUs.
//
// Lifecycle states follow what Okta and Entra ID do with HR-driven provisioning:
//   - active: the policy's grants.
//   - pre_hire: the policy's grants too. Rules apply to active people unless they name
//     pre_hire, so only apps a rule opts in (Google Workspace "ready before their first day")
//     get an account before the start date, created enabled so credentials can be handed out.
//   - on_leave and suspended: the person keeps the accounts they would have when active, but
//     disabled (Entra's accountEnabled=false on a leave of absence; Okta's suspend), so a return
//     re-enables them with their data and memberships; nothing new is created meanwhile.
//   - terminated: nothing is desired, so Compute disables (then, after the grace period,
//     deletes) whatever the person still holds.
func BuildDesired(in DesiredInput) map[string][]Desired {
	want := make(map[string]int, len(in.Apps))
	for i, a := range in.Apps {
		want[a] = i
	}
	var todo []int
	for i := range in.People {
		if in.Only == nil || in.Only[in.People[i].ID] {
			todo = append(todo, i)
		}
	}
	// Two passes keep a directory's worth of accounts from being copied as slices grow: each
	// worker resolves its share and counts accounts per app, then writes them straight into
	// the final slices at its offsets, so the result keeps the people's order.
	workers := min(runtime.GOMAXPROCS(0), max(1, len(todo)/256))
	results := make([]policy.Result, len(todo))
	counts := make([][]int, workers) // [worker][app]
	b := desiredBuilder{in: &in, want: want}
	parallel(workers, len(todo), func(w, lo, hi int) {
		counts[w] = make([]int, len(in.Apps))
		for k := lo; k < hi; k++ {
			results[k] = b.resolve(&in.People[todo[k]])
			for gi := range results[k].Grants {
				if g := &results[k].Grants[gi]; g.Entitlement == "" {
					if ai, ok := want[g.App]; ok {
						counts[w][ai]++
					}
				}
			}
		}
	})
	res := make(map[string][]Desired, len(in.Apps))
	offsets := make([][]int, workers)
	all := make([][]Desired, len(in.Apps))
	for ai, app := range in.Apps {
		n := 0
		for w := range workers {
			if offsets[w] == nil {
				offsets[w] = make([]int, len(in.Apps))
			}
			offsets[w][ai] = n
			n += counts[w][ai]
		}
		// Exact: build writes one account per counted account grant.
		all[ai] = make([]Desired, n)
		res[app] = all[ai]
	}
	parallel(workers, len(todo), func(w, lo, hi int) {
		next := offsets[w]
		b := desiredBuilder{in: &in, want: want, reasons: map[string]string{}}
		for k := lo; k < hi; k++ {
			b.build(&in.People[todo[k]], &results[k], all, next)
			results[k] = policy.Result{}
		}
	})
	return res
}

// parallel runs fn over [0, n) split into workers contiguous ranges.
func parallel(workers, n int, fn func(w, lo, hi int)) {
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { fn(w, w*n/workers, (w+1)*n/workers) })
	}
	wg.Wait()
}

type desiredBuilder struct {
	in   *DesiredInput
	want map[string]int
	// reasons shares the text of single-rule reasons, which nearly every grant has, instead
	// of building the same string for every person.
	reasons map[string]string
	key     []byte
	slab    []Membership
	name    string // the display name of the person being built, made once for all apps
}

func (b *desiredBuilder) reason(rs []policy.Reason) string {
	if b.reasons == nil {
		return reasonOf(rs)
	}
	// The key is the rule names; a lookup with string(bytes) does not allocate.
	b.key = b.key[:0]
	for _, r := range rs {
		if r.Exception != nil || r.KeptUntil != nil {
			return reasonOf(rs)
		}
		b.key = append(append(b.key, r.Rule...), 0)
	}
	if s, ok := b.reasons[string(b.key)]; ok {
		return s
	}
	s := reasonOf(rs)
	b.reasons[string(b.key)] = s
	return s
}

// resolve decides the person's grants; a leaver has none.
func (b *desiredBuilder) resolve(p *identity.Person) policy.Result {
	subject := *p
	switch p.Status {
	case identity.Terminated:
		return policy.Result{}
	case identity.OnLeave, identity.Suspended:
		subject.Status = identity.Active // what they hold when at work, kept disabled
	}
	return b.in.Resolver.Resolve(subject, b.in.View)
}

// build writes the person's desired accounts at next[app], advancing it.
func (b *desiredBuilder) build(p *identity.Person, res *policy.Result, out [][]Desired, next []int) {
	b.name = p.DisplayName()
	active := p.Status != identity.OnLeave && p.Status != identity.Suspended
	for gi := 0; gi < len(res.Grants); {
		g := &res.Grants[gi]
		end := gi + 1
		for end < len(res.Grants) && res.Grants[end].App == g.App {
			end++
		}
		if ai, ok := b.want[g.App]; ok && g.Entitlement == "" {
			b.account(p, res.Grants[gi:end], active, &out[ai][next[ai]])
			next[ai]++
		}
		gi = end
	}
}

// account builds the desired account from one app's grants (sorted: the account first) into d.
func (b *desiredBuilder) account(p *identity.Person, grants []policy.Grant, active bool, d *Desired) {
	acct := &grants[0]
	a := connector.Account{ExternalID: p.ID, UserName: p.Username, Email: p.WorkEmail,
		GivenName: firstNonEmpty(p.PreferredName, p.LegalFirstName), FamilyName: p.LegalLastName,
		DisplayName: b.name, Active: active, Role: acct.Role}
	tmpls := b.in.Attributes[acct.App]
	if len(tmpls) > 0 || len(acct.Attributes) > 0 {
		a.Attributes = make(map[string]string, len(tmpls)+len(acct.Attributes))
		for k, t := range tmpls {
			if v := t.Render(*p, b.in.View); v != "" {
				a.Attributes[k] = v
			}
		}
		for k, v := range acct.Attributes {
			if v != "" {
				a.Attributes[k] = v
			} else {
				delete(a.Attributes, k)
			}
		}
	}
	*d = Desired{PersonID: p.ID, Account: a, Reason: b.reason(acct.Reasons), Status: p.Status}
	if n := len(grants) - 1; n > 0 {
		// Memberships of many people share one slab; the full slice expression keeps an
		// append to one person's from writing into the next person's.
		if cap(b.slab)-len(b.slab) < n {
			b.slab = make([]Membership, 0, max(n, 4096))
		}
		start := len(b.slab)
		for _, g := range grants[1:] {
			b.slab = append(b.slab, Membership{Entitlement: g.Entitlement, Reason: b.reason(g.Reasons)})
		}
		d.Memberships = b.slab[start:len(b.slab):len(b.slab)]
	}
}

func reasonOf(rs []policy.Reason) string {
	if len(rs) == 1 {
		return rs[0].String()
	}
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.String()
	}
	return strings.Join(out, "; ")
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// sortedKeys is used for deterministic output.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
