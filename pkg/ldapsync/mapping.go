package ldapsync

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/directory"
)

// Flavours.
const (
	OpenLDAP = "openldap"
	AD       = "ad"
)

// Names of the mapped attributes Tenure itself understands; any other mapping name is kept in
// LDAPEntry.Attributes under that name.
const (
	mapKey            = "key"
	mapStamp          = "stamp"
	mapUsername       = "username"
	mapEmail          = "email"
	mapEmployeeNumber = "employee_number"
	mapDisplayName    = "display_name"
	mapFirstName      = "first_name"
	mapLastName       = "last_name"
	mapDisabled       = "disabled"
	mapMember         = "member"
	mapGroupName      = "group_name"
)

// uacAccountDisable is the ACCOUNTDISABLE bit of AD's userAccountControl.
const uacAccountDisable = 0x2

var flavourDefaults = map[string]map[string]string{
	OpenLDAP: {
		mapKey: "entryUUID", mapStamp: "entryCSN", mapUsername: "uid", mapEmail: "mail",
		mapEmployeeNumber: "employeeNumber", mapDisplayName: "cn", mapFirstName: "givenName", mapLastName: "sn",
		// ppolicy's lock marks an account disabled, as OpenLDAP itself enforces it at bind.
		mapDisabled: "pwdAccountLockedTime", mapMember: "member", mapGroupName: "cn",
	},
	AD: {
		mapKey: "objectGUID", mapStamp: "uSNChanged", mapUsername: "sAMAccountName", mapEmail: "mail",
		mapEmployeeNumber: "employeeID", mapDisplayName: "displayName", mapFirstName: "givenName", mapLastName: "sn",
		mapDisabled: "userAccountControl", mapMember: "member", mapGroupName: "cn",
	},
}

var flavourFilters = map[string][2]string{
	OpenLDAP: {"(objectClass=inetOrgPerson)", "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))"},
	AD:       {"(&(objectCategory=person)(objectClass=user))", "(objectClass=group)"},
}

// mapping is a source's configuration resolved against its flavour's defaults.
type mapping struct {
	source      string
	flavour     string
	attrs       map[string]string // Tenure name -> LDAP attribute
	userFilter  string
	groupFilter string
}

func newMapping(src config.LDAPSource) mapping {
	flavour := src.Flavour
	if flavour == "" {
		flavour = OpenLDAP
	}
	attrs := maps.Clone(flavourDefaults[flavour])
	maps.Copy(attrs, src.Attributes)
	m := mapping{source: src.Name, flavour: flavour, attrs: attrs,
		userFilter: src.UserFilter, groupFilter: src.GroupFilter}
	if m.userFilter == "" {
		m.userFilter = flavourFilters[flavour][0]
	}
	if m.groupFilter == "" {
		m.groupFilter = flavourFilters[flavour][1]
	}
	return m
}

// userAttributes is what a user search asks for: every mapped attribute, operational ones
// included (they are only returned when named).
func (m mapping) userAttributes() []string {
	var out []string
	for name, attr := range m.attrs {
		if name != mapMember && name != mapGroupName {
			out = append(out, attr)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (m mapping) groupAttributes() []string {
	return []string{m.attrs[mapKey], m.attrs[mapGroupName], m.attrs[mapMember], "uniqueMember", "description"}
}

// key returns the entry's stable identifier. AD's objectGUID is 16 raw bytes, shown the way
// AD tools show it (the first three fields little-endian).
func (m mapping) key(e *ldap.Entry) (string, error) {
	attr := m.attrs[mapKey]
	if m.flavour == AD && strings.EqualFold(attr, "objectGUID") {
		raw := e.GetEqualFoldRawAttributeValue(attr)
		if len(raw) != 16 {
			return "", fmt.Errorf("%s: objectGUID has %d bytes, want 16", e.DN, len(raw))
		}
		return formatGUID(raw), nil
	}
	v := e.GetEqualFoldAttributeValue(attr)
	if v == "" {
		return "", fmt.Errorf("%s: no %s, the attribute that identifies entries", e.DN, attr)
	}
	return strings.ToLower(v), nil
}

func formatGUID(b []byte) string {
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x", binary.LittleEndian.Uint32(b[0:4]), binary.LittleEndian.Uint16(b[4:6]),
		binary.LittleEndian.Uint16(b[6:8]), b[8:10], b[10:16])
}

// disabled reads the account's disabled state the way the flavour stores it.
func (m mapping) disabled(e *ldap.Entry) (bool, error) {
	attr := m.attrs[mapDisabled]
	v := e.GetEqualFoldAttributeValue(attr)
	if m.flavour == AD && strings.EqualFold(attr, "userAccountControl") {
		if v == "" {
			return false, nil
		}
		uac, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return false, fmt.Errorf("%s: userAccountControl %q is not a number", e.DN, v)
		}
		return uac&uacAccountDisable != 0, nil
	}
	switch strings.ToLower(v) {
	case "", "false", "0", "no":
		return false, nil
	}
	return true, nil
}

// entry maps one LDAP user entry; the link fields are the correlator's job.
func (m mapping) entry(e *ldap.Entry) (directory.LDAPEntry, error) {
	key, err := m.key(e)
	if err != nil {
		return directory.LDAPEntry{}, err
	}
	off, err := m.disabled(e)
	if err != nil {
		return directory.LDAPEntry{}, err
	}
	out := directory.LDAPEntry{
		Source: m.source, Key: key, DN: e.DN,
		Username:       strings.ToLower(strings.TrimSpace(e.GetEqualFoldAttributeValue(m.attrs[mapUsername]))),
		Email:          strings.ToLower(strings.TrimSpace(e.GetEqualFoldAttributeValue(m.attrs[mapEmail]))),
		EmployeeNumber: strings.TrimSpace(e.GetEqualFoldAttributeValue(m.attrs[mapEmployeeNumber])),
		DisplayName:    strings.TrimSpace(e.GetEqualFoldAttributeValue(m.attrs[mapDisplayName])),
		FirstName:      strings.TrimSpace(e.GetEqualFoldAttributeValue(m.attrs[mapFirstName])),
		LastName:       strings.TrimSpace(e.GetEqualFoldAttributeValue(m.attrs[mapLastName])),
		Stamp:          e.GetEqualFoldAttributeValue(m.attrs[mapStamp]),
		Status:         directory.LDAPEntryActive,
	}
	if off {
		out.Status = directory.LDAPEntryDisabled
	}
	fields := []*string{&out.Key, &out.DN, &out.Username, &out.Email, &out.EmployeeNumber, &out.DisplayName,
		&out.FirstName, &out.LastName, &out.Stamp}
	var names []string
	var values []string
	for name, attr := range m.attrs {
		switch name {
		case mapKey, mapStamp, mapUsername, mapEmail, mapEmployeeNumber, mapDisplayName, mapFirstName, mapLastName,
			mapDisabled, mapMember, mapGroupName:
			continue
		}
		if v := strings.TrimSpace(e.GetEqualFoldAttributeValue(attr)); v != "" {
			names, values = append(names, name), append(values, v)
		}
	}
	for i := range values {
		fields = append(fields, &values[i])
	}
	pack(fields)
	if len(names) > 0 {
		out.Attributes = make(map[string]string, len(names))
		for i, name := range names {
			out.Attributes[name] = values[i]
		}
	}
	return out, nil
}

// pack copies the strings into one allocation and points each at its part. A full sync holds
// every entry of the silo until it ends; as one block per entry instead of one object per
// value (as decoded), they take less memory and far less of the garbage collector's time,
// which traces every live object on each cycle.
func pack(fields []*string) {
	n := 0
	for _, f := range fields {
		n += len(*f)
	}
	var b strings.Builder
	b.Grow(n)
	for _, f := range fields {
		b.WriteString(*f)
	}
	all, off := b.String(), 0
	for _, f := range fields {
		*f, off = all[off:off+len(*f)], off+len(*f)
	}
}

// value returns a mapped attribute of an entry by its Tenure name, for correlation.
func value(e directory.LDAPEntry, name string) string {
	switch name {
	case mapUsername:
		return e.Username
	case mapEmail:
		return e.Email
	case mapEmployeeNumber:
		return e.EmployeeNumber
	case mapDisplayName:
		return e.DisplayName
	case mapFirstName:
		return e.FirstName
	case mapLastName:
		return e.LastName
	}
	return e.Attributes[name]
}

// sinceFilter narrows the user filter to entries changed at or after the high-water mark.
// entryCSN and modifyTimestamp have ordering rules in OpenLDAP; AD's uSNChanged is a number.
func (m mapping) sinceFilter(highWater string) string {
	attr := m.attrs[mapStamp]
	if m.flavour == AD {
		n, err := strconv.ParseInt(highWater, 10, 64)
		if err == nil {
			highWater = strconv.FormatInt(n+1, 10)
		}
	}
	hw := ldap.EscapeFilter(highWater)
	// CSNs are unique per change, so "after" can be strict and an incremental run reads only
	// what changed. modifyTimestamp has one-second steps: a strict test would miss changes made
	// in the second of the mark, so those are read again (and found unchanged).
	if strings.EqualFold(attr, "entryCSN") {
		return "(&" + m.userFilter + "(" + attr + ">=" + hw + ")(!(" + attr + "=" + hw + ")))"
	}
	return "(&" + m.userFilter + "(" + attr + ">=" + hw + "))"
}

// laterStamp reports whether stamp a is after b. CSNs and generalized times sort as text;
// USNs are numbers.
func (m mapping) laterStamp(a, b string) bool {
	if m.flavour == AD {
		x, errA := strconv.ParseInt(a, 10, 64)
		y, errB := strconv.ParseInt(b, 10, 64)
		if errA == nil && errB == nil {
			return x > y
		}
	}
	return a > b
}
