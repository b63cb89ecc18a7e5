package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tenure-id/tenure/pkg/identity"
)

// keys are the keys each kind of mapping in a policy file allows; schemas/policy.schema.json
// must list the same ones (a test holds them together).
var keys = map[string][]string{
	"file":            {"org_units", "apps", "rules", "conflicts", "tests"},
	"app":             {"name", "connector", "description", "entitlements", "roles"},
	"app.entitlement": {"entitlement", "description"},
	"rule":            {"name", "description", "when", "unless", "grant", "exclude"},
	"grant":           {"app", "entitlements", "role", "attributes"},
	"exclude":         {"app", "entitlements"},
	"conflict":        {"name", "description", "entitlements"},
	"conditions": {string(CondEmploymentType), string(CondStatus), string(CondOrgUnit), string(CondOrgUnitExact),
		string(CondJobTitle), string(CondJobCode), string(CondLocation), string(CondCountry), string(CondManager),
		string(CondReportsTo), string(CondIsManager), string(CondGroup), string(CondAttribute), string(CondAny), string(CondCEL)},
	"test":           {"name", "person", "now", "exceptions", "expect"},
	"test.exception": {"app", "entitlement", "approver", "reason", "expires"},
	"test.expect":    {"grants", "blocked", "roles"},
	"test.person": {"employee_id", "username", "work_email", "employment_type", "status", "job_title",
		"job_code", "location", "country", "cost_center", "org_unit", "managers", "direct_reports", "groups", "attributes", "start_date", "end_date"},
}

// LoadDir reads every *.yaml and *.yml file directly in dir (sorted by name, which also fixes
// the order rules apply in) and validates the whole set. The error, if any, is Errors.
func LoadDir(dir string) (*Set, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("policy directory: %w", err)
	}
	files := map[string][]byte{}
	var names []string
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("policy file: %w", err)
		}
		files[path] = data
		names = append(names, path)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("policy directory %s: no *.yaml files", dir)
	}
	set, err := Parse(files, names)
	if set != nil {
		set.Dir = dir
	}
	return set, err
}

// Parse loads policy files given as name → content, in the order of names.
func Parse(files map[string][]byte, names []string) (*Set, error) {
	if names == nil {
		for n := range files {
			names = append(names, n)
		}
		sort.Strings(names)
	}
	c := &errs{}
	set := &Set{apps: map[string]*App{}, orgUnits: map[string]string{}}
	for _, name := range names {
		parseFile(set, name, files[name], c)
	}
	validate(set, c)
	if len(c.list) > 0 {
		return nil, c.list.sorted()
	}
	return set, nil
}

func parseFile(set *Set, file string, data []byte, c *errs) {
	w := &walker{file: file, errs: c}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for doc := 0; ; doc++ {
		var root yaml.Node
		err := dec.Decode(&root)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			c.add(Pos{File: file, Line: yamlErrorLine(err)}, "", "not valid YAML: %v", err)
			return
		}
		if len(root.Content) == 0 || root.Content[0].Tag == "!!null" {
			continue
		}
		top := w.object(root.Content[0], "", keys["file"]...)
		if n := top["org_units"]; n != nil {
			for i, item := range w.seq(n, "org_units") {
				if p := w.str(item, index("org_units", i)); p != "" {
					set.OrgUnits = append(set.OrgUnits, OrgUnitDecl{Path: strings.Trim(p, "/"), Pos: w.pos(item)})
				}
			}
		}
		if n := top["apps"]; n != nil {
			for i, item := range w.seq(n, "apps") {
				set.Apps = append(set.Apps, w.app(item, index("apps", i)))
			}
		}
		if n := top["rules"]; n != nil {
			for i, item := range w.seq(n, "rules") {
				set.Rules = append(set.Rules, w.rule(item, index("rules", i)))
			}
		}
		if n := top["conflicts"]; n != nil {
			for i, item := range w.seq(n, "conflicts") {
				set.Conflicts = append(set.Conflicts, w.conflict(item, index("conflicts", i)))
			}
		}
		if n := top["tests"]; n != nil {
			for i, item := range w.seq(n, "tests") {
				set.Tests = append(set.Tests, w.testCase(item, index("tests", i)))
			}
		}
	}
}

// yamlErrorLine digs the line out of a yaml.v3 syntax error ("yaml: line 7: ...").
func yamlErrorLine(err error) int {
	var line int
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		fmt.Sscanf(msg[i:], "line %d", &line)
	}
	return line
}

func (w *walker) app(n *yaml.Node, field string) *App {
	a := &App{Pos: w.pos(n), ents: map[string]bool{}}
	f := w.object(n, field, keys["app"]...)
	if f == nil {
		return a
	}
	for _, req := range []string{"name", "connector"} {
		if f[req] == nil {
			w.fail(n, join(field, req), "required")
		}
	}
	if v := f["name"]; v != nil {
		a.Name = w.str(v, join(field, "name"))
	}
	if v := f["connector"]; v != nil {
		a.Connector = w.str(v, join(field, "connector"))
	}
	if v := f["description"]; v != nil {
		a.Description = w.str(v, join(field, "description"))
	}
	if v := f["entitlements"]; v != nil {
		for i, item := range w.seq(v, join(field, "entitlements")) {
			ef := index(join(field, "entitlements"), i)
			var key, desc string
			if item.Kind == yaml.MappingNode {
				m := w.object(item, ef, keys["app.entitlement"]...)
				if m["entitlement"] == nil {
					w.fail(item, join(ef, "entitlement"), "required")
					continue
				}
				key = w.str(m["entitlement"], join(ef, "entitlement"))
				if m["description"] != nil {
					desc = w.str(m["description"], join(ef, "description"))
				}
			} else {
				key = w.str(item, ef)
			}
			e, err := identity.ParseEntitlement(key)
			if err != nil {
				w.fail(item, ef, "%q: want kind:name with kind one of %s", key, strings.Join(identity.EntitlementKinds, "|"))
				continue
			}
			if a.ents[e.Key()] {
				w.fail(item, ef, "%q is listed twice", key)
				continue
			}
			e.Description = desc
			a.ents[e.Key()] = true
			a.Entitlements = append(a.Entitlements, e)
		}
	}
	if v := f["roles"]; v != nil {
		a.Roles = w.strs(v, join(field, "roles"))
	}
	return a
}

func (w *walker) rule(n *yaml.Node, field string) *Rule {
	r := &Rule{Pos: w.pos(n)}
	f := w.object(n, field, keys["rule"]...)
	if f == nil {
		return r
	}
	if f["name"] == nil {
		w.fail(n, join(field, "name"), "required")
	} else {
		r.Name = w.str(f["name"], join(field, "name"))
	}
	if v := f["description"]; v != nil {
		r.Description = w.str(v, join(field, "description"))
	}
	if v := f["when"]; v != nil {
		r.When = w.block(v, join(field, "when"))
	}
	if v := f["unless"]; v != nil {
		r.Unless = w.block(v, join(field, "unless"))
	}
	switch {
	case f["grant"] != nil && f["exclude"] != nil:
		w.fail(f["exclude"], join(field, "exclude"), "a rule either grants or excludes, not both: split it in two")
	case f["grant"] == nil && f["exclude"] == nil:
		w.fail(n, field, "a rule needs grant or exclude")
	}
	if v := f["grant"]; v != nil {
		for i, item := range w.seq(v, join(field, "grant")) {
			r.Grants = append(r.Grants, w.grantSpec(item, index(join(field, "grant"), i)))
		}
	}
	if v := f["exclude"]; v != nil {
		for i, item := range w.seq(v, join(field, "exclude")) {
			gf := index(join(field, "exclude"), i)
			m := w.object(item, gf, keys["exclude"]...)
			x := ExcludeSpec{Pos: w.pos(item)}
			if m["app"] == nil {
				w.fail(item, join(gf, "app"), "required")
			} else {
				x.App = w.str(m["app"], join(gf, "app"))
			}
			if m["entitlements"] != nil {
				x.Entitlements, x.entPos = w.strsAt(m["entitlements"], join(gf, "entitlements"))
			}
			r.Excludes = append(r.Excludes, x)
		}
	}
	return r
}

func (w *walker) grantSpec(n *yaml.Node, field string) GrantSpec {
	g := GrantSpec{Pos: w.pos(n)}
	m := w.object(n, field, keys["grant"]...)
	if m == nil {
		return g
	}
	if m["app"] == nil {
		w.fail(n, join(field, "app"), "required")
	} else {
		g.App = w.str(m["app"], join(field, "app"))
	}
	if v := m["entitlements"]; v != nil {
		g.Entitlements, g.entPos = w.strsAt(v, join(field, "entitlements"))
	}
	if v := m["role"]; v != nil {
		g.Role = w.str(v, join(field, "role"))
	}
	if v := m["attributes"]; v != nil {
		keys, vals := w.pairs(v, join(field, "attributes"))
		for i, k := range keys {
			af := join(join(field, "attributes"), k.Value)
			t := AttrTemplate{Name: k.Value, Template: w.str(vals[i], af)}
			parts, err := parseTemplate(t.Template)
			if err != nil {
				w.fail(vals[i], af, "%v", err)
			}
			t.parts = parts
			g.Attributes = append(g.Attributes, t)
		}
	}
	return g
}

func (w *walker) conflict(n *yaml.Node, field string) *Conflict {
	c := &Conflict{Pos: w.pos(n)}
	m := w.object(n, field, keys["conflict"]...)
	if m == nil {
		return c
	}
	if m["name"] == nil {
		w.fail(n, join(field, "name"), "required")
	} else {
		c.Name = w.str(m["name"], join(field, "name"))
	}
	if v := m["description"]; v != nil {
		c.Description = w.str(v, join(field, "description"))
	}
	if m["entitlements"] == nil {
		w.fail(n, join(field, "entitlements"), "required: two or more APP or APP:KIND:NAME")
	} else {
		c.Members, c.memberPos = w.strsAt(m["entitlements"], join(field, "entitlements"))
		if len(c.Members) < 2 {
			w.fail(m["entitlements"], join(field, "entitlements"), "a conflict needs at least two members")
		}
	}
	return c
}
