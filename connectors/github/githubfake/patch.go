package githubfake

import (
	"fmt"
	"slices"
	"strings"

	filter "github.com/scim2/filter-parser/v2"
)

// patchOp is one SCIM PATCH operation as sent on the wire.
type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

// applyPatch applies ops to doc, the resource in its JSON form, so that the result can be
// validated by the same rules as a full replacement: a PATCH can never produce a resource a PUT
// would have refused.
func applyPatch(doc map[string]any, ops []patchOp) error {
	for i, op := range ops {
		kind := strings.ToLower(op.Op)
		if !slices.Contains([]string{"add", "replace", "remove"}, kind) {
			return fmt.Errorf("Operations[%d].op: %q is not add, replace or remove", i, op.Op)
		}
		if op.Path == "" {
			if kind == "remove" {
				return fmt.Errorf("Operations[%d]: remove needs a path", i)
			}
			obj, ok := op.Value.(map[string]any)
			if !ok {
				return fmt.Errorf("Operations[%d].value: a path-less %s needs an object", i, kind)
			}
			for k, v := range obj {
				if sub, ok := v.(map[string]any); ok && strings.HasPrefix(strings.ToLower(k), "urn:") {
					ext := asMap(doc, k, true)
					for sk, sv := range sub {
						ext[keyOf(ext, sk)] = sv
					}
					continue
				}
				if err := applyPath(doc, kind, k, v); err != nil {
					return fmt.Errorf("Operations[%d]: %w", i, err)
				}
			}
			continue
		}
		if err := applyPath(doc, kind, op.Path, op.Value); err != nil {
			return fmt.Errorf("Operations[%d]: %w", i, err)
		}
	}
	return nil
}

func applyPath(doc map[string]any, kind, rawPath string, value any) error {
	p, err := filter.ParsePath([]byte(rawPath))
	if err != nil {
		return fmt.Errorf("path %q: %w", rawPath, err)
	}
	attr := p.AttributePath.AttributeName
	sub := p.AttributePath.SubAttributeName()
	if p.AttributePath.URIPrefix != nil && p.ValueExpression == nil && sub == "" {
		// An extension URN with a dotted attribute ("urn:...:User:manager.managerId") comes
		// back as the URN prefix plus the first name.
		ext := asMap(doc, *p.AttributePath.URIPrefix, kind != "remove")
		if ext == nil {
			return nil
		}
		return setField(ext, kind, attr, value)
	}
	if p.AttributePath.URIPrefix != nil {
		doc = asMap(doc, *p.AttributePath.URIPrefix, kind != "remove")
		if doc == nil {
			return nil
		}
	}
	if p.ValueExpression != nil {
		return applyFiltered(doc, kind, attr, p.ValueExpression, p.SubAttributeName(), value)
	}
	if sub != "" {
		m := asMap(doc, attr, kind != "remove")
		if m == nil {
			return nil
		}
		return setField(m, kind, sub, value)
	}
	return setField(doc, kind, attr, value)
}

// setField applies one operation to a plain attribute. Adding to a multi-valued attribute
// appends the values not yet present; replacing sets it; removing drops it, or only the given
// values when the client (as Entra ID does) names them.
func setField(m map[string]any, kind, name string, value any) error {
	k := keyOf(m, name)
	if obj, ok := value.(map[string]any); ok && kind != "remove" {
		if cur, ok := m[k].(map[string]any); ok {
			for sk, sv := range obj {
				cur[keyOf(cur, sk)] = sv
			}
			return nil
		}
	}
	switch kind {
	case "remove":
		cur, isList := m[k].([]any)
		vals, hasVals := value.([]any)
		if isList && hasVals {
			m[k] = slices.DeleteFunc(cur, func(e any) bool {
				return slices.ContainsFunc(vals, func(v any) bool { return sameValue(e, v) })
			})
			return nil
		}
		delete(m, k)
	case "add":
		if cur, ok := m[k].([]any); ok {
			vals, ok := value.([]any)
			if !ok {
				vals = []any{value}
			}
			for _, v := range vals {
				if !slices.ContainsFunc(cur, func(e any) bool { return sameValue(e, v) }) {
					cur = append(cur, v)
				}
			}
			m[k] = cur
			return nil
		}
		m[k] = value
	default:
		m[k] = value
	}
	return nil
}

// applyFiltered handles value paths such as emails[type eq "work"].value and
// members[value eq "id"].
func applyFiltered(doc map[string]any, kind, attr string, expr filter.Expression, sub string, value any) error {
	ae, ok := expr.(*filter.AttributeExpression)
	if !ok || ae.Operator != filter.EQ {
		return fmt.Errorf("only `attribute eq value` filters are supported in paths")
	}
	k := keyOf(doc, attr)
	list, _ := doc[k].([]any)
	match := func(e any) bool {
		m, ok := e.(map[string]any)
		if !ok {
			return false
		}
		return fmt.Sprint(m[keyOf(m, ae.AttributePath.AttributeName)]) == fmt.Sprint(ae.CompareValue)
	}
	found := false
	var out []any
	for _, e := range list {
		if !match(e) {
			out = append(out, e)
			continue
		}
		found = true
		if kind == "remove" && sub == "" {
			continue
		}
		m := e.(map[string]any)
		switch {
		case kind == "remove":
			delete(m, keyOf(m, sub))
		case sub != "":
			m[keyOf(m, sub)] = value
		default:
			if obj, ok := value.(map[string]any); ok {
				for vk, vv := range obj {
					m[keyOf(m, vk)] = vv
				}
			}
		}
		out = append(out, m)
	}
	if !found && kind != "remove" {
		// Setting a value on an element that does not exist yet creates it, as Entra ID
		// expects for emails[type eq "work"].value.
		m := map[string]any{ae.AttributePath.AttributeName: ae.CompareValue}
		if sub != "" {
			m[sub] = value
		} else if obj, ok := value.(map[string]any); ok {
			for vk, vv := range obj {
				m[vk] = vv
			}
		}
		out = append(out, m)
	}
	doc[k] = out
	return nil
}

func sameValue(a, b any) bool {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		return fmt.Sprint(am[keyOf(am, "value")]) == fmt.Sprint(bm[keyOf(bm, "value")])
	}
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// keyOf returns the key of m matching name case-insensitively (SCIM attribute names are), or
// name itself.
func keyOf(m map[string]any, name string) string {
	if _, ok := m[name]; ok {
		return name
	}
	for k := range m {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return name
}

func asMap(doc map[string]any, name string, create bool) map[string]any {
	k := keyOf(doc, name)
	if m, ok := doc[k].(map[string]any); ok {
		return m
	}
	if !create {
		return nil
	}
	m := map[string]any{}
	doc[k] = m
	return m
}
