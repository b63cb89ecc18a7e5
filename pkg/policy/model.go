// Package policy loads the access policy (policies/*.yaml), validates it with errors that name
// file, line and field, and resolves a person to the grants they should have, each with the
// reasons that produced it.
//
// A policy directory holds any number of YAML files; each may declare any of:
//
//	org_units  the org paths the rules expect ("Pied Piper/Engineering"), so a typo in a rule
//	           is caught without a database
//	apps       the catalogue: apps, their connector type, entitlements ("kind:name") and roles
//	rules      when/unless conditions that grant or exclude apps and entitlements
//	conflicts  separation-of-duties sets: holding two of them needs an approved exception
//	tests      policy test cases: given a person, expect these grants
//
// The resolver is pure: everything a rule may look at comes from a View (the org tree, the
// manager chain, groups, exceptions and the time), so it never touches the database and can
// resolve a whole directory from one snapshot.
//
// The catalogue's source of truth is the policy files: every decision reads it from there.
// `tenure policy publish-apps` copies it into the store's Apps (audited) for the engines that
// read the directory; it never deletes an app the policy dropped.
package policy

import (
	"time"

	"github.com/tenure-id/tenure/pkg/identity"
)

// Pos is where something was declared.
type Pos struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

// Set is a loaded, validated policy directory.
type Set struct {
	Dir       string
	OrgUnits  []OrgUnitDecl
	Apps      []*App
	Rules     []*Rule
	Conflicts []*Conflict
	Tests     []*TestCase

	apps     map[string]*App
	orgUnits map[string]string // lowercase path → declared path
}

// App returns the catalogue entry with that name.
func (s *Set) App(name string) (*App, bool) {
	a, ok := s.apps[name]
	return a, ok
}

// OrgUnitDecl is one org path the policy expects to exist.
type OrgUnitDecl struct {
	Path string
	Pos
}

// App is one catalogue entry.
type App struct {
	Name         string
	Connector    string
	Description  string
	Entitlements []identity.Entitlement
	// Roles run from least to most privileged: when several rules give different roles in one
	// app, the most privileged wins, as in Okta and Entra ID app assignments.
	Roles []string
	Pos

	ents map[string]bool
}

// HasEntitlement reports whether key ("kind:name") is offered by the app.
func (a *App) HasEntitlement(key string) bool { return a.ents[key] }

func (a *App) roleRank(role string) int {
	for i, r := range a.Roles {
		if r == role {
			return i
		}
	}
	return -1
}

// Identity is the catalogue entry as the directory stores it.
func (a *App) Identity() identity.App {
	return identity.App{Name: a.Name, Connector: a.Connector, Entitlements: a.Entitlements}
}

// Rule grants or excludes access for the people its conditions match.
type Rule struct {
	Name        string
	Description string
	When        *Block // nil matches everyone (subject to the status default)
	Unless      *Block // nil excludes no one
	Grants      []GrantSpec
	Excludes    []ExcludeSpec
	Pos
}

// GrantSpec is what a rule grants in one app.
type GrantSpec struct {
	App          string
	Entitlements []string
	Role         string
	Attributes   []AttrTemplate
	Pos
	entPos []Pos
}

// AttrTemplate maps an account attribute to a template over the person, e.g.
// title: "${person.job_title}".
type AttrTemplate struct {
	Name     string
	Template string
	parts    []templatePart
}

// ExcludeSpec removes an app (and everything in it) or some of its entitlements.
type ExcludeSpec struct {
	App          string
	Entitlements []string // empty: the whole app
	Pos
	entPos []Pos
}

// Conflict is a separation-of-duties set: a person may hold at most one member unless an
// approved exception covers the others.
type Conflict struct {
	Name        string
	Description string
	Members     []string // "APP" (the account) or "APP:KIND:NAME"
	Pos
	memberPos []Pos
}

// Block is a conjunction of conditions.
type Block struct {
	Conds []Cond
	Pos
}

// CondKind names a condition.
type CondKind string

// Condition kinds, as written in policy files.
const (
	CondEmploymentType CondKind = "employment_type"
	CondStatus         CondKind = "status"
	CondOrgUnit        CondKind = "org_unit"       // the unit or anywhere below it
	CondOrgUnitExact   CondKind = "org_unit_exact" // directly in the unit
	CondJobTitle       CondKind = "job_title"      // case-insensitive, '*' wildcards
	CondJobCode        CondKind = "job_code"
	CondLocation       CondKind = "location"
	CondCountry        CondKind = "country"
	CondManager        CondKind = "manager"    // direct manager is one of
	CondReportsTo      CondKind = "reports_to" // anyone up the manager chain is one of
	CondIsManager      CondKind = "is_manager" // has direct reports
	CondGroup          CondKind = "group"
	CondAttribute      CondKind = "attributes" // one custom attribute; '*' wildcards
	CondAny            CondKind = "any"        // at least one block matches
	CondCEL            CondKind = "cel"        // a CEL expression over the person and now
)

// Cond is one compiled condition.
type Cond struct {
	Kind    CondKind
	Values  []string // as written
	AttrKey string   // for CondAttribute
	Bool    bool     // for CondIsManager
	Any     []*Block // for CondAny
	cel     *celCond // for CondCEL; Values holds the expression
	// Implicit marks the status default added to rules that do not state a status.
	Implicit bool
	Pos

	valPos []Pos
	keys   []string   // lowercase values
	globs  [][]string // values split at '*', lowercase
}

// TestCase is one policy test: a person, the time, exceptions, and the expected outcome.
type TestCase struct {
	Name       string
	Person     TestPerson
	Now        time.Time
	Exceptions []identity.Grant
	Expect     Expectation
	Pos
}

// TestPerson describes the person under test the way a rule sees them.
type TestPerson struct {
	identity.Person
	OrgUnit       string   // org path
	Managers      []string // employee IDs or usernames, nearest first
	DirectReports int
	Groups        []string
}

// Expectation is what a test case checks. Grants is the exact set ("APP" or
// "APP:KIND:NAME"; an entitlement implies its app's account); Blocked, when given, is the
// exact set of SoD-blocked grants; Roles checks the role per app.
type Expectation struct {
	Grants     []string
	Blocked    []string
	HasBlocked bool
	Roles      map[string]string
}
