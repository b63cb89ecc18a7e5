package authn

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/ldapsync"
)

func auditAs(ctx context.Context, personID, reason string) context.Context {
	return audit.WithReason(audit.WithActor(ctx, "person:"+personID), reason)
}

// Binder checks a password against an LDAP source; *ldapsync.Binder is one.
type Binder interface {
	Authenticate(ctx context.Context, source, username, password string) (string, error)
}

type ldapEntries interface {
	ListLDAPEntries(ctx context.Context, f directory.LDAPEntryFilter) ([]directory.LDAPEntry, error)
}

// LDAPChecker is the PasswordChecker for people linked to an entry of a source with delegated
// binds: their password is the silo's, checked by binding as their entry.
type LDAPChecker struct {
	Entries ldapEntries
	Binder  Binder
	// Delegates reports whether a source checks passwords by bind (config delegated_bind).
	Delegates func(source string) bool
}

// CheckPassword binds to the silo holding the person's password; see PasswordChecker. With an
// empty password it only reports whether the person's password is delegated.
func (c *LDAPChecker) CheckPassword(ctx context.Context, p identity.Person, password string) (bool, error) {
	entries, err := c.Entries.ListLDAPEntries(ctx, directory.LDAPEntryFilter{PersonID: p.ID,
		Links:    []directory.LinkState{directory.LinkAuto, directory.LinkManual},
		Statuses: []directory.LDAPEntryStatus{directory.LDAPEntryActive, directory.LDAPEntryDisabled}})
	if err != nil {
		return false, fmt.Errorf("ldap entries of %s: %w", p.ID, err)
	}
	entries = slices.DeleteFunc(entries, func(e directory.LDAPEntry) bool { return !c.Delegates(e.Source) || e.Username == "" })
	if len(entries) == 0 {
		return false, nil
	}
	if password == "" {
		return true, ErrWrongPassword
	}
	// One person with delegated entries in two silos: the first source by name decides, so the
	// answer never depends on which silo happens to answer first.
	slices.SortFunc(entries, func(a, b directory.LDAPEntry) int { return strings.Compare(a.Source, b.Source) })
	e := entries[0]
	personID, err := c.Binder.Authenticate(ctx, e.Source, e.Username, password)
	switch {
	case errors.Is(err, ldapsync.ErrWrongPassword), errors.Is(err, ldapsync.ErrDisabled), errors.Is(err, ldapsync.ErrNotLinked):
		return true, fmt.Errorf("%w (%s: %v)", ErrWrongPassword, e.Source, err)
	case err != nil:
		return true, err
	case personID != p.ID:
		return true, fmt.Errorf("%w (%s: entry belongs to another person)", ErrWrongPassword, e.Source)
	}
	return true, nil
}
