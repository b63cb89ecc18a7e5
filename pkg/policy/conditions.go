package policy

import (
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tenure-id/tenure/pkg/identity"
)

// block reads a conjunction of conditions. Keys are checked in file order so errors come out
// in line order.
func (w *walker) block(n *yaml.Node, field string) *Block {
	b := &Block{Pos: w.pos(n)}
	m := w.object(n, field, keys["conditions"]...)
	if m == nil {
		return b
	}
	if len(m) == 0 {
		w.fail(n, field, "no conditions: leave the key out to match everyone")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if m[k.Value] != v {
			continue // unknown or duplicate, already reported
		}
		b.Conds = append(b.Conds, w.cond(CondKind(k.Value), k, v, join(field, k.Value))...)
	}
	return b
}

func (w *walker) cond(kind CondKind, k, v *yaml.Node, field string) []Cond {
	c := Cond{Kind: kind, Pos: w.pos(k)}
	switch kind {
	case CondIsManager:
		c.Bool = w.boolean(v, field)
		return []Cond{c}
	case CondAny:
		for i, item := range w.seq(v, field) {
			c.Any = append(c.Any, w.block(item, index(field, i)))
		}
		if v.Kind == yaml.SequenceNode && len(v.Content) < 2 {
			w.fail(v, field, "any needs two or more alternatives")
		}
		return []Cond{c}
	case CondCEL:
		w.celCondition(&c, v, field)
		return []Cond{c}
	case CondAttribute:
		keys, vals := w.pairs(v, field)
		out := make([]Cond, 0, len(keys))
		for i, key := range keys {
			a := Cond{Kind: kind, AttrKey: key.Value, Pos: w.pos(key)}
			a.Values, a.valPos = w.strsAt(vals[i], join(field, key.Value))
			a.compile()
			out = append(out, a)
		}
		return out
	}
	c.Values, c.valPos = w.strsAt(v, field)
	for i, val := range c.Values {
		vf := field
		if v.Kind == yaml.SequenceNode {
			vf = index(field, i)
		}
		bad := func(format string) { w.errs.add(c.valPos[i], vf, format, val) }
		switch kind {
		case CondEmploymentType:
			if !identity.EmploymentType(val).Valid() {
				bad("%q is not one of employee|contractor|vendor|intern")
			}
		case CondStatus:
			if !identity.Status(val).Valid() {
				bad("%q is not one of pre_hire|active|on_leave|suspended|terminated")
			}
		case CondCountry:
			if len(val) != 2 {
				bad("%q is not an ISO 3166-1 alpha-2 country code")
			}
		case CondOrgUnit, CondOrgUnitExact:
			c.Values[i] = strings.Trim(val, "/")
		}
	}
	c.compile()
	return []Cond{c}
}

func (c *Cond) compile() {
	c.keys = make([]string, len(c.Values))
	c.globs = make([][]string, len(c.Values))
	for i, v := range c.Values {
		c.keys[i] = strings.ToLower(v)
		c.globs[i] = strings.Split(c.keys[i], "*")
	}
}

// subject is what conditions read about one person; it is built once per Resolve.
type subject struct {
	p     identity.Person // a copy, not a pointer: the view is an interface, and a pointer here would make every person escape to the heap
	view  View
	chain []OrgRef // root first, own unit last
	cel   *celVars // built on the first cel condition, then shared by the rest
}

func (b *Block) match(s *subject) bool {
	for i := range b.Conds {
		if !b.Conds[i].match(s) {
			return false
		}
	}
	return true
}

func (c *Cond) match(s *subject) bool {
	p := &s.p
	switch c.Kind {
	case CondEmploymentType:
		return c.anyEqual(string(p.EmploymentType))
	case CondStatus:
		return c.anyEqual(string(p.Status))
	case CondOrgUnit:
		return c.orgMatch(s.chain) != ""
	case CondOrgUnitExact:
		return len(s.chain) > 0 && c.anyKey(s.chain[len(s.chain)-1].key)
	case CondJobTitle:
		return c.anyGlob(p.JobTitle)
	case CondJobCode:
		return c.anyEqual(p.JobCode)
	case CondLocation:
		return c.anyEqual(p.Location)
	case CondCountry:
		return c.anyEqual(p.Country)
	case CondManager:
		m, ok := s.view.Person(p.ManagerID)
		return ok && c.personMatch(m)
	case CondReportsTo:
		_, ok := c.chainMatch(s)
		return ok
	case CondIsManager:
		return (s.view.DirectReports(p.ID) > 0) == c.Bool
	case CondGroup:
		for _, g := range s.view.Groups(p.ID) {
			if c.groupMatch(g) {
				return true
			}
		}
		return false
	case CondAttribute:
		v, ok := p.Attributes[c.AttrKey]
		return ok && c.anyGlob(v)
	case CondAny:
		for _, b := range c.Any {
			if b.match(s) {
				return true
			}
		}
	case CondCEL:
		ok, _ := c.cel.eval(s)
		return ok
	}
	return false
}

func (c *Cond) anyEqual(v string) bool {
	for _, k := range c.keys {
		if strings.EqualFold(k, v) {
			return true
		}
	}
	return false
}

func (c *Cond) anyKey(lower string) bool {
	for _, k := range c.keys {
		if k == lower {
			return true
		}
	}
	return false
}

func (c *Cond) anyGlob(v string) bool {
	for _, g := range c.globs {
		if globFold(g, v) {
			return true
		}
	}
	return false
}

// orgMatch returns the path of the unit in the chain the condition names, or "".
func (c *Cond) orgMatch(chain []OrgRef) string {
	for i := len(chain) - 1; i >= 0; i-- {
		if c.anyKey(chain[i].key) {
			return chain[i].Path
		}
	}
	return ""
}

func (c *Cond) personMatch(m PersonRef) bool {
	return c.anyEqual(m.EmployeeID) || (m.Username != "" && c.anyEqual(m.Username)) ||
		(m.WorkEmail != "" && c.anyEqual(m.WorkEmail))
}

// chainMatch walks the manager chain and returns the first manager the condition names.
func (c *Cond) chainMatch(s *subject) (PersonRef, bool) {
	id := s.p.ManagerID
	for depth := 0; id != "" && depth < maxChain; depth++ {
		m, ok := s.view.Person(id)
		if !ok {
			return PersonRef{}, false
		}
		if c.personMatch(m) {
			return m, true
		}
		id = m.ManagerID
	}
	return PersonRef{}, false
}

// maxChain bounds manager-chain walks, so a cycle in bad data cannot hang a resolve.
const maxChain = 64

// groupMatch accepts a plain group name from any source, or "SOURCE/NAME" for one source
// ("ldap:corp/admins"), as names from different LDAP silos can collide.
func (c *Cond) groupMatch(g GroupRef) bool {
	for _, k := range c.keys {
		if strings.EqualFold(k, g.Name) {
			return true
		}
		if src, name, ok := strings.Cut(k, "/"); ok && strings.EqualFold(src, g.Source) && strings.EqualFold(name, g.Name) {
			return true
		}
	}
	return false
}

// globFold matches s against a lowercase pattern split at '*', ignoring case.
func globFold(parts []string, s string) bool {
	if len(parts) == 1 {
		return strings.EqualFold(parts[0], s)
	}
	first, last := parts[0], parts[len(parts)-1]
	if len(s) < len(first)+len(last) || !strings.EqualFold(s[:len(first)], first) ||
		!strings.EqualFold(s[len(s)-len(last):], last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, mid := range parts[1 : len(parts)-1] {
		i := indexFold(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return true
}

func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}
