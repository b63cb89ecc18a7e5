package policy

import (
	"fmt"
	"strings"

	"github.com/tenure-id/tenure/pkg/identity"
)

// validate checks what no single file can: references between apps, rules, conflicts, org
// units and tests. It also indexes the set and adds the status default to rules.
func validate(set *Set, c *errs) {
	for _, a := range set.Apps {
		if a.Name == "" {
			continue
		}
		if prev, dup := set.apps[a.Name]; dup {
			c.add(a.Pos, "apps.name", "app %q is already declared at %s:%d", a.Name, prev.File, prev.Line)
			continue
		}
		set.apps[a.Name] = a
		seen := map[string]bool{}
		for _, r := range a.Roles {
			if seen[r] {
				c.add(a.Pos, "apps.roles", "app %q lists role %q twice", a.Name, r)
			}
			seen[r] = true
		}
	}
	declared := map[string]Pos{}
	for _, u := range set.OrgUnits {
		key := strings.ToLower(u.Path)
		if prev, dup := declared[key]; dup {
			c.add(u.Pos, "org_units", "org unit %q is already declared at %s:%d", u.Path, prev.File, prev.Line)
			continue
		}
		declared[key] = u.Pos
		// Declaring a unit declares its ancestors: "A/B/C" implies "A/B" and "A".
		parts := strings.Split(u.Path, "/")
		for i := range parts {
			p := strings.Join(parts[:i+1], "/")
			if _, ok := set.orgUnits[strings.ToLower(p)]; !ok {
				set.orgUnits[strings.ToLower(p)] = p
			}
		}
	}
	names := map[string]Pos{}
	for _, r := range set.Rules {
		if r.Name != "" {
			if prev, dup := names[r.Name]; dup {
				c.add(r.Pos, "rules.name", "duplicate rule name %q (first at %s:%d)", r.Name, prev.File, prev.Line)
			} else {
				names[r.Name] = r.Pos
			}
		}
		set.checkBlock(r.When, c)
		set.checkBlock(r.Unless, c)
		if !r.When.hasStatus() {
			// Rules apply to active people unless they say otherwise, as Okta and Entra drop
			// assignments of deactivated users: access must never outlive employment by accident.
			if r.When == nil {
				r.When = &Block{Pos: r.Pos}
			}
			def := Cond{Kind: CondStatus, Values: []string{string(identity.Active)}, Implicit: true, Pos: r.Pos}
			def.compile()
			r.When.Conds = append([]Cond{def}, r.When.Conds...)
		}
		for i, g := range r.Grants {
			a := set.checkRef(g.App, g.Entitlements, g.Pos, g.entPos, "rules.grant", c)
			switch {
			case a == nil || g.Role == "" || a.roleRank(g.Role) >= 0:
			case len(a.Roles) == 0:
				c.add(g.Pos, "rules.grant.role", "app %q declares no roles; add roles: to its catalogue entry", a.Name)
			default:
				c.add(g.Pos, "rules.grant.role", "app %q has no role %q (roles: %s)", a.Name, g.Role, quoteList(a.Roles))
			}
			r.Grants[i] = g
		}
		for _, x := range r.Excludes {
			set.checkRef(x.App, x.Entitlements, x.Pos, x.entPos, "rules.exclude", c)
		}
	}
	conflicts := map[string]Pos{}
	for _, k := range set.Conflicts {
		if prev, dup := conflicts[k.Name]; dup && k.Name != "" {
			c.add(k.Pos, "conflicts.name", "duplicate conflict name %q (first at %s:%d)", k.Name, prev.File, prev.Line)
		}
		conflicts[k.Name] = k.Pos
		seen := map[string]bool{}
		for i, m := range k.Members {
			if seen[m] {
				c.add(k.memberPos[i], "conflicts.entitlements", "%q is listed twice", m)
			}
			seen[m] = true
			set.checkMember(m, k.memberPos[i], "conflicts.entitlements", c)
		}
	}
	set.checkTests(c)
}

func (b *Block) hasStatus() bool {
	if b == nil {
		return false
	}
	for _, c := range b.Conds {
		if c.Kind == CondStatus {
			return true
		}
	}
	return false
}

func (set *Set) checkBlock(b *Block, c *errs) {
	if b == nil {
		return
	}
	for _, cond := range b.Conds {
		switch cond.Kind {
		case CondOrgUnit, CondOrgUnitExact:
			for i, v := range cond.Values {
				if _, ok := set.orgUnits[strings.ToLower(v)]; !ok {
					c.add(cond.valPos[i], "rules."+string(cond.Kind), "unknown org unit %q: declare it under org_units", v)
				}
			}
		case CondAny:
			for _, alt := range cond.Any {
				set.checkBlock(alt, c)
			}
		}
	}
}

// checkRef checks an app and entitlements named by a grant or exclusion.
func (set *Set) checkRef(app string, ents []string, at Pos, entPos []Pos, field string, c *errs) *App {
	if app == "" {
		return nil
	}
	a, ok := set.apps[app]
	if !ok {
		c.add(at, field+".app", "unknown app %q: declare it under apps", app)
		return nil
	}
	for i, e := range ents {
		if !a.ents[e] {
			c.add(entPos[i], field+".entitlements", "unknown entitlement %q in app %q (offers: %s)", e, app, quoteList(entKeys(a)))
		}
	}
	return a
}

// checkMember checks "APP" or "APP:KIND:NAME".
func (set *Set) checkMember(m string, at Pos, field string, c *errs) {
	app, ent, _ := strings.Cut(m, ":")
	a, ok := set.apps[app]
	switch {
	case !ok:
		c.add(at, field, "unknown app %q in %q", app, m)
	case ent != "" && !a.ents[ent]:
		c.add(at, field, "unknown entitlement %q in app %q (offers: %s)", ent, app, quoteList(entKeys(a)))
	}
}

func entKeys(a *App) []string {
	out := make([]string, len(a.Entitlements))
	for i, e := range a.Entitlements {
		out[i] = e.Key()
	}
	return out
}

// CheckOrgUnits reports each declared org unit the directory lacks (exists gets the path in
// lowercase), at the line that declares it: a rule on a unit HR never created matches no one.
func (set *Set) CheckOrgUnits(exists func(lowerPath string) bool) Errors {
	var out Errors
	for _, u := range set.OrgUnits {
		if !exists(strings.ToLower(u.Path)) {
			out = append(out, &Error{File: u.File, Line: u.Line, Field: "org_units",
				Msg: fmt.Sprintf("org unit %q is not in the directory", u.Path)})
		}
	}
	return out
}
