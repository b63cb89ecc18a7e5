package connector

import (
	"maps"
	"strconv"
	"strings"
)

// Field returns an account field by the name Traits.Fields and Op.Fields use: user_name,
// external_id, email, given_name, family_name, display_name, role, active ("true"/"false") or
// attributes.NAME. An unknown name is "".
func (a Account) Field(name string) string {
	switch name {
	case "user_name":
		return a.UserName
	case "external_id":
		return a.ExternalID
	case "email":
		return a.Email
	case "given_name":
		return a.GivenName
	case "family_name":
		return a.FamilyName
	case "display_name":
		return a.DisplayName
	case "role":
		return a.Role
	case "active":
		return strconv.FormatBool(a.Active)
	}
	if k, ok := strings.CutPrefix(name, "attributes."); ok {
		return a.Attributes[k]
	}
	return ""
}

// SetField sets a field by name (see Field); an empty value removes an attribute. The
// attribute map is copied first, so accounts that share one are not changed together.
func (a *Account) SetField(name, v string) {
	switch name {
	case "user_name":
		a.UserName = v
	case "external_id":
		a.ExternalID = v
	case "email":
		a.Email = v
	case "given_name":
		a.GivenName = v
	case "family_name":
		a.FamilyName = v
	case "display_name":
		a.DisplayName = v
	case "role":
		a.Role = v
	case "active":
		a.Active = v == "true"
	default:
		k, ok := strings.CutPrefix(name, "attributes.")
		if !ok {
			return
		}
		a.Attributes = maps.Clone(a.Attributes)
		if v == "" {
			delete(a.Attributes, k)
			return
		}
		if a.Attributes == nil {
			a.Attributes = map[string]string{}
		}
		a.Attributes[k] = v
	}
}
