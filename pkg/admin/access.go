package admin

import (
	"context"
	"strings"
	"time"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/policy"
)

// SnapshotSource is what resolving needs from the directory.
type SnapshotSource interface {
	ListOrgUnits(ctx context.Context) ([]identity.OrgUnit, error)
	ListPeople(ctx context.Context, f directory.PersonFilter) ([]identity.Person, error)
	ListGroups(ctx context.Context) ([]identity.Group, error)
	GroupMembers(ctx context.Context, groupID string) ([]identity.Person, error)
	ListGrants(ctx context.Context, f directory.GrantFilter) ([]identity.Grant, error)
}

// LoadSnapshot reads the directory once, so every person resolves without further queries.
func LoadSnapshot(ctx context.Context, s SnapshotSource, now time.Time) (*policy.Snapshot, []identity.Person, error) {
	units, err := s.ListOrgUnits(ctx)
	if err != nil {
		return nil, nil, err
	}
	people, err := s.ListPeople(ctx, directory.PersonFilter{})
	if err != nil {
		return nil, nil, err
	}
	groups, err := s.ListGroups(ctx)
	if err != nil {
		return nil, nil, err
	}
	memberships := map[string][]identity.Group{}
	for _, g := range groups {
		members, err := s.GroupMembers(ctx, g.ID)
		if err != nil {
			return nil, nil, err
		}
		for _, m := range members {
			memberships[m.ID] = append(memberships[m.ID], g)
		}
	}
	exceptions, err := s.ListGrants(ctx, directory.GrantFilter{Source: identity.FromException})
	if err != nil {
		return nil, nil, err
	}
	snap := policy.NewSnapshot(policy.SnapshotData{Now: now, OrgUnits: units, People: people, Groups: memberships, Exceptions: exceptions})
	return snap, people, nil
}

// AccessSource is what the access operations read.
type AccessSource interface {
	SnapshotSource
	LookupPerson(ctx context.Context, key string) (identity.Person, error)
}

// Access is one person resolved against the policy and a snapshot of the directory.
type Access struct {
	Resolver *policy.Resolver
	Snap     *policy.Snapshot
	Person   identity.Person
}

// OpenAccess looks the person up and takes the snapshot at now.
func OpenAccess(ctx context.Context, s AccessSource, set *policy.Set, personKey string, now time.Time) (*Access, error) {
	p, err := s.LookupPerson(ctx, personKey)
	if err != nil {
		return nil, err
	}
	snap, _, err := LoadSnapshot(ctx, s, now)
	if err != nil {
		return nil, err
	}
	return &Access{Resolver: policy.NewResolver(set), Snap: snap, Person: p}, nil
}

// List is everything the policy and exceptions give the person, with reasons; Grants is
// never nil.
func (a *Access) List() policy.Result {
	res := a.Resolver.Resolve(a.Person, a.Snap)
	if res.Grants == nil {
		res.Grants = []policy.Grant{}
	}
	return res
}

// Why is the rule chain behind the person's access to app.
func (a *Access) Why(app string) (policy.Explanation, error) {
	if _, ok := a.Resolver.Set().App(app); !ok {
		return policy.Explanation{}, &ParamError{Param: "app", Msg: "app " + quote(app) + " is not in the policy catalogue", Err: identity.ErrNotFound}
	}
	return a.Resolver.Explain(a.Person, a.Snap, app), nil
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

// Reasons is a grant's reasons on one line, with an exception's last day.
func Reasons(rs []policy.Reason) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.String()
		if r.Exception != nil && r.Exception.ExpiresAt != nil {
			out[i] += " until " + r.Exception.ExpiresAt.Add(-time.Nanosecond).Format(time.DateOnly)
		}
	}
	return strings.Join(out, "; ")
}

// ExceptionRequest asks for an approved exception to policy.
type ExceptionRequest struct {
	Person      string // employee ID, username or work email
	App         string
	Entitlement string // KIND:NAME, or empty for the account itself
	Reason      string
	Approver    string // a person, as Person
	Expires     string // last day of access, YYYY-MM-DD (UTC)
}

// ExceptionResult is the stored grant and what it changes.
type ExceptionResult struct {
	Grant  identity.Grant
	Person identity.Person
	Note   string // "overrides SoD conflict ...", "already granted by ..." or empty
}

// ExceptionStore is what granting and revoking exceptions needs.
type ExceptionStore interface {
	AccessSource
	CreateGrant(ctx context.Context, g identity.Grant) (identity.Grant, error)
	DeleteGrant(ctx context.Context, id string) error
}

// CheckException validates the form of the request: what needs no database. The CLI checks
// it before opening the database, so a mistyped flag costs nothing.
func CheckException(req ExceptionRequest, now time.Time) (end time.Time, err error) {
	switch {
	case !nonEmpty(req.Reason):
		return end, usage("reason", "reason is required: every exception says why")
	case !nonEmpty(req.Approver):
		return end, usage("approver", "approver is required")
	case req.Expires == "":
		return end, usage("expires", "expires DATE is required: exceptions always end")
	}
	day, err := time.Parse(time.DateOnly, req.Expires)
	if err != nil {
		return end, usage("expires", "expires %q: want YYYY-MM-DD", req.Expires)
	}
	end = policy.ExpiryFromDate(day)
	if !end.After(now) {
		return end, usage("expires", "expires %s is in the past", req.Expires)
	}
	return end, nil
}

// GrantException validates the request as `tenure access grant` always has (approver active
// and not the person, expiry ahead, target in the catalogue, no live duplicate) and stores
// the exception, audited with the request's reason and the context's actor. An exception
// may override a separation-of-duties conflict; the note says so.
func GrantException(ctx context.Context, s ExceptionStore, set *policy.Set, req ExceptionRequest, now time.Time) (ExceptionResult, error) {
	end, err := CheckException(req, now)
	if err != nil {
		return ExceptionResult{}, err
	}
	a, err := OpenAccess(ctx, s, set, req.Person, now)
	if err != nil {
		return ExceptionResult{}, err
	}
	app, ent := req.App, req.Entitlement
	entry, ok := set.App(app)
	if !ok {
		return ExceptionResult{}, usage("app", "app %q is not in the policy catalogue", app)
	}
	if ent != "" && !entry.HasEntitlement(ent) {
		return ExceptionResult{}, usage("entitlement", "app %q offers no entitlement %q", app, ent)
	}
	appr, err := s.LookupPerson(ctx, req.Approver)
	if err != nil {
		return ExceptionResult{}, refused("approver", err, "approver: %v", err)
	}
	if appr.ID == a.Person.ID {
		return ExceptionResult{}, usage("approver", "approver: %s cannot approve their own exception", req.Approver)
	}
	if appr.Status != identity.Active {
		return ExceptionResult{}, refused("approver", nil, "approver: %s is %s, not active", req.Approver, appr.Status)
	}
	existing, err := s.ListGrants(ctx, directory.GrantFilter{PersonID: a.Person.ID, App: app, Source: identity.FromException})
	if err != nil {
		return ExceptionResult{}, err
	}
	for _, g := range existing {
		if g.Entitlement == ent && !policy.Expired(g, now) {
			return ExceptionResult{}, conflictf("%s already has exception %s for %s until %s: revoke it first",
				Who(a.Person), g.ID, GrantKey(app, ent), g.ExpiresAt.Add(-time.Nanosecond).Format(time.DateOnly))
		}
	}
	// Say what the exception changes, so nobody approves a no-op or an SoD override unknowingly.
	note := ""
	res := a.Resolver.Resolve(a.Person, a.Snap)
	for _, b := range res.Blocked {
		if b.App == app && b.Entitlement == ent {
			note = "overrides SoD conflict " + b.Conflict
		}
	}
	if g, ok := res.Find(GrantKey(app, ent)); ok && note == "" {
		note = "already granted by " + Reasons(g.Reasons) + "; the exception keeps it if that stops"
	}
	g := identity.Grant{PersonID: a.Person.ID, App: app, Entitlement: ent, Source: identity.FromException,
		Reason: req.Reason, Approver: appr.EmployeeID, GrantedAt: now, ExpiresAt: &end}
	g, err = s.CreateGrant(audit.WithReason(ctx, req.Reason), g)
	if err != nil {
		return ExceptionResult{}, err
	}
	return ExceptionResult{Grant: g, Person: a.Person, Note: note}, nil
}

// RevokeException deletes one exception grant by ID before it expires, audited with reason.
// A grant that is not an exception (policy decides those) is not found here.
func RevokeException(ctx context.Context, s ExceptionStore, id, reason string) (identity.Grant, error) {
	if !nonEmpty(reason) {
		return identity.Grant{}, usage("reason", "reason is required: say why the exception ends early")
	}
	grants, err := s.ListGrants(ctx, directory.GrantFilter{ID: id, Source: identity.FromException})
	if err != nil {
		return identity.Grant{}, err
	}
	if len(grants) == 0 {
		return identity.Grant{}, &identity.NotFoundError{Kind: "exception", Key: id}
	}
	if err := s.DeleteGrant(audit.WithReason(ctx, reason), id); err != nil {
		return identity.Grant{}, err
	}
	return grants[0], nil
}
