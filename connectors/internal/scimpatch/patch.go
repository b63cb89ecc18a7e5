// Package scimpatch applies SCIM PATCH requests (RFC 7644 §3.5.2) to resources held as decoded
// JSON, for the fakes of SCIM apps. It takes what clients in the wild send: capitalised
// operations ("Replace", as Entra ID sends), string booleans ("False"), path-less values with
// plain, dotted or URN keys, value paths with filters (emails[type eq "work"].value,
// members[value eq "id"]), and member lists added or removed by value. It knows no schema: a
// fake applies the operations to a copy of the resource and then validates the result by the
// same rules as a full replacement, so a PATCH never produces what a PUT would refuse.
//
// Errors are *Error values carrying the scimType of RFC 7644 §3.12; each fake renders them in
// its app's own error form.
package scimpatch

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	filter "github.com/scim2/filter-parser/v2"
)

// Op is one PATCH operation as sent on the wire.
type Op struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

// Error is a PATCH request the resource cannot take.
type Error struct {
	// Index is the refused operation's position in Operations; -1 for the request as a whole.
	Index int
	// ScimType is invalidSyntax, invalidValue, invalidPath or invalidFilter.
	ScimType string
	Detail   string
}

func (e *Error) Error() string {
	if e.Index < 0 {
		return e.Detail
	}
	return fmt.Sprintf("Operations[%d]: %s", e.Index, e.Detail)
}

// Decode reads a PATCH request body ({"schemas":[…],"Operations":[…]}) with at least one
// operation.
func Decode(r io.Reader) ([]Op, error) {
	var body struct {
		Operations []Op `json:"Operations"`
	}
	if err := json.NewDecoder(r).Decode(&body); err != nil || len(body.Operations) == 0 {
		return nil, &Error{Index: -1, ScimType: "invalidSyntax", Detail: "PATCH needs Operations"}
	}
	return body.Operations, nil
}

// Apply applies ops in order to doc, the resource in its JSON form, changing it in place; on
// an error doc may be half-changed, so callers patch a copy.
func Apply(doc map[string]any, ops []Op) error {
	for i, op := range ops {
		if err := applyOp(doc, op); err != nil {
			err.Index = i
			return err
		}
	}
	return nil
}

func applyOp(doc map[string]any, op Op) *Error {
	kind := strings.ToLower(op.Op)
	if !slices.Contains([]string{"add", "replace", "remove"}, kind) {
		return &Error{ScimType: "invalidSyntax", Detail: fmt.Sprintf("op %q is not add, replace or remove", op.Op)}
	}
	if op.Path != "" {
		return applyPath(doc, kind, op.Path, op.Value)
	}
	if kind == "remove" {
		return &Error{ScimType: "noTarget", Detail: "remove needs a path"}
	}
	obj, ok := op.Value.(map[string]any)
	if !ok {
		return &Error{ScimType: "invalidValue", Detail: fmt.Sprintf("a path-less %s needs an object value", kind)}
	}
	for k, v := range obj {
		if sub, ok := v.(map[string]any); ok && strings.HasPrefix(strings.ToLower(k), "urn:") {
			ext := asMap(doc, k, true)
			for sk, sv := range sub {
				if err := setField(ext, kind, sk, sv); err != nil {
					return err
				}
			}
			continue
		}
		if err := applyPath(doc, kind, k, v); err != nil {
			return err
		}
	}
	return nil
}

func applyPath(doc map[string]any, kind, rawPath string, value any) *Error {
	p, err := filter.ParsePath([]byte(rawPath))
	if err != nil {
		return &Error{ScimType: "invalidPath", Detail: fmt.Sprintf("path %q: %v", rawPath, err)}
	}
	attr := p.AttributePath.AttributeName
	sub := p.AttributePath.SubAttributeName()
	create := kind != "remove"
	if p.AttributePath.URIPrefix != nil && p.ValueExpression == nil && sub == "" {
		// An extension URN with a dotted attribute ("urn:…:User:manager.managerId") comes back
		// as the URN prefix plus the first name.
		if doc = asMap(doc, *p.AttributePath.URIPrefix, create); doc == nil {
			return nil
		}
		return setField(doc, kind, attr, value)
	}
	if p.AttributePath.URIPrefix != nil {
		if doc = asMap(doc, *p.AttributePath.URIPrefix, create); doc == nil {
			return nil
		}
	}
	if p.ValueExpression != nil {
		return applyFiltered(doc, kind, attr, p.ValueExpression, p.SubAttributeName(), value)
	}
	if sub != "" {
		m := asMap(doc, attr, create)
		if m == nil {
			return nil
		}
		return setField(m, kind, sub, value)
	}
	return setField(doc, kind, attr, value)
}

// setField applies one operation to a plain attribute. Adding to a multi-valued attribute
// appends the values not yet present; replacing sets it; removing drops it, or only the given
// values when the client (as Entra ID does for members) names them. An object merges into a
// complex attribute.
func setField(m map[string]any, kind, name string, value any) *Error {
	k := KeyOf(m, name)
	value = boolish(k, m[k], value)
	if obj, ok := value.(map[string]any); ok && kind != "remove" {
		if cur, ok := m[k].(map[string]any); ok {
			for sk, sv := range obj {
				ck := KeyOf(cur, sk)
				cur[ck] = boolish(ck, cur[ck], sv)
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
// members[value eq "id"]: the operation applies to each element the filter selects.
func applyFiltered(doc map[string]any, kind, attr string, expr filter.Expression, sub string, value any) *Error {
	k := KeyOf(doc, attr)
	list, _ := doc[k].([]any)
	found := false
	out := []any{}
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok || !Matches(expr, m) {
			out = append(out, e)
			continue
		}
		found = true
		switch {
		case kind == "remove" && sub == "":
			continue // the element goes
		case kind == "remove":
			delete(m, KeyOf(m, sub))
		case sub != "":
			sk := KeyOf(m, sub)
			m[sk] = boolish(sk, m[sk], value)
		default:
			merge(m, value)
		}
		out = append(out, m)
	}
	if !found && kind != "remove" {
		// Setting a value on an element that does not exist yet creates it, as Entra ID expects
		// for emails[type eq "work"].value: the filter's equalities describe the element.
		m := map[string]any{}
		if !Equalities(expr, m) {
			return &Error{ScimType: "noTarget", Detail: fmt.Sprintf("no %s element matches the filter, and it does not describe one to create", attr)}
		}
		if sub != "" {
			m[sub] = boolish(sub, nil, value)
		} else {
			merge(m, value)
		}
		out = append(out, m)
	}
	doc[k] = out
	return nil
}

func merge(into map[string]any, value any) {
	obj, _ := value.(map[string]any)
	for vk, vv := range obj {
		k := KeyOf(into, vk)
		into[k] = boolish(k, into[k], vv)
	}
}

// booleans are the attributes RFC 7643 types as booleans that clients send as strings.
var booleans = map[string]bool{"active": true, "primary": true}

// boolish turns "True"/"False" into a boolean where one belongs: the attribute holds a boolean
// now or is one of RFC 7643's boolean attributes. Entra ID sends booleans as strings.
func boolish(name string, cur, v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	if _, isBool := cur.(bool); !isBool && !booleans[strings.ToLower(name)] {
		return v
	}
	switch strings.ToLower(s) {
	case "true":
		return true
	case "false":
		return false
	}
	return v
}

// sameValue compares two elements of a multi-valued attribute: complex ones by their value.
func sameValue(a, b any) bool {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		return fmt.Sprint(GetFold(am, "value")) == fmt.Sprint(GetFold(bm, "value"))
	}
	return fmt.Sprint(a) == fmt.Sprint(b)
}

func asMap(doc map[string]any, name string, create bool) map[string]any {
	k := KeyOf(doc, name)
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
