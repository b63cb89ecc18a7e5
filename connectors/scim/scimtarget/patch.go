package scimtarget

import (
	"fmt"
	"strings"

	"github.com/elimity-com/scim"
	scimerr "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/schema"
	"github.com/scim2/filter-parser/v2"
	"github.com/tenure-id/tenure/connectors/internal/scimpatch"
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
		if !ok || !scimpatch.Matches(p.ValueExpression, em) {
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
		if !scimpatch.Equalities(p.ValueExpression, em) {
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
