package scimserver

import (
	"strconv"
	"strings"

	"github.com/elimity-com/scim"
	filter "github.com/scim2/filter-parser/v2"
)

func itoa(i int) string { return strconv.Itoa(i) }

// apply applies one PATCH operation (RFC 7644 §3.5.2) to u. "add" and "replace" are the same
// for Tenure's attributes, which are all single-valued but the work email.
func (u *user) apply(op scim.PatchOperation) error {
	kind := strings.ToLower(op.Op)
	if op.Path == nil {
		if kind == scim.PatchOperationRemove {
			return scimError(400, "noTarget", "remove needs a path")
		}
		m, ok := op.Value.(map[string]any)
		if !ok {
			return invalidValue("a path-less %s needs an object value", kind)
		}
		// Keys may be dotted ("name.givenName"), as Entra ID sends them.
		flat := map[string]any{}
		for k, v := range m {
			if head, sub, ok := strings.Cut(k, "."); ok && !strings.HasPrefix(strings.ToLower(k), "urn:") {
				if err := u.set(strings.ToLower(head)+"."+strings.ToLower(sub), v); err != nil {
					return err
				}
				continue
			}
			flat[k] = v
		}
		return u.walk(flat)
	}
	key, ok := pathKey(*op.Path)
	if !ok {
		return nil // an attribute Tenure does not hold
	}
	val := op.Value
	if kind == scim.PatchOperationRemove {
		val = nil
	}
	// A filtered email path without a sub-attribute takes the element itself.
	if key == "emails.work" {
		if m, isMap := val.(map[string]any); isMap {
			val = m["value"]
		}
		if l, isList := val.([]any); isList {
			val = workEmail(l)
		}
	}
	if key == "emails" && kind == scim.PatchOperationAdd {
		// add to a multi-valued attribute appends; Tenure keeps one work email, the added one.
		if l, isList := val.([]any); isList && workEmail(l) == "" {
			return nil
		}
	}
	return u.set(key, val)
}

// pathKey is the lower-case key of user.set a PATCH path names; ok is false for attributes
// Tenure does not hold, including emails of another type than work.
func pathKey(p filter.Path) (string, bool) {
	ap := p.AttributePath
	name := strings.ToLower(ap.AttributeName)
	prefix := ""
	if ap.URIPrefix != nil {
		switch strings.ToLower(*ap.URIPrefix) {
		case strings.ToLower(EnterpriseSchema):
			prefix = "ent:"
		case strings.ToLower(TenureSchema):
			prefix = "ten:"
		case strings.ToLower(UserSchema):
		default:
			return "", false
		}
	}
	sub := ""
	if ap.SubAttribute != nil {
		sub = "." + strings.ToLower(*ap.SubAttribute)
	}
	if p.SubAttribute != nil {
		sub = "." + strings.ToLower(*p.SubAttribute)
	}
	if p.ValueExpression != nil {
		if name != "emails" || !isWorkType(p.ValueExpression) || (sub != "" && sub != ".value") {
			return "", false
		}
		return "emails.work", true
	}
	return prefix + name + sub, true
}

func isWorkType(e filter.Expression) bool {
	a, ok := e.(*filter.AttributeExpression)
	if !ok {
		return false
	}
	v, _ := a.CompareValue.(string)
	return strings.EqualFold(a.AttributePath.AttributeName, "type") && a.Operator == filter.EQ && strings.EqualFold(v, "work")
}
