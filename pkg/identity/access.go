package identity

import (
	"strings"
	"time"
)

// Group is a set of people: made in Tenure, or synced from an LDAP silo (Source "ldap:NAME").
type Group struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Source      string    `json:"source"` // "local" or "ldap:<silo>"
	ExternalID  string    `json:"external_id,omitempty"`
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Validate checks the group on its own.
func (g Group) Validate() error {
	if strings.TrimSpace(g.Name) == "" {
		return invalid("name", "required")
	}
	return nil
}

// App is a target application people get accounts in (Slack, GitHub, ...).
type App struct {
	ID           string        `json:"id"`
	Name         string        `json:"name"`      // unique, used on the CLI and in policies
	Connector    string        `json:"connector"` // connector type: scim, github, slack, ...
	Entitlements []Entitlement `json:"entitlements,omitempty"`
	CreatedAt    time.Time     `json:"created_at"`
	UpdatedAt    time.Time     `json:"updated_at"`
}

// Validate checks the app and its entitlements, naming the first bad field.
func (a App) Validate() error {
	if strings.TrimSpace(a.Name) == "" {
		return invalid("name", "required")
	}
	if strings.TrimSpace(a.Connector) == "" {
		return invalid("connector", "required")
	}
	seen := map[string]bool{}
	for i, e := range a.Entitlements {
		if err := e.Validate(); err != nil {
			return invalid("entitlements", "entry %d: %v", i+1, err)
		}
		if seen[e.Key()] {
			return invalid("entitlements", "%q is listed twice", e.Key())
		}
		seen[e.Key()] = true
	}
	return nil
}

// Entitlement is something inside an app that can be granted: a team, group, channel, role,
// licence or org unit. Policies name it as "kind:name", e.g. "team:backend".
type Entitlement struct {
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// Key is the "kind:name" form used in policies and grants.
func (e Entitlement) Key() string { return e.Kind + ":" + e.Name }

// EntitlementKinds are the kinds policies may use.
var EntitlementKinds = []string{"team", "group", "channel", "role", "licence", "org_unit"}

// Validate checks kind and name.
func (e Entitlement) Validate() error {
	if !oneOf(e.Kind, EntitlementKinds) {
		return invalid("kind", "%q is not one of %s", e.Kind, strings.Join(EntitlementKinds, "|"))
	}
	if strings.TrimSpace(e.Name) == "" {
		return invalid("name", "required")
	}
	return nil
}

// ParseEntitlement splits "kind:name".
func ParseEntitlement(s string) (Entitlement, error) {
	kind, name, ok := strings.Cut(s, ":")
	if !ok {
		return Entitlement{}, invalid("entitlement", "%q is not of the form kind:name", s)
	}
	e := Entitlement{Kind: kind, Name: name}
	return e, e.Validate()
}

// GrantSource says what kind of decision produced a grant.
type GrantSource string

const (
	// FromRule grants follow from a policy rule and disappear when the person stops matching.
	FromRule GrantSource = "rule"
	// FromException grants are manual, approved, and expire by themselves.
	FromException GrantSource = "exception"
)

// Grant says a person should have access to an app (and optionally one entitlement in it),
// and why. Reason names the rule or the exception so "why" can always be answered.
type Grant struct {
	ID          string      `json:"id"`
	PersonID    string      `json:"person_id"`
	App         string      `json:"app"`                   // App.Name
	Entitlement string      `json:"entitlement,omitempty"` // "kind:name"; empty for the account itself
	Role        string      `json:"role,omitempty"`
	Source      GrantSource `json:"source"`
	Reason      string      `json:"reason"`
	Approver    string      `json:"approver,omitempty"`
	GrantedAt   time.Time   `json:"granted_at"`
	ExpiresAt   *time.Time  `json:"expires_at,omitempty"`
}

// Validate checks the grant on its own.
func (g Grant) Validate() error {
	switch {
	case g.PersonID == "":
		return invalid("person_id", "required")
	case g.App == "":
		return invalid("app", "required")
	case g.Source != FromRule && g.Source != FromException:
		return invalid("source", "%q is not one of rule|exception", g.Source)
	case strings.TrimSpace(g.Reason) == "":
		return invalid("reason", "required: every grant says why")
	case g.Source == FromException && g.Approver == "":
		return invalid("approver", "required for an exception")
	}
	if g.Entitlement != "" {
		if _, err := ParseEntitlement(g.Entitlement); err != nil {
			return err
		}
	}
	return nil
}

// AccountStatus is the state of an account as the app reports it.
type AccountStatus string

const (
	AccountActive   AccountStatus = "active"
	AccountDisabled AccountStatus = "disabled"
	AccountDeleted  AccountStatus = "deleted"
)

// Account is a person's account in one app as last seen there. PersonID is empty for an orphan
// (an account no person correlates to).
type Account struct {
	ID          string            `json:"id"`
	App         string            `json:"app"`
	ExternalID  string            `json:"external_id"` // the app's own ID; unique per app
	PersonID    string            `json:"person_id,omitempty"`
	Username    string            `json:"username,omitempty"`
	Email       string            `json:"email,omitempty"`
	Status      AccountStatus     `json:"status"`
	Memberships []string          `json:"memberships,omitempty"` // entitlement keys held in the app
	Attributes  map[string]string `json:"attributes,omitempty"`
	LastSeenAt  *time.Time        `json:"last_seen_at,omitempty"`
	Version     int64             `json:"version"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
}

// Validate checks the account on its own.
func (a Account) Validate() error {
	switch {
	case a.App == "":
		return invalid("app", "required")
	case a.ExternalID == "":
		return invalid("external_id", "required")
	case !oneOf(a.Status, []AccountStatus{AccountActive, AccountDisabled, AccountDeleted}):
		return invalid("status", "%q is not one of active|disabled|deleted", a.Status)
	}
	return nil
}
