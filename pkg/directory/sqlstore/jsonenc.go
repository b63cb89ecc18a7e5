package sqlstore

import (
	"slices"
	"time"
	"unicode/utf8"
)

// JSON without reflection for what a full LDAP sync writes by the hundred thousand: each
// entry's attributes and candidates, and its audit view. The output is byte for byte what
// encoding/json writes (jsonenc_test.go checks it), so the stored rows and the audit chain's
// hashes do not depend on which of the two wrote them.

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted the way encoding/json quotes it: HTML-safe, invalid
// UTF-8 replaced by U+FFFD, U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendJSONStringMap appends m with its keys sorted, as encoding/json does; nil is null.
func appendJSONStringMap(b []byte, m map[string]string) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, m[k])
	}
	return append(b, '}')
}

// appendJSONStrings appends a list of strings; nil is null.
func appendJSONStrings(b []byte, list []string) []byte {
	if list == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// stringMapColumn and stringsColumn are toJSON for the two shapes: empty is "".
func stringMapColumn(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	return string(appendJSONStringMap(nil, m))
}

func stringsColumn(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return string(appendJSONStrings(nil, list))
}

// appendJSON writes the audit view as encoding/json would from its field tags.
func (a *ldapEntryAudit) appendJSON(b []byte) []byte {
	field := func(name string, first bool) {
		if !first {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"', ':')
	}
	optional := func(name, v string) {
		if v != "" {
			field(name, false)
			b = appendJSONString(b, v)
		}
	}
	b = append(b, '{')
	field("id", true)
	b = appendJSONString(b, a.ID)
	field("dn", false)
	b = appendJSONString(b, a.DN)
	optional("username", a.Username)
	optional("email", a.Email)
	optional("employee_number", a.EmployeeNumber)
	optional("display_name", a.DisplayName)
	optional("first_name", a.FirstName)
	optional("last_name", a.LastName)
	if len(a.Attributes) > 0 {
		field("attributes", false)
		b = appendJSONStringMap(b, a.Attributes)
	}
	field("status", false)
	b = appendJSONString(b, a.Status)
	optional("stamp", a.Stamp)
	optional("person_id", a.PersonID)
	field("link", false)
	b = appendJSONString(b, a.Link)
	optional("link_rule", a.LinkRule)
	if len(a.Candidates) > 0 {
		field("candidates", false)
		b = appendJSONStrings(b, a.Candidates)
	}
	optional("link_note", a.LinkNote)
	if a.RemovedAt != nil {
		field("removed_at", false)
		b = append(b, '"')
		b = a.RemovedAt.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	return append(b, '}')
}
