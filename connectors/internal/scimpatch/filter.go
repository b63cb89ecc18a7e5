package scimpatch

import (
	"encoding/json"
	"strings"

	filter "github.com/scim2/filter-parser/v2"
)

// caseExact names the attributes compared exactly; RFC 7643 makes the rest case-insensitive.
var caseExact = map[string]bool{"id": true, "externalid": true, "value": true}

// Matches evaluates a SCIM filter over one resource, or over one element of a multi-valued
// attribute (the filter inside emails[type eq "work"]). Attribute names are case-insensitive;
// string comparisons are too, except on id, externalId and value.
func Matches(e filter.Expression, res map[string]any) bool {
	switch x := e.(type) {
	case *filter.LogicalExpression:
		if x.Operator == filter.AND {
			return Matches(x.Left, res) && Matches(x.Right, res)
		}
		return Matches(x.Left, res) || Matches(x.Right, res)
	case *filter.NotExpression:
		return !Matches(x.Expression, res)
	case *filter.ValuePath:
		for _, v := range lookup(res, x.AttributePath) {
			if em, ok := v.(map[string]any); ok && Matches(x.ValueFilter, em) {
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

// Equalities collects the `attr eq value` pairs of a filter joined by and: the element a value
// path such as emails[type eq "work"].value describes. It reports false for any other filter.
func Equalities(e filter.Expression, into map[string]any) bool {
	switch x := e.(type) {
	case *filter.AttributeExpression:
		if x.Operator != filter.EQ || x.AttributePath.SubAttribute != nil {
			return false
		}
		into[x.AttributePath.AttributeName] = x.CompareValue
		return true
	case *filter.LogicalExpression:
		return x.Operator == filter.AND && Equalities(x.Left, into) && Equalities(x.Right, into)
	}
	return false
}

// lookup returns the values at an attribute path, flattening multi-valued attributes.
func lookup(res map[string]any, ap filter.AttributePath) []any {
	container := res
	if uri := ap.URI(); uri != "" {
		if c, ok := GetFold(res, uri).(map[string]any); ok {
			container = c
		} else if !strings.Contains(uri, ":core:") {
			return nil
		}
	}
	v := GetFold(container, ap.AttributeName)
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
			if sv := GetFold(em, sub); sv != nil {
				out = append(out, sv)
			}
		}
	}
	return out
}

// GetFold returns m's value under key, matched case-insensitively as SCIM attribute names are.
func GetFold(m map[string]any, key string) any {
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

// KeyOf returns the key of m matching name case-insensitively, or name itself when m has none.
func KeyOf(m map[string]any, name string) string {
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
