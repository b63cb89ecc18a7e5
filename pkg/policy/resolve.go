package policy

import (
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tenure-id/tenure/pkg/identity"
)

// Grant is one piece of desired access: the account in an app (Entitlement "") or one
// entitlement in it, with every reason that produced it.
type Grant struct {
	App         string            `json:"app"`
	Entitlement string            `json:"entitlement,omitempty"`
	Role        string            `json:"role,omitempty"`
	Attributes  map[string]string `json:"attributes,omitempty"`
	Reasons     []Reason          `json:"reasons"`

	id int32 // position of the key in the resolver's sorted catalogue; -1 if not in it
}

// Key is "APP" for the account or "APP:KIND:NAME" for an entitlement.
func (g Grant) Key() string { return grantKey(g.App, g.Entitlement) }

func grantKey(app, ent string) string {
	if ent == "" {
		return app
	}
	return app + ":" + ent
}

// Reason is one rule or one exception behind a grant. It is small on purpose: a directory's
// worth of grants carries one per grant, and exceptions are rare.
type Reason struct {
	Rule      string           `json:"rule,omitempty"`
	Exception *ExceptionReason `json:"exception,omitempty"`
	// KeptUntil is set when the rule matched the person's previous org unit and a transfer's
	// overlap window keeps the grant until then.
	KeptUntil *time.Time `json:"kept_until,omitempty"`
}

// ExceptionReason is the approved exception behind a grant.
type ExceptionReason struct {
	ID        string     `json:"id"`
	Approver  string     `json:"approver"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// Overrides names the SoD conflict the exception lets this grant through.
	Overrides string `json:"overrides_conflict,omitempty"`
}

func (r Reason) String() string {
	if r.Exception == nil {
		if r.KeptUntil != nil {
			return "rule " + r.Rule + " (previous org unit, kept until " + r.KeptUntil.Format(time.RFC3339) + ")"
		}
		return "rule " + r.Rule
	}
	s := "exception " + r.Exception.ID + " approved by " + r.Exception.Approver
	if r.Exception.Overrides != "" {
		s += " (overrides conflict " + r.Exception.Overrides + ")"
	}
	return s
}

// Blocked is a grant a rule would give but a separation-of-duties conflict stops.
type Blocked struct {
	App         string   `json:"app"`
	Entitlement string   `json:"entitlement,omitempty"`
	Conflict    string   `json:"conflict"`
	HeldWith    string   `json:"held_with"` // the conflicting grant the person keeps
	Rules       []string `json:"rules"`
}

// Key is as for Grant.
func (b Blocked) Key() string { return grantKey(b.App, b.Entitlement) }

// Excluded is a grant a rule would give but an exclusion rule removes.
type Excluded struct {
	App         string   `json:"app"`
	Entitlement string   `json:"entitlement,omitempty"`
	By          string   `json:"excluded_by"`
	Rules       []string `json:"rules"`
}

// Result is the desired state for one person.
type Result struct {
	Grants   []Grant    `json:"grants"`
	Blocked  []Blocked  `json:"blocked,omitempty"`
	Excluded []Excluded `json:"excluded,omitempty"`

	reasons []Reason // one allocation shared by the first reason of every grant
}

// Find returns the grant with key, if any.
func (r *Result) Find(key string) (Grant, bool) {
	for _, g := range r.Grants {
		if g.Key() == key {
			return g, true
		}
	}
	return Grant{}, false
}

// Resolver applies one policy set. It is safe for concurrent use.
type Resolver struct {
	set          *Set
	conflicts    map[string][]*Conflict // member key → conflicts naming it
	conflictApps map[string]bool        // apps with a conflict member, so others skip the check
	// sizeHint is the most grants one person has had so far (bounded by the policy), so each
	// resolve allocates its grants once without growing.
	sizeHint  atomic.Int32
	maxGrants int32
	// ids number every catalogue key in sorted order, so finding and sorting a person's
	// grants compares integers instead of strings.
	ids     map[string]int32
	specIDs [][]specID // [rule][grant spec]
}

type specID struct {
	acct int32
	ents []int32
}

func (r *Resolver) idOf(app, ent string) int32 {
	if id, ok := r.ids[grantKey(app, ent)]; ok {
		return id
	}
	return -1
}

// NewResolver prepares set for resolving.
func NewResolver(set *Set) *Resolver {
	r := &Resolver{set: set, conflicts: map[string][]*Conflict{}, conflictApps: map[string]bool{}}
	for _, c := range set.Conflicts {
		for _, m := range c.Members {
			r.conflicts[m] = append(r.conflicts[m], c)
			app, _, _ := strings.Cut(m, ":")
			r.conflictApps[app] = true
		}
	}
	distinct := map[string]bool{}
	for _, rule := range set.Rules {
		for _, g := range rule.Grants {
			distinct[g.App] = true
			for _, e := range g.Entitlements {
				distinct[grantKey(g.App, e)] = true
			}
		}
	}
	r.maxGrants = int32(len(distinct))
	r.sizeHint.Store(min(r.maxGrants, 8))
	r.numberKeys(set)
	return r
}

// numberKeys gives every catalogue key an ID in sorted order and compiles the rules' grant
// specs to IDs.
func (r *Resolver) numberKeys(set *Set) {
	type key struct{ app, ent string }
	var all []key
	for _, a := range set.Apps {
		all = append(all, key{a.Name, ""})
		for _, e := range a.Entitlements {
			all = append(all, key{a.Name, e.Key()})
		}
	}
	slices.SortFunc(all, func(a, b key) int {
		if c := strings.Compare(a.app, b.app); c != 0 {
			return c
		}
		return strings.Compare(a.ent, b.ent)
	})
	r.ids = make(map[string]int32, len(all))
	for i, k := range all {
		r.ids[grantKey(k.app, k.ent)] = int32(i)
	}
	r.specIDs = make([][]specID, len(set.Rules))
	for ri, rule := range set.Rules {
		for _, g := range rule.Grants {
			sid := specID{acct: r.idOf(g.App, "")}
			for _, e := range g.Entitlements {
				sid.ents = append(sid.ents, r.idOf(g.App, e))
			}
			r.specIDs[ri] = append(r.specIDs[ri], sid)
		}
	}
}

// Set is the policy the resolver applies.
func (r *Resolver) Set() *Set { return r.set }

// Resolve decides the person's grants. It is pure: the same person and view give the same
// result, and a person who stops matching a rule simply stops getting its grants.
func (r *Resolver) Resolve(p identity.Person, v View) Result {
	s := &subject{p: p, view: v, chain: v.OrgChain(p.OrgUnitID)}
	// Preallocating grants and reasons keeps resolving a whole directory from being
	// dominated by slice growth.
	hint := int(r.sizeHint.Load())
	res := Result{Grants: make([]Grant, 0, hint), reasons: make([]Reason, 0, 2*hint)}
	var exBuf [4]*Rule
	exclusions := exBuf[:0]
	for ri, rule := range r.set.Rules {
		if !rule.matches(s) {
			continue
		}
		if len(rule.Excludes) > 0 {
			exclusions = append(exclusions, rule)
			continue
		}
		for i := range rule.Grants {
			spec, ids := &rule.Grants[i], &r.specIDs[ri][i]
			acct := res.add(spec.App, "", ids.acct, rule.Name)
			if spec.Role != "" {
				a := r.set.apps[spec.App]
				if acct.Role == "" || a.roleRank(spec.Role) > a.roleRank(acct.Role) {
					acct.Role = spec.Role
				}
			}
			for _, t := range spec.Attributes {
				if _, set := acct.Attributes[t.Name]; !set {
					if acct.Attributes == nil {
						acct.Attributes = map[string]string{}
					}
					acct.Attributes[t.Name] = render(t.parts, s)
				}
			}
			for j, e := range spec.Entitlements {
				res.add(spec.App, e, ids.ents[j], rule.Name)
			}
		}
	}
	for _, x := range exclusions {
		res.exclude(x)
	}
	r.addOverlap(&res, p, v)
	exceptions := activeExceptions(p, v)
	r.separateDuties(&res, exceptions)
	for _, ex := range exceptions {
		if ex.Entitlement != "" {
			acct := res.add(ex.App, "", r.idOf(ex.App, ""), "")
			acct.Reasons = appendReason(acct.Reasons, exceptionReason(ex, ""))
		}
		g := res.add(ex.App, ex.Entitlement, r.idOf(ex.App, ex.Entitlement), "")
		g.Reasons = appendReason(g.Reasons, exceptionReason(ex, r.conflictWith(&res, g.Key())))
	}
	slices.SortFunc(res.Grants, func(a, b Grant) int {
		if a.id >= 0 && b.id >= 0 {
			return int(a.id - b.id)
		}
		if c := strings.Compare(a.App, b.App); c != 0 {
			return c
		}
		return strings.Compare(a.Entitlement, b.Entitlement)
	})
	res.reasons = nil
	if n := int32(len(res.Grants)); n > int32(hint) {
		r.sizeHint.Store(min(n, max(r.maxGrants, 8)))
	}
	return res
}

func (rule *Rule) matches(s *subject) bool {
	return (rule.When == nil || rule.When.match(s)) && (rule.Unless == nil || !rule.Unless.match(s))
}

// add returns the grant for (app, ent), creating it; rule, if given, joins its reasons.
func (res *Result) add(app, ent string, id int32, rule string) *Grant {
	var g *Grant
	if id >= 0 {
		for i := range res.Grants {
			if res.Grants[i].id == id {
				g = &res.Grants[i]
				break
			}
		}
	} else {
		g = res.find(app, ent)
	}
	if g == nil {
		res.Grants = append(res.Grants, Grant{App: app, Entitlement: ent, id: id})
		g = &res.Grants[len(res.Grants)-1]
	}
	switch {
	case rule == "":
	case len(g.Reasons) == 0 && len(res.reasons) < cap(res.reasons):
		res.reasons = append(res.reasons, Reason{Rule: rule})
		n := len(res.reasons)
		g.Reasons = res.reasons[n-1 : n : n] // a second reason reallocates, never overwrites
	case len(g.Reasons) > 0 && g.Reasons[len(g.Reasons)-1].Rule == rule:
	case len(res.reasons)+len(g.Reasons)+1 <= cap(res.reasons):
		// Move the grant's reasons to the end of the shared slab and add this one there.
		start := len(res.reasons)
		res.reasons = append(append(res.reasons, g.Reasons...), Reason{Rule: rule})
		g.Reasons = res.reasons[start:len(res.reasons):len(res.reasons)]
	default:
		g.Reasons = append(g.Reasons, Reason{Rule: rule})
	}
	return g
}

func (res *Result) find(app, ent string) *Grant {
	for i := range res.Grants {
		if res.Grants[i].App == app && res.Grants[i].Entitlement == ent {
			return &res.Grants[i]
		}
	}
	return nil
}

// exclude removes what x names. Exclusions apply to rule grants only: an exception is an
// approved deviation from policy and stands until it expires or is revoked.
func (res *Result) exclude(x *Rule) {
	kept := res.Grants[:0]
	for _, g := range res.Grants {
		if x.excludes(g) {
			res.Excluded = append(res.Excluded, Excluded{App: g.App, Entitlement: g.Entitlement, By: x.Name, Rules: ruleNames(g.Reasons)})
			continue
		}
		kept = append(kept, g)
	}
	res.Grants = kept
}

func (x *Rule) excludes(g Grant) bool {
	for _, spec := range x.Excludes {
		if spec.App != g.App {
			continue
		}
		if len(spec.Entitlements) == 0 || contains(spec.Entitlements, g.Entitlement) {
			return true
		}
	}
	return false
}

// separateDuties walks rule grants in rule order and blocks each one that would complete a
// conflict with one already held, unless an approved exception covers it.
func (r *Resolver) separateDuties(res *Result, exceptions []identity.Grant) {
	if len(r.conflicts) == 0 {
		return
	}
	covered := func(key string) bool {
		for _, ex := range exceptions {
			if grantKey(ex.App, ex.Entitlement) == key {
				return true
			}
		}
		return false
	}
	var held, blockedApps []string
	kept := res.Grants[:0]
	for _, g := range res.Grants {
		if !r.conflictApps[g.App] {
			kept = append(kept, g)
			continue
		}
		if slices.Contains(blockedApps, g.App) {
			continue // no entitlements without the account
		}
		key := g.Key()
		if c, with := r.conflictHeld(held, key); c != nil && !covered(key) {
			res.Blocked = append(res.Blocked, Blocked{App: g.App, Entitlement: g.Entitlement, Conflict: c.Name, HeldWith: with, Rules: ruleNames(g.Reasons)})
			if g.Entitlement == "" {
				blockedApps = append(blockedApps, g.App)
			}
			continue
		}
		held = append(held, key)
		kept = append(kept, g)
	}
	res.Grants = kept
}

func (r *Resolver) conflictHeld(held []string, key string) (*Conflict, string) {
	for _, c := range r.conflicts[key] {
		for _, m := range c.Members {
			if m != key && slices.Contains(held, m) {
				return c, m
			}
		}
	}
	return nil, ""
}

// conflictWith names the conflict the grant with key completes among the result's grants.
func (r *Resolver) conflictWith(res *Result, key string) string {
	for _, c := range r.conflicts[key] {
		for _, m := range c.Members {
			if m != key && res.has(m) {
				return c.Name
			}
		}
	}
	return ""
}

func (res *Result) has(key string) bool {
	app, ent, _ := strings.Cut(key, ":")
	return res.find(app, ent) != nil
}

// activeExceptions are the person's unexpired exceptions. They need an active person: an
// exception bends policy for someone at work, it never keeps access past a termination.
func activeExceptions(p identity.Person, v View) []identity.Grant {
	if p.Status != identity.Active {
		return nil
	}
	all := v.Exceptions(p.ID)
	if len(all) == 0 {
		return nil
	}
	now := v.Now()
	var out []identity.Grant
	for _, g := range all {
		if g.Source == identity.FromException && !Expired(g, now) {
			out = append(out, g)
		}
	}
	return out
}

// Expired reports whether an exception has run out at now.
func Expired(g identity.Grant, now time.Time) bool {
	return g.ExpiresAt != nil && !now.Before(*g.ExpiresAt)
}

func exceptionReason(g identity.Grant, overrides string) Reason {
	return Reason{Exception: &ExceptionReason{ID: g.ID, Approver: g.Approver, ExpiresAt: g.ExpiresAt, Overrides: overrides}}
}

func appendReason(rs []Reason, r Reason) []Reason {
	for _, x := range rs {
		if x.Exception != nil && x.Exception.ID == r.Exception.ID {
			return rs
		}
	}
	return append(rs, r)
}

func ruleNames(rs []Reason) []string {
	var out []string
	for _, r := range rs {
		if r.Rule != "" {
			out = append(out, r.Rule)
		}
	}
	return out
}

// ExpiryFromDate turns an expiry date into the instant access ends: a grant that "expires
// 2026-12-31" is usable through that whole day (UTC), as people read such dates.
func ExpiryFromDate(d time.Time) time.Time {
	y, m, day := d.UTC().Date()
	return time.Date(y, m, day+1, 0, 0, 0, 0, time.UTC)
}
