package ldapsync

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-ldap/ldap/v3"

	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/directory"
)

// Outcomes of a password check that are answers, not failures. A login page shows all of them
// the same way, so nobody learns which usernames exist.
var (
	ErrWrongPassword = errors.New("wrong username or password")
	ErrDisabled      = errors.New("account disabled in its directory")
	ErrNotLinked     = errors.New("directory account is not linked to a person")
)

// entryReader is what a password check needs from the directory.
type entryReader interface {
	GetLDAPEntry(ctx context.Context, source, key string) (directory.LDAPEntry, error)
}

// Binder checks passwords against silos: the IdP's password check for people whose password
// lives in a directory Tenure federates.
type Binder struct {
	Store  entryReader
	Config config.LDAP
	Getenv func(string) string
}

// Authenticate finds username in the source with the service account, binds as that entry with
// password, and returns the person the entry is linked to. The username is escaped before it
// goes into the filter, so "*" or ")(uid=*" match nothing instead of everyone.
func (b *Binder) Authenticate(ctx context.Context, source, username, password string) (string, error) {
	src, ok := b.Config.Source(source)
	if !ok {
		return "", fmt.Errorf("%w %q", ErrUnknownSource, source)
	}
	if !src.DelegatedBind {
		return "", fmt.Errorf("ldap source %s: delegated_bind is off", source)
	}
	// An empty password would be an unauthenticated bind, which servers accept: never a login.
	if username == "" || password == "" {
		return "", ErrWrongPassword
	}
	m := newMapping(src)
	conn, err := dial(ctx, src, b.Getenv)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	filter := "(&" + m.userFilter + "(" + m.attrs[mapUsername] + "=" + ldap.EscapeFilter(username) + "))"
	req := ldap.NewSearchRequest(src.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 2, 0, false,
		filter, m.userAttributes(), nil)
	res, err := conn.Search(req)
	if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		return "", fmt.Errorf("ldap source %s: find user: %w", source, err)
	}
	switch {
	case res == nil || len(res.Entries) == 0:
		return "", ErrWrongPassword
	case len(res.Entries) > 1:
		return "", fmt.Errorf("ldap source %s: %d entries have %s %q; refusing to guess", source, len(res.Entries), m.attrs[mapUsername], username)
	}
	entry, err := m.entry(res.Entries[0])
	if err != nil {
		return "", err
	}
	if err := conn.Bind(entry.DN, password); err != nil {
		if isInvalidCredentials(err) {
			return "", ErrWrongPassword
		}
		return "", fmt.Errorf("ldap source %s: bind as user: %w", source, err)
	}
	if entry.Status == directory.LDAPEntryDisabled {
		return "", ErrDisabled
	}
	stored, err := b.Store.GetLDAPEntry(ctx, source, entry.Key)
	if err != nil {
		return "", fmt.Errorf("%w: %s (%v)", ErrNotLinked, entry.DN, err)
	}
	if stored.PersonID == "" || stored.Status == directory.LDAPEntryRemoved {
		return "", fmt.Errorf("%w: %s", ErrNotLinked, entry.DN)
	}
	return stored.PersonID, nil
}
