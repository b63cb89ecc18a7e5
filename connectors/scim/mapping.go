package scim

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Schema URNs the connector writes.
const (
	UserSchema       = "urn:ietf:params:scim:schemas:core:2.0:User"
	GroupSchema      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	EnterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	patchSchema      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
)

// Mapping maps account fields to SCIM attribute paths. Keys are "email", "given_name",
// "family_name", "display_name", "role" and "attributes.NAME"; userName, externalId and active
// are fixed. Paths take the forms
//
//	title                                   a core attribute
//	name.givenName                          a sub-attribute
//	emails[type eq "work"].value            the element of a multi-valued attribute with that type
//	emails.value                            the primary (else first) element
//	urn:…:enterprise:2.0:User:department    an extension attribute (also …:manager.value)
type Mapping map[string]string

// DefaultMapping is the RFC 7643 mapping with the enterprise extension.
func DefaultMapping() Mapping {
	return Mapping{
		"email":                      `emails[type eq "work"].value`,
		"given_name":                 "name.givenName",
		"family_name":                "name.familyName",
		"display_name":               "displayName",
		"attributes.title":           "title",
		"attributes.employee_number": EnterpriseSchema + ":employeeNumber",
		"attributes.department":      EnterpriseSchema + ":department",
		"attributes.cost_center":     EnterpriseSchema + ":costCenter",
		"attributes.organization":    EnterpriseSchema + ":organization",
		"attributes.division":        EnterpriseSchema + ":division",
		"attributes.manager":         EnterpriseSchema + ":manager.value",
	}
}

var (
	pathRE      = regexp.MustCompile(`^(?:(urn:[A-Za-z0-9:._-]+):)?([A-Za-z][A-Za-z0-9_-]*)(?:\[type eq "([^"\]]+)"\])?(?:\.([A-Za-z$][A-Za-z0-9_$-]*))?$`)
	attrNameRE  = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	fixedFields = []string{"email", "given_name", "family_name", "display_name", "role"}
	// multiValued are the RFC 7643 User attributes that hold lists.
	multiValued = map[string]bool{"emails": true, "phoneNumbers": true, "ims": true, "photos": true, "addresses": true,
		"groups": true, "entitlements": true, "roles": true, "x509Certificates": true}
)

// scimPath is one parsed attribute path.
type scimPath struct {
	raw  string
	urn  string // extension schema; "" for the core schema
	attr string
	typ  string // element type selected by [type eq "…"]
	sub  string
}

func parsePath(s string) (scimPath, error) {
	m := pathRE.FindStringSubmatch(s)
	if m == nil {
		return scimPath{}, fmt.Errorf("%q is not a SCIM attribute path (attr, attr.sub, attr[type eq \"work\"].sub or urn:…:attr)", s)
	}
	p := scimPath{raw: s, urn: m[1], attr: m[2], typ: m[3], sub: m[4]}
	if p.urn == UserSchema {
		p.urn = ""
	}
	if p.typ != "" && !multiValued[p.attr] {
		return scimPath{}, fmt.Errorf("%q selects a type of %s, which is not a multi-valued attribute", s, p.attr)
	}
	if multiValued[p.attr] && p.sub == "" {
		return scimPath{}, fmt.Errorf("%q names the list %s; give the sub-attribute (%s.value)", s, p.attr, p.attr)
	}
	if p.urn == "" && slices.Contains([]string{"id", "userName", "externalId", "active", "meta", "schemas", "groups"}, p.attr) {
		return scimPath{}, fmt.Errorf("%q is managed by the connector itself and cannot be mapped", s)
	}
	return p, nil
}

// compiled is a validated mapping in a stable order.
type compiled struct {
	fields []string // account field names, sorted
	paths  map[string]scimPath
	urns   []string // extension schemas the mapping writes
}

func compileMapping(m Mapping) (compiled, error) {
	c := compiled{paths: map[string]scimPath{}}
	for _, f := range slices.Sorted(maps.Keys(m)) {
		if name, ok := strings.CutPrefix(f, "attributes."); ok {
			if !attrNameRE.MatchString(name) {
				return compiled{}, fmt.Errorf("map.%s: %q is not an attribute name (lower-case letters, digits and _)", f, name)
			}
		} else if !slices.Contains(fixedFields, f) {
			return compiled{}, fmt.Errorf("map.%s: unknown account field (one of %s, or attributes.NAME)", f, strings.Join(fixedFields, ", "))
		}
		if m[f] == "" {
			continue // mapped to nothing: the app does not hold it
		}
		p, err := parsePath(m[f])
		if err != nil {
			return compiled{}, fmt.Errorf("map.%s: %w", f, err)
		}
		for g, q := range c.paths {
			if q.urn == p.urn && q.attr == p.attr && q.typ == p.typ && q.sub == p.sub {
				return compiled{}, fmt.Errorf("map.%s: %q is already the path of %s", f, m[f], g)
			}
		}
		c.fields = append(c.fields, f)
		c.paths[f] = p
		if p.urn != "" && !slices.Contains(c.urns, p.urn) {
			c.urns = append(c.urns, p.urn)
		}
	}
	return c, nil
}

// traitsFields lists the account fields the app stores, for connector.Traits.Fields.
func (c compiled) traitsFields() []string {
	return append([]string{"user_name", "active"}, c.fields...)
}

// container returns the map holding p's attribute, creating it when create is set.
func container(res map[string]any, p scimPath, create bool) map[string]any {
	if p.urn == "" {
		return res
	}
	c, ok := res[p.urn].(map[string]any)
	if !ok && create {
		c = map[string]any{}
		res[p.urn] = c
	}
	return c
}

// get reads the string at p from a resource.
func get(res map[string]any, p scimPath) string {
	c := container(res, p, false)
	if c == nil {
		return ""
	}
	v := getFold(c, p.attr)
	if multiValued[p.attr] {
		el := element(v, p.typ)
		if el == nil {
			return ""
		}
		return str(getFold(el, p.sub))
	}
	if p.sub != "" {
		m, _ := v.(map[string]any)
		return str(getFold(m, p.sub))
	}
	return str(v)
}

// element picks the list element of the given type, else the primary one, else the first.
func element(v any, typ string) map[string]any {
	list, _ := v.([]any)
	var primary, first map[string]any
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		if typ != "" && strings.EqualFold(str(getFold(m, "type")), typ) {
			return m
		}
		if first == nil {
			first = m
		}
		if b, _ := getFold(m, "primary").(bool); b && primary == nil {
			primary = m
		}
	}
	if primary != nil {
		return primary
	}
	return first
}

// set writes v at p (removing the value when v is empty) in a resource being built or replaced.
func set(res map[string]any, p scimPath, v string) {
	c := container(res, p, v != "")
	if c == nil {
		return
	}
	switch {
	case multiValued[p.attr]:
		list, _ := c[p.attr].([]any)
		el := element(list, p.typ)
		if el != nil && p.typ != "" && !strings.EqualFold(str(getFold(el, "type")), p.typ) {
			el = nil // an element of another type is not this one
		}
		if el == nil {
			if v == "" {
				return
			}
			el = map[string]any{"primary": len(list) == 0}
			if p.typ != "" {
				el["type"] = p.typ
			}
			list = append(list, el)
			c[p.attr] = list
		}
		if v == "" {
			delete(el, p.sub)
		} else {
			el[p.sub] = v
		}
	case p.sub != "":
		m, _ := c[p.attr].(map[string]any)
		if m == nil {
			if v == "" {
				return
			}
			m = map[string]any{}
			c[p.attr] = m
		}
		if v == "" {
			delete(m, p.sub)
			if len(m) == 0 {
				delete(c, p.attr)
			}
		} else {
			m[p.sub] = v
		}
	case v == "":
		delete(c, p.attr)
	default:
		c[p.attr] = v
	}
}

// patchPath is p written as a PATCH path.
func (p scimPath) patchPath() string {
	s := p.attr
	if p.typ != "" {
		s += `[type eq "` + p.typ + `"]`
	}
	if p.sub != "" {
		s += "." + p.sub
	}
	if p.urn != "" {
		s = p.urn + ":" + s
	}
	return s
}

func getFold(m map[string]any, key string) any {
	if m == nil {
		return nil
	}
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

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	case float64:
		return fmt.Sprintf("%g", x)
	}
	return fmt.Sprint(v)
}
