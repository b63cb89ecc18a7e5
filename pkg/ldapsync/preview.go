package ldapsync

import (
	"context"
	"fmt"

	"github.com/go-ldap/ldap/v3"

	"github.com/tenure-id/tenure/pkg/directory"
)

// Preview connects to a source, reads up to limit user entries and shows how they would map
// and correlate, writing nothing: `tenure ldap test` uses it to check a source's settings.
func (s *Syncer) Preview(ctx context.Context, name string, limit int) ([]directory.LDAPEntry, error) {
	src, ok := s.Config.Source(name)
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownSource, name)
	}
	m := newMapping(src)
	conn, err := dial(ctx, src, s.Getenv)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	people, err := s.Store.ListPeople(ctx, directory.PersonFilter{})
	if err != nil {
		return nil, err
	}
	corr := newCorrelator(s.Config.Rules(), people)
	req := ldap.NewSearchRequest(src.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, limit, 0, false,
		m.userFilter, m.userAttributes(), nil)
	res, err := conn.Search(req)
	if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		return nil, fmt.Errorf("ldap source %s: search %s: %w", name, m.userFilter, err)
	}
	var out []directory.LDAPEntry
	for _, le := range res.Entries {
		e, err := m.entry(le)
		if err != nil {
			return out, fmt.Errorf("ldap source %s: %w", name, err)
		}
		prev, err := s.Store.GetLDAPEntry(ctx, name, e.Key)
		var p *directory.LDAPEntry
		if err == nil {
			p = &prev
		}
		link(&e, p, corr.correlate(e))
		out = append(out, e)
	}
	return out, nil
}
