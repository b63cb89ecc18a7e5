package ldapsync

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// correlator links silo entries to people by the configured rules. It holds an index of every
// person per rule field, built once per run, so correlating 100k entries costs map lookups.
type correlator struct {
	rules []config.CorrelationRule
	index map[string]map[string][]string // person field -> normalized value -> person IDs
}

func newCorrelator(rules []config.CorrelationRule, people []identity.Person) *correlator {
	c := &correlator{rules: rules, index: map[string]map[string][]string{}}
	for _, r := range rules {
		if c.index[r.PersonField] != nil {
			continue
		}
		idx := map[string][]string{}
		for _, p := range people {
			if v := normalize(personField(p, r.PersonField)); v != "" {
				idx[v] = append(idx[v], p.ID)
			}
		}
		c.index[r.PersonField] = idx
	}
	return c
}

func personField(p identity.Person, field string) string {
	switch field {
	case "employee_id":
		return p.EmployeeID
	case "work_email":
		return p.WorkEmail
	case "personal_email":
		return p.PersonalEmail
	case "username":
		return p.Username
	}
	return p.Attributes[strings.TrimPrefix(field, "attributes.")]
}

// normalize makes matching case-insensitive: usernames and emails are stored lowercase, and
// silos disagree about the case of employee numbers.
func normalize(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// match is the correlation outcome for one entry.
type match struct {
	personID   string
	rule       string
	candidates []string
	note       string
}

func (m match) conflict() bool { return len(m.candidates) > 0 }

// correlate applies the rules in order. The first rule that finds exactly one person decides,
// but only if no rule is ambiguous and no later rule points at someone else: disagreement is
// never settled by guessing.
func (c *correlator) correlate(e directory.LDAPEntry) match {
	var m match
	for _, r := range c.rules {
		v := normalize(value(e, r.Attribute))
		if v == "" {
			continue
		}
		ids := c.index[r.PersonField][v]
		switch {
		case len(ids) > 1:
			return match{candidates: slices.Clone(ids),
				note: fmt.Sprintf("%s %q matches %d people by %s", r.Attribute, v, len(ids), r.PersonField)}
		case len(ids) == 1 && m.personID == "":
			m.personID, m.rule = ids[0], r.Attribute
		case len(ids) == 1 && m.personID != ids[0]:
			return match{candidates: []string{m.personID, ids[0]},
				note: fmt.Sprintf("%s matches one person, %s %q another", m.rule, r.Attribute, v)}
		}
	}
	return m
}

// link decides an entry's link from its previous state and this run's match. Administrators'
// decisions stand; an automatic link stays unless the rules now point at someone else.
func link(e *directory.LDAPEntry, prev *directory.LDAPEntry, m match) {
	if prev != nil && (prev.Link == directory.LinkManual || prev.Link == directory.LinkExcluded) {
		e.Link, e.PersonID, e.LinkRule, e.Candidates, e.LinkNote = prev.Link, prev.PersonID, prev.LinkRule, nil, ""
		return
	}
	e.Candidates, e.LinkNote = nil, ""
	switch {
	case m.conflict():
		e.Link, e.PersonID, e.LinkRule, e.Candidates, e.LinkNote = directory.LinkConflict, "", "", m.candidates, m.note
	case m.personID != "" && prev != nil && prev.Link == directory.LinkAuto && prev.PersonID != m.personID:
		e.Link, e.PersonID, e.LinkRule = directory.LinkConflict, "", ""
		e.Candidates = []string{prev.PersonID, m.personID}
		e.LinkNote = fmt.Sprintf("was linked to one person, %s now matches another", m.rule)
	case m.personID != "":
		e.Link, e.PersonID, e.LinkRule = directory.LinkAuto, m.personID, m.rule
	case prev != nil && prev.Link == directory.LinkAuto:
		// The values that matched changed (a renamed email, say): keep the link rather than
		// orphan a known account.
		e.Link, e.PersonID, e.LinkRule = prev.Link, prev.PersonID, prev.LinkRule
	default:
		e.Link, e.PersonID, e.LinkRule = directory.LinkUnmatched, "", ""
	}
}

// flagSharedPeople turns automatic links into conflicts where several live entries of one
// source claim the same person: two accounts in one silo for one person is for a human to
// sort out. entries holds every live entry of the source after this run; changed entries are
// updated in place and their keys returned.
func flagSharedPeople(entries map[string]*directory.LDAPEntry) []string {
	byPerson := map[string][]string{}
	for key, e := range entries {
		if e.PersonID != "" && e.Status != directory.LDAPEntryRemoved {
			byPerson[e.PersonID] = append(byPerson[e.PersonID], key)
		}
	}
	var changed []string
	for person, keys := range byPerson {
		if len(keys) < 2 {
			continue
		}
		slices.Sort(keys)
		for _, k := range keys {
			e := entries[k]
			if e.Link != directory.LinkAuto {
				continue
			}
			e.Link, e.PersonID, e.LinkRule = directory.LinkConflict, "", ""
			e.Candidates = []string{person}
			e.LinkNote = fmt.Sprintf("%d entries of this source match the same person: %s", len(keys), strings.Join(dns(entries, keys), "; "))
			changed = append(changed, k)
		}
	}
	return changed
}

func dns(entries map[string]*directory.LDAPEntry, keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = entries[k].DN
	}
	return out
}
