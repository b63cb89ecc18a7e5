package provision

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/identity"
)

// AppInput is everything Compute looks at for one app.
type AppInput struct {
	App    string
	Traits connector.Traits
	Config config.AppConfig
	// Desired are the people who should hold an account in the app (BuildDesired).
	Desired []Desired
	// People is the whole directory, for correlation: an account of someone the policy does
	// not grant the app must still be recognised as theirs.
	People *People
	// Actual is what the app holds (connector List, or Find for the people in Scope).
	Actual []connector.Account
	// Known are the accounts as recorded after Tenure last changed them (see Record); an app
	// value that differs from a known one that Tenure still wants is drift.
	Known []identity.Account
	// Scope, when not nil, limits the plan to these people: everyone else's accounts, and
	// orphans, are left out (an event-driven plan for one person).
	Scope map[string]bool
	Now   time.Time
}

// Compute plans one app: the pure heart of provisioning. Given the same input it returns the
// same plan, and the plan only depends on states, never on what happened before (level-based,
// as a controller reconciles): applying it and computing again gives an empty plan.
//
// Steps come grouped per account, accounts ordered by employee ID, each account's steps in
// connector.OpKinds order (the account exists before its memberships; access is removed before
// the account is disabled or deleted).
func Compute(in AppInput) AppPlan {
	plan := AppPlan{App: in.App}
	c := correlate(in.People, in.Actual)
	pc := planCtx{in: &in, plan: &plan, fields: managedFields(in.Traits), known: make(map[string]*identity.Account, len(in.Known)),
		driftEnforce: in.Config.Drift == "enforce"}
	for i := range in.Known {
		if k := &in.Known[i]; k.Status != identity.AccountDeleted {
			pc.known[k.ExternalID] = k
		}
	}
	inScope := func(id string) bool { return in.Scope == nil || in.Scope[id] }

	// Sorting by employee ID compares strings held in the entries, not map lookups per
	// comparison: this is most of a large app's planning otherwise.
	type entry struct {
		emp string
		p   *Person
		d   *Desired
		m   int // index in c.matches, or -1
	}
	entries := make([]entry, 0, len(in.Desired)+len(in.Actual)/16)
	person := func(id string) *Person {
		if p := in.People.byID[id]; p != nil {
			return p
		}
		return &Person{ID: id, Status: identity.Active}
	}
	desired := make([]bool, len(c.matches)) // the match's person is desired
	for i := range in.Desired {
		d := &in.Desired[i]
		m, ok := c.byPerson[d.PersonID]
		if ok {
			desired[m] = true
		} else {
			m = -1
		}
		if !c.blocked[d.PersonID] && inScope(d.PersonID) {
			p := person(d.PersonID)
			entries = append(entries, entry{p.EmployeeID, p, d, m})
		}
	}
	for i := range c.matches {
		if id := c.matches[i].personID; !desired[i] && !c.blocked[id] && inScope(id) {
			p := person(id)
			entries = append(entries, entry{p.EmployeeID, p, nil, i})
		}
	}
	slices.SortFunc(entries, func(a, b entry) int {
		if r := cmp.Compare(a.emp, b.emp); r != 0 {
			return r
		}
		return cmp.Compare(a.p.ID, b.p.ID)
	})
	for _, e := range entries {
		var m *match
		if e.m >= 0 {
			m = &c.matches[e.m]
		}
		pc.person(e.p, e.d, m)
	}

	for _, conf := range c.conflicts {
		if slices.ContainsFunc(conf.PersonIDs, inScope) {
			plan.Conflicts = append(plan.Conflicts, conf)
		}
	}
	if in.Scope == nil {
		slices.SortFunc(c.orphans, func(a, b *connector.Account) int { return cmp.Compare(a.UserName, b.UserName) })
		for _, acc := range c.orphans {
			plan.Orphans = append(plan.Orphans, *acc)
			// Enforcing disables; deleting needs a grace period counted from a known date, which
			// an orphan lacks, and an app that cannot disable keeps its orphans reported only.
			if in.Config.Orphans == "enforce" && acc.Active && in.Traits.CanDisable {
				pc.add(connector.OpDisable, "", acc, *acc, "", "orphan: no person in the directory matches this account", false)
			}
		}
	}
	return plan
}

type planCtx struct {
	in           *AppInput
	plan         *AppPlan
	fields       []string
	known        map[string]*identity.Account // by the app's account ID
	driftEnforce bool
	// byUser and byEmail index the app's accounts by lowercase key, built on the first create.
	byUser, byEmail map[string]*connector.Account
}

// taken reports, as a conflict, a create whose user name or email another account in the app
// already holds: typically a leaver's account still in the app while the directory has given
// their released user name to someone new. The app would refuse the create; the plan says why.
func (pc *planCtx) taken(p *Person, want *connector.Account) bool {
	if pc.byUser == nil {
		pc.byUser = make(map[string]*connector.Account, len(pc.in.Actual))
		pc.byEmail = make(map[string]*connector.Account, len(pc.in.Actual))
		for i := range pc.in.Actual {
			a := &pc.in.Actual[i]
			pc.byUser[strings.ToLower(a.UserName)] = a
			if a.Email != "" {
				pc.byEmail[strings.ToLower(a.Email)] = a
			}
		}
	}
	field, value, holder := "userName", want.UserName, pc.byUser[strings.ToLower(want.UserName)]
	if holder == nil && want.Email != "" {
		field, value, holder = "email", want.Email, pc.byEmail[strings.ToLower(want.Email)]
	}
	if holder == nil {
		return false
	}
	ids, whose := []string{p.ID}, "no one in the directory"
	if other, ok := pc.in.People.byID[holder.ExternalID]; ok {
		ids, whose = append(ids, other.ID), describe(other)
	}
	pc.plan.Conflicts = append(pc.plan.Conflicts, Conflict{PersonIDs: ids, AccountIDs: []string{holder.ID},
		Detail: fmt.Sprintf("%s needs an account with %s %q, which account %s (of %s) holds", describe(p), field, value, holder.ID, whose)})
	return true
}

func (pc *planCtx) add(kind connector.OpKind, personID string, acc *connector.Account, account connector.Account, ent, reason string, urgent bool, fields ...string) {
	op := connector.Op{Kind: kind, App: pc.in.App, PersonID: personID, Account: account, Entitlement: ent, Reason: reason, Fields: fields}
	if acc != nil {
		op.AccountID = acc.ID
	}
	pc.plan.Ops = append(pc.plan.Ops, Step{Op: op, Urgent: urgent})
}

func (pc *planCtx) manages(ent string) bool {
	kind, _, ok := strings.Cut(ent, ":")
	return ok && slices.Contains(pc.in.Traits.MembershipKinds, kind)
}

// person plans one person's account: d is what they should hold (nil: nothing), m the account
// correlated to them (nil: none).
func (pc *planCtx) person(p *Person, d *Desired, m *match) {
	if d == nil {
		if m != nil {
			pc.deprovision(p, m.acc)
		}
		return
	}
	if m == nil {
		if !d.Account.Active {
			return // on leave without an account: nothing to keep disabled
		}
		if pc.taken(p, &d.Account) {
			return
		}
		pc.add(connector.OpCreate, p.ID, nil, d.Account, "", d.Reason, false)
		// The new account has no ID yet: these steps carry its keys, and whoever applies them
		// addresses the account the create made.
		key := connector.Account{ExternalID: p.ID, UserName: d.Account.UserName, Email: d.Account.Email}
		for _, ms := range d.Memberships {
			if pc.manages(ms.Entitlement) {
				pc.add(connector.OpAddMember, p.ID, nil, key, ms.Entitlement, ms.Reason, false)
			}
		}
		return
	}
	acc, known := m.acc, pc.known[m.acc.ID]
	if d.Account.Active && !acc.Active {
		pc.add(connector.OpEnable, p.ID, acc, pc.ref(acc, p), "", d.Reason, false)
	}
	pc.update(p, d, m, known)
	if d.Account.Active {
		pc.memberships(p, d, acc, known)
	} else if acc.Active {
		pc.suspend(p, d, acc)
	}
}

// ref is the account an operation acts on, as the app holds it with the person's key.
func (pc *planCtx) ref(acc *connector.Account, p *Person) connector.Account {
	r := *acc
	r.Memberships = nil
	if r.ExternalID == "" {
		r.ExternalID = p.ID
	}
	return r
}

// update sets the fields the app manages to their desired values. The op's Account is the
// whole account as it should be afterwards, so a connector that replaces (SCIM PUT) and one
// that patches Fields both reach the same state.
func (pc *planCtx) update(p *Person, d *Desired, m *match, known *identity.Account) {
	acc := m.acc
	next := *acc
	next.Memberships = nil
	next.Active = acc.Active || d.Account.Active // after a planned enable
	var changed, drifted []string
	// An app with nowhere to keep the external id is matched by user name or email every
	// time: that is its steady state, not an adoption to record.
	adopt := m.by != byExternalID && !pc.in.Traits.NoExternalID
	if adopt {
		next.ExternalID = p.ID
		changed = append(changed, "external_id")
	}
	for _, f := range pc.fields {
		want, have := d.Account.Field(f), acc.Field(f)
		if f == "external_id" || sameValue(f, want, have) {
			continue
		}
		if known != nil && !adopt && sameValue(f, knownValue(known, f), want) {
			// Tenure set this value and still wants it: the app changed it.
			pc.plan.Drift = append(pc.plan.Drift, Drift{PersonID: p.ID, AccountID: acc.ID, UserName: acc.UserName, Field: f, Want: want, Have: have})
			if !pc.driftEnforce {
				continue
			}
			drifted = append(drifted, f)
		}
		next.SetField(f, want)
		changed = append(changed, f)
	}
	if len(changed) == 0 {
		return
	}
	var why []string
	if adopt {
		why = append(why, fmt.Sprintf("adopt existing account (matched by %s)", m.by))
	}
	if len(drifted) > 0 {
		names := make([]string, len(drifted))
		for i, f := range drifted {
			names[i] = shortField(f)
		}
		why = append(why, "drift: "+strings.Join(names, ", ")+" changed in the app")
	}
	if len(changed) > len(drifted)+btoi(adopt) {
		why = append(why, d.Reason)
	}
	pc.add(connector.OpUpdate, p.ID, acc, next, "", strings.Join(why, "; "), false, changed...)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// memberships adds granted entitlements the app lacks and removes held ones no grant gives,
// for the kinds the app manages. One Tenure set that the app has since changed is drift.
func (pc *planCtx) memberships(p *Person, d *Desired, acc *connector.Account, known *identity.Account) {
	ref := pc.ref(acc, p)
	for _, ms := range d.Memberships {
		if !pc.manages(ms.Entitlement) || slices.Contains(acc.Memberships, ms.Entitlement) {
			continue
		}
		reason := ms.Reason
		if known != nil && slices.Contains(known.Memberships, ms.Entitlement) {
			pc.plan.Drift = append(pc.plan.Drift, Drift{PersonID: p.ID, AccountID: acc.ID, UserName: acc.UserName, Field: "memberships", Want: ms.Entitlement})
			if !pc.driftEnforce {
				continue
			}
			reason = "drift: " + ms.Entitlement + " removed in the app; " + reason
		}
		pc.add(connector.OpAddMember, p.ID, acc, ref, ms.Entitlement, reason, false)
	}
	// Memberships are a handful per account: scanning beats building a set for every person.
	var extra []string
	for _, ent := range acc.Memberships {
		if pc.manages(ent) && !slices.ContainsFunc(d.Memberships, func(ms Membership) bool { return ms.Entitlement == ent }) {
			extra = append(extra, ent)
		}
	}
	slices.Sort(extra)
	for _, ent := range extra {
		reason := "no rule or exception grants " + ent + " any more"
		if known != nil && !slices.Contains(known.Memberships, ent) {
			pc.plan.Drift = append(pc.plan.Drift, Drift{PersonID: p.ID, AccountID: acc.ID, UserName: acc.UserName, Field: "memberships", Have: ent})
			if !pc.driftEnforce {
				continue
			}
			reason = "drift: " + ent + " added in the app; no rule or exception grants it"
		}
		pc.add(connector.OpRemoveMember, p.ID, acc, ref, ent, reason, false)
	}
}

// suspend disables the account of someone on leave or suspended who keeps it for their return.
func (pc *planCtx) suspend(p *Person, d *Desired, acc *connector.Account) {
	if p.Status == identity.Suspended && pc.graceEnded(p) {
		pc.add(connector.OpDelete, p.ID, acc, pc.ref(acc, p), "", pc.graceReason(p, "suspended"), false)
		return
	}
	if !pc.in.Traits.CanDisable {
		// The app has no suspended state and deleting would lose the data of someone expected
		// back: the account stays until they return or leave.
		return
	}
	why := "on leave"
	if p.Status == identity.Suspended {
		why = "suspended"
	}
	pc.add(connector.OpDisable, p.ID, acc, pc.ref(acc, p), "", why+": the account is kept disabled until the person is active again", false)
}

// deprovision handles an account its person should no longer hold: a leaver's, or access the
// policy stopped granting.
func (pc *planCtx) deprovision(p *Person, acc *connector.Account) {
	cfg, ref := pc.in.Config, pc.ref(acc, p)
	if p.Status == identity.Terminated {
		left := "terminated"
		if !p.Ended.IsZero() {
			left += " on " + p.Ended.UTC().Format(time.DateOnly)
		}
		switch {
		case pc.graceEnded(p):
			pc.add(connector.OpDelete, p.ID, acc, ref, "", pc.graceReason(p, left), true)
		case cfg.Deprovision == "delete":
			pc.add(connector.OpDelete, p.ID, acc, ref, "", left+" (the app deprovisions by deleting)", true)
		case !pc.in.Traits.CanDisable:
			pc.add(connector.OpDelete, p.ID, acc, ref, "", left+" (the app cannot disable accounts)", true)
		case acc.Active:
			pc.add(connector.OpDisable, p.ID, acc, ref, "", left, true)
		}
		return
	}
	why := "no rule or exception grants " + pc.in.App + " any more"
	switch {
	case cfg.Deprovision == "delete":
		pc.add(connector.OpDelete, p.ID, acc, ref, "", why+" (the app deprovisions by deleting)", false)
	case !pc.in.Traits.CanDisable:
		pc.add(connector.OpDelete, p.ID, acc, ref, "", why+" (the app cannot disable accounts)", false)
	case acc.Active:
		// The account is kept disabled rather than deleted: when access ended is not recorded
		// anywhere a grace period could count from, and a transfer back restores it.
		pc.add(connector.OpDisable, p.ID, acc, ref, "", why, false)
	}
}

// graceEnded reports whether the app's grace period after the person left has run out.
func (pc *planCtx) graceEnded(p *Person) bool {
	days := pc.in.Config.DeleteAfter()
	return days > 0 && !p.Ended.IsZero() && !pc.in.Now.Before(p.Ended.AddDate(0, 0, days))
}

func (pc *planCtx) graceReason(p *Person, left string) string {
	days := pc.in.Config.DeleteAfter()
	return fmt.Sprintf("grace period of %d days ended on %s (%s)", days, p.Ended.AddDate(0, 0, days).UTC().Format(time.DateOnly), left)
}
