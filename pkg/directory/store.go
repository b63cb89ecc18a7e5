// Package directory declares the Store: where Tenure keeps people, the org tree, groups, apps,
// grants, accounts, events and the audit log. Engines depend on this interface (or a smaller
// one of their own); only wiring code knows the SQL implementation in directory/sqlstore.
//
// Every write appends an audit record in the same transaction as the change, with the actor and
// reason carried by the context (audit.WithActor, audit.WithReason).
package directory

import (
	"context"
	"time"

	"github.com/tenure-id/tenure/pkg/identity"
)

// People is the person half of the directory.
type People interface {
	// CreatePerson stores a new person, assigning ID, Version 1 and timestamps. It fails with
	// ErrConflict (a *identity.ConflictError naming the field) on a duplicate employee ID,
	// username or work email, and with ErrInvalid on an unknown org unit or manager.
	CreatePerson(ctx context.Context, p identity.Person) (identity.Person, error)
	GetPerson(ctx context.Context, id string) (identity.Person, error)
	// LookupPerson finds a person by ID, employee ID, username or work email. A key that names
	// two different people (one's username is another's employee ID) is an error, never a guess.
	LookupPerson(ctx context.Context, key string) (identity.Person, error)
	ListPeople(ctx context.Context, f PersonFilter) ([]identity.Person, error)
	CountPeople(ctx context.Context, f PersonFilter) (int64, error)
	// UpdatePerson reads the person, lets fn change it, and stores the result, all in one
	// transaction: concurrent updates to one person are serialized and none is lost. An error
	// from fn aborts the update and is returned as is. ID, Version and CreatedAt are kept.
	UpdatePerson(ctx context.Context, id string, fn func(*identity.Person) error) (identity.Person, error)
	// ManagerChain returns the person's managers, nearest first.
	ManagerChain(ctx context.Context, id string) ([]identity.Person, error)
}

// PersonFilter narrows ListPeople and CountPeople. Zero values do not filter.
type PersonFilter struct {
	Statuses        []identity.Status
	EmploymentTypes []identity.EmploymentType
	OrgUnitID       string
	Subtree         bool   // with OrgUnitID: include every unit below it
	ManagerID       string // direct reports of this person
	Limit           int
	Offset          int
}

// OrgUnits is the org tree.
type OrgUnits interface {
	// CreateOrgUnit checks the parent exists and is of a higher level; names are unique among
	// siblings (ErrConflict).
	CreateOrgUnit(ctx context.Context, u identity.OrgUnit) (identity.OrgUnit, error)
	GetOrgUnit(ctx context.Context, id string) (identity.OrgUnit, error)
	// ListOrgUnits returns every unit, parents before children.
	ListOrgUnits(ctx context.Context) ([]identity.OrgUnit, error)
	// UpdateOrgUnit works like UpdatePerson; moving a unit under its own subtree is ErrInvalid.
	UpdateOrgUnit(ctx context.Context, id string, fn func(*identity.OrgUnit) error) (identity.OrgUnit, error)
	// DeleteOrgUnit removes an empty unit; one with children or people is ErrConflict.
	DeleteOrgUnit(ctx context.Context, id string) error
	// OrgSubtree returns the unit and every unit below it, parents before children.
	OrgSubtree(ctx context.Context, id string) ([]identity.OrgUnit, error)
	// OrgAncestors returns the unit's ancestors, root first, not including the unit.
	OrgAncestors(ctx context.Context, id string) ([]identity.OrgUnit, error)
}

// Groups are sets of people, local or synced from LDAP.
type Groups interface {
	// CreateGroup fails with ErrConflict when a group of that source and name exists.
	CreateGroup(ctx context.Context, g identity.Group) (identity.Group, error)
	GetGroup(ctx context.Context, id string) (identity.Group, error)
	ListGroups(ctx context.Context) ([]identity.Group, error)
	DeleteGroup(ctx context.Context, id string) error
	// AddGroupMember and RemoveGroupMember are idempotent: adding a member twice is no change.
	AddGroupMember(ctx context.Context, groupID, personID string) error
	RemoveGroupMember(ctx context.Context, groupID, personID string) error
	GroupMembers(ctx context.Context, groupID string) ([]identity.Person, error)
	PersonGroups(ctx context.Context, personID string) ([]identity.Group, error)
}

// Apps is the application catalogue.
type Apps interface {
	// PutApp creates the app or replaces the one with the same name.
	PutApp(ctx context.Context, a identity.App) (identity.App, error)
	GetApp(ctx context.Context, name string) (identity.App, error)
	ListApps(ctx context.Context) ([]identity.App, error)
	DeleteApp(ctx context.Context, name string) error
}

// Grants are decided access, with reasons.
type Grants interface {
	CreateGrant(ctx context.Context, g identity.Grant) (identity.Grant, error)
	ListGrants(ctx context.Context, f GrantFilter) ([]identity.Grant, error)
	DeleteGrant(ctx context.Context, id string) error
}

// GrantFilter narrows ListGrants. Zero values do not filter.
type GrantFilter struct {
	ID       string // one grant
	PersonID string
	App      string
	Source   identity.GrantSource
}

// Accounts are what the apps report having.
type Accounts interface {
	// PutAccount creates the account or replaces the one with the same app and external ID.
	PutAccount(ctx context.Context, a identity.Account) (identity.Account, error)
	GetAccount(ctx context.Context, app, externalID string) (identity.Account, error)
	ListAccounts(ctx context.Context, f AccountFilter) ([]identity.Account, error)
	DeleteAccount(ctx context.Context, app, externalID string) error
}

// AccountFilter narrows ListAccounts. Zero values do not filter.
type AccountFilter struct {
	App      string
	PersonID string
}

// Events are effective-dated HR changes.
type Events interface {
	// CreateEvent fails with ErrConflict when an event with the same ExternalID exists, which
	// makes pushed events idempotent.
	CreateEvent(ctx context.Context, e identity.Event) (identity.Event, error)
	GetEvent(ctx context.Context, id string) (identity.Event, error)
	ListEvents(ctx context.Context, f EventFilter) ([]identity.Event, error)
	UpdateEvent(ctx context.Context, id string, fn func(*identity.Event) error) (identity.Event, error)
}

// EventFilter narrows ListEvents; results are ordered by effective time, then creation.
type EventFilter struct {
	States     []identity.EventState
	EmployeeID string
	DueBy      *time.Time // effective at or before
	Limit      int
}

// AuditLog reads and extends the hash-chained audit log. Store writes append to it themselves;
// AppendAudit is for facts that change no row, such as a rejected HR event.
type AuditLog interface {
	AppendAudit(ctx context.Context, r identity.AuditRecord) (identity.AuditRecord, error)
	// AuditRecords returns up to limit records with Seq > afterSeq, in order.
	AuditRecords(ctx context.Context, afterSeq int64, limit int) ([]identity.AuditRecord, error)
}

// Store is the whole directory.
type Store interface {
	People
	OrgUnits
	Groups
	Apps
	Grants
	Accounts
	Events
	AuditLog
	LDAPFederation
	HRBulk
	SAMLRegistry
	SAMLParking
	SAMLReplay
	MFASecrets
	SAMLSessions
	Outbox
	Authn
	SCIMTokens
	Tokens
	// InTx runs fn in one transaction: every write fn makes through tx is committed together,
	// or, if fn returns an error or panics, none is.
	InTx(ctx context.Context, fn func(tx Store) error) error
	// Ping checks the database answers; /readyz uses it.
	Ping(ctx context.Context) error
	Close() error
}
