package scimtarget

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/elimity-com/scim"
	scimerr "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/schema"
	"github.com/scim2/filter-parser/v2"
)

// applyOp applies one validated PATCH operation (RFC 7644 §3.5.2) to attrs.
func (s *store) applyOp(attrs map[string]any, op scim.PatchOperation) error {
	if op.Path != nil {
		return s.applyPath(attrs, op.Op, *op.Path, op.Value)
	}
	values, ok := op.Value.(map[string]any)
	if !ok {
		return scimerr.ScimErrorInvalidSyntax
	}
	for key, v := range values {
		if ext, ok := s.extension(key); ok {
			sub, _ := v.(map[string]any)
			for k, sv := range sub {
				p, err := filter.ParsePath([]byte(ext.ID + ":" + k))
				if err != nil {
					return scimerr.ScimErrorInvalidPath
				}
				if err := s.applyPath(attrs, op.Op, p, sv); err != nil {
					return err
				}
			}
			continue
		}
		p, err := filter.ParsePath([]byte(key))
		if err != nil {
			return scimerr.ScimErrorInvalidPath
		}
		if err := s.applyPath(attrs, op.Op, p, v); err != nil {
			return err
		}
	}
	return nil
}

func (s *store) extension(uri string) (schema.Schema, bool) {
	for _, e := range s.ext {
		if strings.EqualFold(e.ID, uri) {
			return e, true
		}
	}
	return schema.Schema{}, false
}

// attribute resolves a path's attribute: its schema definition and the map holding it.
func (s *store) attribute(attrs map[string]any, ap filter.AttributePath, create bool) (schema.CoreAttribute, map[string]any, error) {
	sch, container := s.schema, attrs
	if uri := ap.URI(); uri != "" && !strings.EqualFold(uri, s.schema.ID) {
		ext, ok := s.extension(uri)
		if !ok {
			return schema.CoreAttribute{}, nil, scimerr.ScimErrorInvalidPath
		}
		sch = ext
		c, _ := attrs[ext.ID].(map[string]any)
		if c == nil {
			c = map[string]any{}
			if create {
				attrs[ext.ID] = c
			}
		}
		container = c
	}
	for _, a := range sch.Attributes {
		if strings.EqualFold(a.Name(), ap.AttributeName) {
			return a, container, nil
		}
	}
	if strings.EqualFold(ap.AttributeName, "externalId") {
		return schema.SimpleCoreAttribute(schema.SimpleStringParams(schema.StringParams{Name: "externalId", CaseExact: true})), container, nil
	}
	return schema.CoreAttribute{}, nil, scimerr.ScimErrorNoTarget
}

func subName(a schema.CoreAttribute, name string) string {
	for _, sa := range a.SubAttributes() {
		if strings.EqualFold(sa.Name(), name) {
			return sa.Name()
		}
	}
	return name
}

func (s *store) applyPath(attrs map[string]any, op string, p filter.Path, value any) error {
	attr, container, err := s.attribute(attrs, p.AttributePath, op != scim.PatchOperationRemove)
	if err != nil {
		return err
	}
	name := attr.Name()
	if p.ValueExpression != nil {
		return applyFiltered(container, name, attr, op, p, value)
	}
	if sub := p.AttributePath.SubAttributeName(); sub != "" {
		sub = subName(attr, sub)
		if attr.MultiValued() {
			list, _ := container[name].([]any)
			for _, e := range list {
				if em, ok := e.(map[string]any); ok {
					setOrDelete(em, sub, op, value)
				}
			}
			return nil
		}
		m, _ := container[name].(map[string]any)
		if m == nil {
			if op == scim.PatchOperationRemove {
				return nil
			}
			m = map[string]any{}
			container[name] = m
		}
		setOrDelete(m, sub, op, value)
		return nil
	}
	switch {
	case op == scim.PatchOperationRemove:
		delete(container, name)
	case attr.MultiValued():
		add, _ := value.([]any)
		if op == scim.PatchOperationReplace {
			container[name] = add
			return nil
		}
		list, _ := container[name].([]any)
		for _, v := range add {
			if !containsValue(list, v) {
				list = append(list, v)
			}
		}
		container[name] = list
	case attr.AttributeType() == "complex":
		// A complex value sets the sub-attributes it names and leaves the others (§3.5.2.1, §3.5.2.3).
		m, _ := container[name].(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		nv, _ := value.(map[string]any)
		for k, v := range nv {
			m[k] = v
		}
		container[name] = m
	default:
		container[name] = value
	}
	return nil
}

func setOrDelete(m map[string]any, key, op string, value any) {
	if op == scim.PatchOperationRemove {
		delete(m, key)
		return
	}
	m[key] = value
}

// containsValue reports whether list holds v, comparing complex values by their "value".
func containsValue(list []any, v any) bool {
	vm, isMap := v.(map[string]any)
	for _, e := range list {
		if em, ok := e.(map[string]any); ok && isMap {
			if vm["value"] != nil && fmt.Sprint(em["value"]) == fmt.Sprint(vm["value"]) {
				return true
			}
			continue
		}
		if fmt.Sprint(e) == fmt.Sprint(v) {
			return true
		}
	}
	return false
}

// applyFiltered handles paths such as members[value eq "id"] and emails[type eq "work"].value.
func applyFiltered(container map[string]any, name string, attr schema.CoreAttribute, op string, p filter.Path, value any) error {
	if !attr.MultiValued() {
		return scimerr.ScimErrorInvalidPath
	}
	list, _ := container[name].([]any)
	sub := ""
	if p.SubAttribute != nil {
		sub = subName(attr, *p.SubAttribute)
	}
	var kept []any
	hit := false
	for _, e := range list {
		em, ok := e.(map[string]any)
		if !ok || !matches(p.ValueExpression, em) {
			kept = append(kept, e)
			continue
		}
		hit = true
		switch {
		case op == scim.PatchOperationRemove && sub == "":
			continue // the element goes
		case sub != "":
			setOrDelete(em, sub, op, value)
		default:
			nv, _ := value.(map[string]any)
			for k, v := range nv {
				em[k] = v
			}
		}
		kept = append(kept, em)
	}
	if !hit && op != scim.PatchOperationRemove {
		// Clients set emails[type eq "work"].value on users without one: the filter's equalities
		// describe the element to create.
		em := map[string]any{}
		if !equalities(p.ValueExpression, em) {
			return scimerr.ScimErrorNoTarget
		}
		if sub != "" {
			em[sub] = value
		} else if nv, ok := value.(map[string]any); ok {
			for k, v := range nv {
				em[k] = v
			}
		}
		kept = append(kept, em)
	}
	if kept == nil {
		kept = []any{}
	}
	container[name] = kept
	return nil
}

// equalities collects attr eq value pairs joined by and; false for any other filter.
func equalities(e filter.Expression, into map[string]any) bool {
	switch x := e.(type) {
	case *filter.AttributeExpression:
		if x.Operator != filter.EQ || x.AttributePath.SubAttribute != nil {
			return false
		}
		into[x.AttributePath.AttributeName] = x.CompareValue
		return true
	case *filter.LogicalExpression:
		return x.Operator == filter.AND && equalities(x.Left, into) && equalities(x.Right, into)
	}
	return false
}

// caseExact names the attributes compared exactly; RFC 7643 makes the rest case-insensitive.
var caseExact = map[string]bool{"id": true, "externalid": true, "value": true}

// matches evaluates a filter over one resource (or one element of a multi-valued attribute).
func matches(e filter.Expression, res map[string]any) bool {
	switch x := e.(type) {
	case *filter.LogicalExpression:
		if x.Operator == filter.AND {
			return matches(x.Left, res) && matches(x.Right, res)
		}
		return matches(x.Left, res) || matches(x.Right, res)
	case *filter.NotExpression:
		return !matches(x.Expression, res)
	case *filter.ValuePath:
		for _, v := range lookup(res, x.AttributePath) {
			if em, ok := v.(map[string]any); ok && matches(x.ValueFilter, em) {
				return true
			}
		}
		return false
	case *filter.AttributeExpression:
		vals := lookup(res, x.AttributePath)
		if x.Operator == filter.PR {
			return len(vals) > 0
		}
		exact := caseExact[strings.ToLower(x.AttributePath.AttributeName)] && x.AttributePath.SubAttribute == nil
		for _, v := range vals {
			if compare(x.Operator, v, x.CompareValue, exact) {
				return true
			}
		}
		return x.Operator == filter.NE && len(vals) == 0
	}
	return false
}

// lookup returns the values at an attribute path, flattening multi-valued attributes.
func lookup(res map[string]any, ap filter.AttributePath) []any {
	container := res
	if uri := ap.URI(); uri != "" {
		if c, ok := getFold(res, uri).(map[string]any); ok {
			container = c
		} else if !strings.Contains(uri, ":core:") {
			return nil
		}
	}
	v := getFold(container, ap.AttributeName)
	if v == nil {
		return nil
	}
	var vals []any
	if l, ok := v.([]any); ok {
		vals = l
	} else {
		vals = []any{v}
	}
	sub := ap.SubAttributeName()
	if sub == "" {
		return vals
	}
	var out []any
	for _, e := range vals {
		if em, ok := e.(map[string]any); ok {
			if sv := getFold(em, sub); sv != nil {
				out = append(out, sv)
			}
		}
	}
	return out
}

func getFold(m map[string]any, key string) any {
	if v, ok := m[key]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

func compare(op filter.CompareOperator, v, ref any, exact bool) bool {
	switch rv := ref.(type) {
	case string:
		sv, ok := v.(string)
		if !ok {
			return false
		}
		if !exact {
			sv, rv = strings.ToLower(sv), strings.ToLower(rv)
		}
		switch op {
		case filter.EQ:
			return sv == rv
		case filter.NE:
			return sv != rv
		case filter.CO:
			return strings.Contains(sv, rv)
		case filter.SW:
			return strings.HasPrefix(sv, rv)
		case filter.EW:
			return strings.HasSuffix(sv, rv)
		case filter.GT:
			return sv > rv
		case filter.GE:
			return sv >= rv
		case filter.LT:
			return sv < rv
		case filter.LE:
			return sv <= rv
		}
	case bool:
		bv, ok := v.(bool)
		return ok && (op == filter.EQ) == (bv == rv)
	case nil:
		return op == filter.NE
	default:
		a, ok1 := number(v)
		b, ok2 := number(ref)
		if !ok1 || !ok2 {
			return false
		}
		switch op {
		case filter.EQ:
			return a == b
		case filter.NE:
			return a != b
		case filter.GT:
			return a > b
		case filter.GE:
			return a >= b
		case filter.LT:
			return a < b
		case filter.LE:
			return a <= b
		}
	}
	return false
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}
