package policy

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// walker reads a yaml.Node tree by hand rather than through struct tags: every value keeps
// its line, unknown keys are errors at the line they appear, and one bad field does not stop
// the rest of the file from being checked.
type walker struct {
	file string
	errs *errs
}

func (w *walker) pos(n *yaml.Node) Pos { return Pos{File: w.file, Line: n.Line} }

func (w *walker) fail(n *yaml.Node, field, format string, args ...any) {
	w.errs.add(w.pos(n), field, format, args...)
}

// object checks n is a mapping with only the allowed keys and returns the values by key.
func (w *walker) object(n *yaml.Node, field string, allowed ...string) map[string]*yaml.Node {
	if n.Kind != yaml.MappingNode {
		w.fail(n, field, "expected a mapping with keys %s, got %s", strings.Join(allowed, ", "), kindName(n))
		return nil
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := join(field, k.Value)
		if !contains(allowed, k.Value) {
			w.fail(k, name, "unknown key (expected one of %s)", strings.Join(allowed, ", "))
			continue
		}
		if _, dup := out[k.Value]; dup {
			w.fail(k, name, "key given twice")
			continue
		}
		out[k.Value] = v
	}
	return out
}

// pairs returns a mapping's keys and values in order, for maps with free-form keys.
func (w *walker) pairs(n *yaml.Node, field string) (keys []*yaml.Node, vals []*yaml.Node) {
	if n.Kind != yaml.MappingNode {
		w.fail(n, field, "expected a mapping, got %s", kindName(n))
		return nil, nil
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if seen[n.Content[i].Value] {
			w.fail(n.Content[i], join(field, n.Content[i].Value), "key given twice")
			continue
		}
		seen[n.Content[i].Value] = true
		keys, vals = append(keys, n.Content[i]), append(vals, n.Content[i+1])
	}
	return keys, vals
}

func (w *walker) seq(n *yaml.Node, field string) []*yaml.Node {
	if n.Kind != yaml.SequenceNode {
		w.fail(n, field, "expected a list, got %s", kindName(n))
		return nil
	}
	return n.Content
}

func (w *walker) str(n *yaml.Node, field string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		w.fail(n, field, "expected a string, got %s", kindName(n))
		return ""
	}
	if strings.TrimSpace(n.Value) == "" {
		w.fail(n, field, "must not be empty")
	}
	return strings.TrimSpace(n.Value)
}

// strs accepts one string or a list of them, as policy authors write both.
func (w *walker) strs(n *yaml.Node, field string) []string {
	out, _ := w.strsAt(n, field)
	return out
}

// strsAt is strs with the position of each value, so later checks can point at the value.
func (w *walker) strsAt(n *yaml.Node, field string) ([]string, []Pos) {
	if n.Kind == yaml.ScalarNode {
		if s := w.str(n, field); s != "" {
			return []string{s}, []Pos{w.pos(n)}
		}
		return nil, nil
	}
	var out []string
	var at []Pos
	for i, item := range w.seq(n, field) {
		if s := w.str(item, index(field, i)); s != "" {
			out, at = append(out, s), append(at, w.pos(item))
		}
	}
	if n.Kind == yaml.SequenceNode && len(n.Content) == 0 {
		w.fail(n, field, "must not be an empty list")
	}
	return out, at
}

func (w *walker) boolean(n *yaml.Node, field string) bool {
	b, err := strconv.ParseBool(n.Value)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || err != nil {
		w.fail(n, field, "expected true or false, got %q", n.Value)
	}
	return b
}

func (w *walker) integer(n *yaml.Node, field string) int {
	i, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil || i < 0 {
		w.fail(n, field, "expected a whole number >= 0, got %q", n.Value)
	}
	return i
}

// date accepts 2026-11-28 or an RFC 3339 time.
func (w *walker) date(n *yaml.Node, field string) time.Time {
	s := w.str(n, field)
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil && s != "" {
		w.fail(n, field, "%q is not a date (YYYY-MM-DD) or RFC 3339 time", s)
	}
	return t.UTC()
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	if n.Tag == "!!null" {
		return "nothing"
	}
	return fmt.Sprintf("%q", n.Value)
}

func join(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func index(field string, i int) string { return fmt.Sprintf("%s[%d]", field, i) }

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
