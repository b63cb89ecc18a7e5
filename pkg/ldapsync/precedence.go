package ldapsync

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// hrFields are the person fields HR owns that a precedence list can name as "hr".
var hrFields = map[string]func(identity.Person) string{
	"title":        func(p identity.Person) string { return p.JobTitle },
	"job_title":    func(p identity.Person) string { return p.JobTitle },
	"location":     func(p identity.Person) string { return p.Location },
	"country":      func(p identity.Person) string { return p.Country },
	"cost_center":  func(p identity.Person) string { return p.CostCenter },
	"first_name":   func(p identity.Person) string { return p.LegalFirstName },
	"last_name":    func(p identity.Person) string { return p.LegalLastName },
	"display_name": func(p identity.Person) string { return p.DisplayName() },
	"email":        func(p identity.Person) string { return p.WorkEmail },
	"username":     func(p identity.Person) string { return p.Username },
}

// effective resolves one attribute for a person: the first of order ("hr" or a source name)
// with a value wins. Removed entries no longer speak for anyone.
func effective(attr string, order []string, p identity.Person, entries []directory.LDAPEntry) string {
	for _, who := range order {
		if who == "hr" {
			if f, ok := hrFields[attr]; ok {
				if v := f(p); v != "" {
					return v
				}
			}
			continue
		}
		for _, e := range entries {
			if e.Source == who && e.Status != directory.LDAPEntryRemoved {
				if v := value(e, attr); v != "" {
					return v
				}
			}
		}
	}
	return ""
}

// applyPrecedence sets, for every person linked to an entry of source, each attribute named in
// the precedence configuration to its winning value, in Person.Attributes. HR's own fields are
// never written: "hr" in a list only means HR's value, when it has one, wins. People whose
// attributes already match are not touched.
func (s *Syncer) applyPrecedence(ctx context.Context, source string) (int, error) {
	if len(s.Config.Precedence) == 0 {
		return 0, nil
	}
	s.precedence.Lock()
	defer s.precedence.Unlock()
	all, err := s.Store.ListLDAPEntries(ctx, directory.LDAPEntryFilter{})
	if err != nil {
		return 0, err
	}
	byPerson := map[string][]directory.LDAPEntry{}
	touched := map[string]bool{}
	for _, e := range all {
		if e.PersonID == "" {
			continue
		}
		byPerson[e.PersonID] = append(byPerson[e.PersonID], e)
		if e.Source == source {
			touched[e.PersonID] = true
		}
	}
	attrs := slices.Sorted(maps.Keys(s.Config.Precedence))
	changed := 0
	for _, id := range slices.Sorted(maps.Keys(touched)) {
		entries := byPerson[id]
		apply := func(p *identity.Person) bool {
			differ := false
			for _, a := range attrs {
				v := effective(a, s.Config.Precedence[a], *p, entries)
				if p.Attributes[a] == v {
					continue
				}
				differ = true
				if v == "" {
					delete(p.Attributes, a)
					continue
				}
				if p.Attributes == nil {
					p.Attributes = map[string]string{}
				}
				p.Attributes[a] = v
			}
			return differ
		}
		// A dry run on a copy first, so people who already match cost no write.
		current, err := s.Store.GetPerson(ctx, id)
		if err != nil {
			return changed, err
		}
		probe := current
		probe.Attributes = maps.Clone(current.Attributes)
		if !apply(&probe) {
			continue
		}
		if _, err := s.Store.UpdatePerson(ctx, id, func(p *identity.Person) error {
			apply(p)
			return nil
		}); err != nil {
			return changed, fmt.Errorf("attribute precedence for person %s: %w", id, err)
		}
		changed++
	}
	return changed, nil
}
