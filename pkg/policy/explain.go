package policy

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tenure-id/tenure/pkg/identity"
)

// Explanation answers "why does (or doesn't) this person have this app": the outcome, and for
// every rule that mentions the app, each condition against the person's own value.
type Explanation struct {
	App      string      `json:"app"`
	Grants   []Grant     `json:"grants"`
	Blocked  []Blocked   `json:"blocked,omitempty"`
	Excluded []Excluded  `json:"excluded,omitempty"`
	Rules    []RuleTrace `json:"rules"`
}

// RuleTrace is one rule evaluated for one person.
type RuleTrace struct {
	Rule       string      `json:"rule"`
	File       string      `json:"file"`
	Line       int         `json:"line"`
	Effect     string      `json:"effect"` // grant | exclude
	Matched    bool        `json:"matched"`
	Gives      []string    `json:"gives"` // grant keys in the app the rule grants or excludes
	Conditions []CondTrace `json:"conditions"`
}

// CondTrace is one condition: what the rule asks, what the person has, and whether it held.
type CondTrace struct {
	Clause    string `json:"clause"` // when | unless | when.any[N]
	Line      int    `json:"line"`
	Condition string `json:"condition"`
	Person    string `json:"person"`
	Matched   bool   `json:"matched"`
}

// Explain resolves p and traces every rule that grants or excludes something in app.
func (r *Resolver) Explain(p identity.Person, v View, app string) Explanation {
	res := r.Resolve(p, v)
	ex := Explanation{App: app, Grants: []Grant{}}
	for _, g := range res.Grants {
		if g.App == app {
			ex.Grants = append(ex.Grants, g)
		}
	}
	for _, b := range res.Blocked {
		if b.App == app {
			ex.Blocked = append(ex.Blocked, b)
		}
	}
	for _, x := range res.Excluded {
		if x.App == app {
			ex.Excluded = append(ex.Excluded, x)
		}
	}
	s := &subject{p: p, view: v, chain: v.OrgChain(p.OrgUnitID)}
	for _, rule := range r.set.Rules {
		gives, effect := rule.gives(app)
		if gives == nil {
			continue
		}
		t := RuleTrace{Rule: rule.Name, File: rule.File, Line: rule.Line, Effect: effect, Matched: rule.matches(s), Gives: gives}
		if rule.When != nil {
			t.Conditions = append(t.Conditions, rule.When.trace("when", s)...)
		}
		if rule.Unless != nil {
			t.Conditions = append(t.Conditions, rule.Unless.trace("unless", s)...)
		}
		ex.Rules = append(ex.Rules, t)
	}
	return ex
}

// gives lists the keys the rule grants or excludes in app, or nil when it does not mention it.
func (rule *Rule) gives(app string) ([]string, string) {
	var out []string
	for _, g := range rule.Grants {
		if g.App == app {
			out = append(out, app)
			for _, e := range g.Entitlements {
				out = append(out, grantKey(app, e))
			}
		}
	}
	for _, x := range rule.Excludes {
		if x.App == app {
			if len(x.Entitlements) == 0 {
				out = append(out, app+" (all)")
			}
			for _, e := range x.Entitlements {
				out = append(out, grantKey(app, e))
			}
		}
	}
	if len(rule.Excludes) > 0 {
		return out, "exclude"
	}
	return out, "grant"
}

func (b *Block) trace(clause string, s *subject) []CondTrace {
	var out []CondTrace
	for i := range b.Conds {
		c := &b.Conds[i]
		t := CondTrace{Clause: clause, Line: c.Line, Condition: c.describe(), Person: c.observe(s), Matched: c.match(s)}
		out = append(out, t)
		if c.Kind == CondAny {
			for j, alt := range c.Any {
				out = append(out, alt.trace(fmt.Sprintf("%s.any[%d]", clause, j), s)...)
			}
		}
	}
	return out
}

func (c *Cond) describe() string {
	vals := strings.Join(c.Values, ", ")
	switch c.Kind {
	case CondStatus:
		if c.Implicit {
			return "status is active (the default for rules that name no status)"
		}
		return "status is one of " + vals
	case CondOrgUnit:
		return "org unit is " + vals + " or below"
	case CondOrgUnitExact:
		return "org unit is exactly " + vals
	case CondManager:
		return "direct manager is " + vals
	case CondReportsTo:
		return "reports, directly or not, to " + vals
	case CondIsManager:
		if c.Bool {
			return "has direct reports"
		}
		return "has no direct reports"
	case CondGroup:
		return "member of group " + vals
	case CondAttribute:
		return "attribute " + c.AttrKey + " is " + vals
	case CondAny:
		return "any of " + strconv.Itoa(len(c.Any)) + " alternatives below"
	case CondCEL:
		return "CEL " + strings.Join(strings.Fields(c.Values[0]), " ") // one line, for tables
	}
	return strings.ReplaceAll(string(c.Kind), "_", " ") + " is one of " + vals
}

// observe reports the person's value the condition looked at, including the org unit or
// manager that made it hold.
func (c *Cond) observe(s *subject) string {
	p := &s.p
	orEmpty := func(v string) string {
		if v == "" {
			return "(none)"
		}
		return v
	}
	switch c.Kind {
	case CondEmploymentType:
		return string(p.EmploymentType)
	case CondStatus:
		return string(p.Status)
	case CondOrgUnit:
		own := "(no org unit)"
		if len(s.chain) > 0 {
			own = s.chain[len(s.chain)-1].Path
		}
		if m := c.orgMatch(s.chain); m != "" && m != own {
			return own + ", which is below " + m
		}
		return own
	case CondOrgUnitExact:
		if len(s.chain) == 0 {
			return "(no org unit)"
		}
		return s.chain[len(s.chain)-1].Path
	case CondJobTitle:
		return orEmpty(p.JobTitle)
	case CondJobCode:
		return orEmpty(p.JobCode)
	case CondLocation:
		return orEmpty(p.Location)
	case CondCountry:
		return orEmpty(p.Country)
	case CondManager:
		m, ok := s.view.Person(p.ManagerID)
		if !ok {
			return "(no manager)"
		}
		return personName(m)
	case CondReportsTo:
		chain := managerChain(s)
		if len(chain) == 0 {
			return "(no manager)"
		}
		out := "manager chain " + strings.Join(chain, " > ")
		if m, ok := c.chainMatch(s); ok {
			out += ", including " + personName(m)
		}
		return out
	case CondIsManager:
		return strconv.Itoa(s.view.DirectReports(p.ID)) + " direct reports"
	case CondGroup:
		var names []string
		for _, g := range s.view.Groups(p.ID) {
			names = append(names, g.Source+"/"+g.Name)
		}
		if names == nil {
			return "(no groups)"
		}
		return "groups " + strings.Join(names, ", ")
	case CondAttribute:
		v, ok := p.Attributes[c.AttrKey]
		if !ok {
			return "(attribute " + c.AttrKey + " not set)"
		}
		return c.AttrKey + "=" + v
	case CondAny:
		for i, b := range c.Any {
			if b.match(s) {
				return "alternative " + strconv.Itoa(i) + " holds"
			}
		}
		return "no alternative holds"
	case CondCEL:
		return c.cel.observe(s)
	}
	return ""
}

func personName(m PersonRef) string {
	if m.Username != "" && !strings.EqualFold(m.Username, m.EmployeeID) {
		return m.EmployeeID + " (" + m.Username + ")"
	}
	return m.EmployeeID
}

func managerChain(s *subject) []string {
	var out []string
	id := s.p.ManagerID
	for depth := 0; id != "" && depth < maxChain; depth++ {
		m, ok := s.view.Person(id)
		if !ok {
			break
		}
		out = append(out, personName(m))
		id = m.ManagerID
	}
	return out
}
