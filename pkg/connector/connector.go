// Package connector declares what the provisioner needs from a target application: read the
// accounts the app holds and apply one operation to it. Optional abilities (finding one account,
// describing rate limits and deprovisioning semantics) are separate interfaces detected by type
// assertion, so a minimal connector stays small.
//
// Every connector must pass connector/connectortest against its fake.
package connector

import (
	"context"
	"strconv"
	"time"
)

// Account is a user account as the app holds it, in the app-neutral form the planner compares.
// A connector fills what its app reports; fields the app cannot hold stay empty and are never
// compared (see Traits.Fields).
type Account struct {
	// ID is the app's own identifier (SCIM id, GitHub login, Google user id, ...).
	ID string `json:"id,omitempty"`
	// ExternalID is the key Tenure sets: the person's Tenure ID. Correlation tries it first.
	ExternalID  string `json:"external_id,omitempty"`
	UserName    string `json:"user_name"`
	Email       string `json:"email,omitempty"`
	GivenName   string `json:"given_name,omitempty"`
	FamilyName  string `json:"family_name,omitempty"`
	DisplayName string `json:"display_name,omitempty"`
	Active      bool   `json:"active"`
	Role        string `json:"role,omitempty"`
	// Attributes are further mapped attributes ("title", "department", "employee_number",
	// "manager", "org_unit_path", ...); which ones an app holds is per connector and config.
	Attributes map[string]string `json:"attributes,omitempty"`
	// Memberships are entitlement keys ("team:backend", "group:everyone") the account holds.
	Memberships []string `json:"memberships,omitempty"`
}

// OpKind is one kind of change to an app.
type OpKind string

const (
	OpCreate       OpKind = "create"        // create the account (adopting an existing one with the same ExternalID)
	OpUpdate       OpKind = "update"        // set the account's fields to Op.Account (Op.Fields names what differs)
	OpEnable       OpKind = "enable"        // reactivate a disabled account
	OpDisable      OpKind = "disable"       // suspend: reversible, the default at termination
	OpDelete       OpKind = "delete"        // delete: only after the app's grace period
	OpAddMember    OpKind = "add_member"    // add the account to Op.Entitlement
	OpRemoveMember OpKind = "remove_member" // remove the account from Op.Entitlement
)

// OpKinds lists every kind in the order a plan applies them for one account: the account must
// exist before memberships, and removals of access come before deletion.
var OpKinds = []OpKind{OpCreate, OpEnable, OpUpdate, OpAddMember, OpRemoveMember, OpDisable, OpDelete}

// Op is one change to one account in one app.
type Op struct {
	Kind OpKind `json:"kind"`
	App  string `json:"app"`
	// PersonID is the Tenure person the account belongs to; empty for an orphan.
	PersonID string `json:"person_id,omitempty"`
	// AccountID is the app's ID of the account; empty for a create.
	AccountID string `json:"account_id,omitempty"`
	// Account is the desired account (create, update, enable) or the account acted on.
	Account Account `json:"account"`
	// Entitlement is the "kind:name" key for add_member and remove_member.
	Entitlement string `json:"entitlement,omitempty"`
	// Fields names what an update changes ("email", "attributes.title", "role", ...).
	Fields []string `json:"fields,omitempty"`
	// Reason says why: the rule, "terminated on 2026-11-28", "drift: title changed in the app".
	Reason string `json:"reason"`
}

// Connector is a target application.
type Connector interface {
	// List returns every account the app holds, with memberships. Suspended or disabled
	// accounts are included with Active false.
	List(ctx context.Context) ([]Account, error)
	// Apply performs op and returns the account as the app holds it afterwards (for a create,
	// with its new ID). Apply is idempotent: repeating an op that already took effect succeeds
	// without a second change; a create for an ExternalID the app already holds adopts that
	// account; disabling a disabled account, removing an absent membership or deleting a
	// deleted account succeed.
	Apply(ctx context.Context, op Op) (Account, error)
}

// Finder is implemented by connectors that can look one account up without listing the app,
// which lets a single person's change reconcile without a full read.
type Finder interface {
	// Find returns the account matching the first of m's keys that finds one (ExternalID, then
	// UserName, then Email); ErrNotFound when none does.
	Find(ctx context.Context, m Match) (Account, error)
}

// Match are correlation keys, tried in order.
type Match struct {
	ExternalID string
	UserName   string
	Email      string
}

// Describer is implemented by connectors that say what their app can do; others get
// DefaultTraits.
type Describer interface {
	Traits() Traits
}

// Traits describe an app to the planner and the workers.
type Traits struct {
	// CanDisable is false when the app has no suspended state: a leaver's account is deleted at
	// termination instead (HubSpot's users, say).
	CanDisable bool
	// MembershipKinds are the entitlement kinds the connector manages as memberships
	// ("team", "group", "channel"); grants of other kinds are not planned for this app.
	MembershipKinds []string
	// Fields lists the account fields the app stores and reports, so the planner compares
	// only those ("email", "given_name", "family_name", "display_name", "role",
	// "attributes.title", ...). Empty: user_name, email, names and active.
	Fields []string
	// NoExternalID is true when the app has nowhere to keep Account.ExternalID (HubSpot's
	// users): its accounts always list with an empty ExternalID, correlation can only use the
	// user name and email, and an adoption has no external id to set.
	NoExternalID bool
	// Rate is the documented sustained request rate (requests per second) and Burst the
	// bucket size; Concurrency bounds requests in flight. Zero means no stated limit.
	Rate        float64
	Burst       int
	Concurrency int
}

// DefaultTraits are assumed for connectors that do not implement Describer.
var DefaultTraits = Traits{CanDisable: true, MembershipKinds: []string{"group"}, Concurrency: 4}

// TraitsOf returns c's traits.
func TraitsOf(c Connector) Traits {
	if d, ok := c.(Describer); ok {
		return d.Traits()
	}
	return DefaultTraits
}

// Error says how a connector's request failed, so the workers know whether and when to retry.
// Connectors return *Error (wrapping one of the sentinels below) for every app-side failure.
type Error struct {
	// Kind is one of the sentinels: ErrNotFound, ErrConflict, ErrInvalid, ErrRateLimited,
	// ErrUnavailable, ErrUnauthorized.
	Kind error
	// Status is the HTTP status the app answered, if any.
	Status int
	// Detail is the app's own message (never a credential).
	Detail string
	// RetryAfter is how long the app asked us to wait (Retry-After, or a rate-limit reset time
	// turned into a duration); zero when it did not say.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	s := e.Kind.Error()
	if e.Status != 0 {
		s += " (HTTP " + strconv.Itoa(e.Status) + ")"
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap lets errors.Is match the sentinel.
func (e *Error) Unwrap() error { return e.Kind }

// WithLimits overrides the documented limits with configured ones; zero keeps the default.
func (t Traits) WithLimits(rate float64, burst, concurrency int) Traits {
	if rate > 0 {
		t.Rate = rate
	}
	if burst > 0 {
		t.Burst = burst
	}
	if concurrency > 0 {
		t.Concurrency = concurrency
	}
	return t
}
