package provision

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/identity"
)

// Record is the directory's copy of an account as the app holds it, for an account Tenure has
// no record of yet. After applying an operation to an account it has a record of, use
// RecordResult, which keeps what Tenure set rather than what the app reports. The planner compares the app's current account with it to tell drift
// (someone changed the app) from a change Tenure has to make (the person or policy changed).
//
// identity.Account keys an account by the app's own ID (its ExternalID); every compared field
// besides user name and email is kept in Attributes under its field name ("given_name",
// "role", "external_id", "attributes.title"), so no column is needed per field.
func Record(app, personID string, a connector.Account, seen time.Time) identity.Account {
	attrs := make(map[string]string, 5+len(a.Attributes))
	for _, f := range []string{"given_name", "family_name", "display_name", "role", "external_id"} {
		if v := a.Field(f); v != "" {
			attrs[f] = v
		}
	}
	for k, v := range a.Attributes {
		attrs["attributes."+k] = v
	}
	status := identity.AccountActive
	if !a.Active {
		status = identity.AccountDisabled
	}
	r := identity.Account{App: app, ExternalID: a.ID, PersonID: personID, Username: a.UserName, Email: a.Email,
		Status: status, Attributes: attrs}
	if len(a.Memberships) > 0 {
		r.Memberships = append([]string(nil), a.Memberships...)
	}
	if !seen.IsZero() {
		r.LastSeenAt = &seen
	}
	return r
}

// RecordResult is the record to keep after op was applied and the app answered result. With
// no earlier record (prev nil) or for a create it is Record(result). Otherwise it is prev
// changed by exactly what the op set: the fields of an update, the status of an enable or
// disable, one membership. Values the app holds that Tenure did not set in this op are not
// copied in, so drift that is only reported stays visible as drift in the next plan instead of
// becoming the value Tenure believes it set.
func RecordResult(prev *identity.Account, op connector.Op, result connector.Account, at time.Time) identity.Account {
	if result.ID == "" {
		result.ID = op.AccountID
	}
	if prev == nil || op.Kind == connector.OpCreate {
		r := Record(op.App, op.PersonID, result, at)
		if op.Kind == connector.OpDelete {
			r.Status = identity.AccountDeleted
		}
		return r
	}
	r := *prev
	r.Attributes = maps.Clone(prev.Attributes)
	if r.Attributes == nil {
		r.Attributes = map[string]string{}
	}
	r.Memberships = slices.Clone(prev.Memberships)
	if op.PersonID != "" {
		r.PersonID = op.PersonID
	}
	if !at.IsZero() {
		r.LastSeenAt = &at
	}
	switch op.Kind {
	case connector.OpUpdate:
		for _, f := range op.Fields {
			v := result.Field(f)
			switch f {
			case "user_name":
				r.Username = v
			case "email":
				r.Email = v
			default:
				if v == "" {
					delete(r.Attributes, f)
				} else {
					r.Attributes[f] = v
				}
			}
		}
	case connector.OpEnable:
		r.Status = identity.AccountActive
	case connector.OpDisable:
		r.Status = identity.AccountDisabled
	case connector.OpDelete:
		r.Status = identity.AccountDeleted
	case connector.OpAddMember:
		if !slices.Contains(r.Memberships, op.Entitlement) {
			r.Memberships = append(r.Memberships, op.Entitlement)
			slices.Sort(r.Memberships)
		}
	case connector.OpRemoveMember:
		r.Memberships = slices.DeleteFunc(r.Memberships, func(m string) bool { return m == op.Entitlement })
	}
	return r
}

// knownValue is the value of field in a record.
func knownValue(r *identity.Account, field string) string {
	switch field {
	case "user_name":
		return r.Username
	case "email":
		return r.Email
	}
	return r.Attributes[field]
}

// defaultFields are compared for apps whose traits name none.
var defaultFields = []string{"user_name", "email", "given_name", "family_name", "display_name"}

// managedFields are the fields an update may set: the app's, less "active" (enable and
// disable are operations of their own).
func managedFields(t connector.Traits) []string {
	fs := t.Fields
	if len(fs) == 0 {
		fs = defaultFields
	}
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		if f != "active" {
			out = append(out, f)
		}
	}
	return out
}

// sameValue compares a field as the app would: user names and emails are case-insensitive
// in every app we know, and apps that lowercase them must not cause an update every run.
func sameValue(field, x, y string) bool {
	if field == "user_name" || field == "email" {
		return strings.EqualFold(x, y)
	}
	return x == y
}

// shortField is a field's name as people say it: "title" for "attributes.title".
func shortField(f string) string { return strings.TrimPrefix(f, "attributes.") }
