// Package report builds the access reports auditors ask for: who has access to what and why
// (now, or as the audit log says it stood at a past moment), and the exceptions to policy.
//
// Every report carries its evidence: the audit log's head, verified, when the report was
// built. A past-dated report is rebuilt from the log itself, so it needs no history tables
// and cannot disagree with the log.
package report

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/tenure-id/tenure/pkg/identity"
)

// Names are the reports there are.
var Names = []string{"access", "exceptions"}

// Findings say how one row stands against policy.
const (
	OK                = "ok"
	NotJustified      = "not-justified"      // an enabled account no rule or exception calls for
	LeaverWithAccess  = "leaver-with-access" // a terminated person's enabled account
	Orphan            = "orphan"             // an account linked to nobody in the directory
	NotProvisioned    = "not-provisioned"    // policy grants access the app does not show yet
	ExcessMembership  = "excess-membership"  // memberships beyond what policy grants
	ApprovedException = "approved-exception" // access granted outside the rules, with an approver
	ExpiredException  = "expired-exception"  // an exception past its expiry, no longer honoured
)

// Row is one person's (or one orphan account's) standing in one app, or one exception grant.
type Row struct {
	PersonID      string     `json:"person_id,omitempty"`
	EmployeeID    string     `json:"employee_id,omitempty"`
	Name          string     `json:"name,omitempty"`
	Status        string     `json:"status,omitempty"` // the person's
	App           string     `json:"app"`
	Account       string     `json:"account,omitempty"` // username, else email, else the app's ID
	ExternalID    string     `json:"external_id,omitempty"`
	AccountStatus string     `json:"account_status"` // active|disabled|none
	Memberships   []string   `json:"memberships"`
	ShouldHave    string     `json:"should_have"` // yes|no; unknown for a past date (policy then is not recorded)
	Entitlement   string     `json:"entitlement,omitempty"`
	Finding       string     `json:"finding"`
	Reason        string     `json:"reason,omitempty"`
	Approver      string     `json:"approver,omitempty"`
	ExpiresAt     *time.Time `json:"expires_at,omitempty"`
}

// Evidence ties a report to the audit log it was built against.
type Evidence struct {
	Verified bool   `json:"verified"`
	Records  int64  `json:"records"`
	Head     string `json:"head"` // SEQ:HASH, for tenure audit verify --anchor
}

// Report is a built report.
type Report struct {
	Name        string         `json:"report"`
	GeneratedAt time.Time      `json:"generated_at"`
	AsOf        *time.Time     `json:"as_of,omitempty"`
	Evidence    Evidence       `json:"evidence"`
	Summary     map[string]int `json:"summary"` // rows per finding
	Notes       []string       `json:"notes,omitempty"`
	Rows        []Row          `json:"rows"`
}

// Should is what policy grants one person in one app, with the reason.
type Should struct {
	Active      bool
	Reason      string
	Memberships []string
}

// Key names one person's standing in one app.
type Key struct{ PersonID, App string }

// State is the directory as far as access goes, now or at a past moment.
type State struct {
	People   map[string]identity.Person
	Accounts map[string]identity.Account // by app + "/" + external ID
	Grants   map[string]identity.Grant   // exception grants by ID
	Silo     map[string]SiloEntry        // LDAP silo entries by source + "/" + key
	Groups   map[string]identity.Group   // by ID
	Members  map[string]map[string]bool  // group ID → person IDs
	// Skipped counts, by action, the changes to people, accounts or grants a replay did not
	// know how to apply.
	Skipped map[string]int
}

// NewState indexes what the store holds now.
func NewState(people []identity.Person, accounts []identity.Account, exceptions []identity.Grant) State {
	st := State{People: map[string]identity.Person{}, Accounts: map[string]identity.Account{}, Grants: map[string]identity.Grant{}}
	st.init()
	for _, p := range people {
		st.People[p.ID] = p
	}
	for _, a := range accounts {
		st.Accounts[a.App+"/"+a.ExternalID] = a
	}
	for _, g := range exceptions {
		if g.Source == identity.FromException {
			st.Grants[g.ID] = g
		}
	}
	return st
}

// Access lists every account a person or nobody holds, in the apps and in the LDAP silos,
// and, given should (nil for a past date), every access policy grants that no account shows
// yet.
func Access(st State, should map[Key]Should) []Row {
	rows := make([]Row, 0, len(st.Accounts))
	seen := make(map[Key]bool, len(st.Accounts))
	for _, a := range st.Accounts {
		if a.Status == identity.AccountDeleted {
			continue
		}
		r := Row{App: a.App, Account: accountName(a), ExternalID: a.ExternalID, AccountStatus: string(a.Status),
			Memberships: nonNil(a.Memberships), ShouldHave: "unknown"}
		p, linked := st.People[a.PersonID]
		if linked {
			fillPerson(&r, p)
		}
		k := Key{a.PersonID, a.App}
		seen[k] = true
		var want Should
		var known bool
		if should != nil {
			want, known = should[k]
			r.ShouldHave = yesNo(known && want.Active)
			r.Reason = want.Reason
		}
		active := a.Status == identity.AccountActive
		switch {
		case !linked:
			r.Finding = Orphan
		case active && p.Status == identity.Terminated:
			r.Finding = LeaverWithAccess
		case should == nil || !active && !(known && want.Active):
			r.Finding = OK
		case !known || !want.Active:
			r.Finding = NotJustified
		case !active:
			r.Finding = NotProvisioned
		default:
			r.Finding = OK
			if extra := excess(a.Memberships, want.Memberships); len(extra) > 0 {
				r.Finding = ExcessMembership
				r.Entitlement = strings.Join(extra, ", ")
			}
		}
		rows = append(rows, r)
	}
	for k, want := range should {
		if seen[k] || !want.Active {
			continue
		}
		r := Row{App: k.App, AccountStatus: "none", Memberships: nonNil(want.Memberships), ShouldHave: "yes",
			Finding: NotProvisioned, Reason: want.Reason}
		if p, ok := st.People[k.PersonID]; ok {
			fillPerson(&r, p)
		}
		rows = append(rows, r)
	}
	rows = append(rows, siloRows(st)...)
	sortRows(rows)
	return rows
}

// Exceptions lists the exception grants (approved, or expired and no longer honoured) and
// every access row that is not as policy says.
func Exceptions(st State, should map[Key]Should, at time.Time) []Row {
	var rows []Row
	held := map[Key]identity.Account{}
	for _, a := range st.Accounts {
		if a.PersonID != "" && a.Status != identity.AccountDeleted {
			held[Key{a.PersonID, a.App}] = a
		}
	}
	for _, g := range st.Grants {
		r := Row{App: g.App, Entitlement: g.Entitlement, Reason: g.Reason, Approver: g.Approver, ExpiresAt: g.ExpiresAt,
			Finding: ApprovedException, AccountStatus: "none", Memberships: []string{}}
		if should == nil {
			r.ShouldHave = "unknown"
		} else {
			// The exception may grant a team in an app the person should not be in at all
			// (before the start date, say): the account's standing is policy's answer.
			r.ShouldHave = yesNo(should[Key{g.PersonID, g.App}].Active)
		}
		if g.ExpiresAt != nil && !at.Before(*g.ExpiresAt) {
			r.Finding, r.ShouldHave = ExpiredException, "no"
		}
		if p, ok := st.People[g.PersonID]; ok {
			fillPerson(&r, p)
		} else {
			r.PersonID = g.PersonID
		}
		if a, ok := held[Key{g.PersonID, g.App}]; ok {
			r.Account, r.ExternalID, r.AccountStatus, r.Memberships = accountName(a), a.ExternalID, string(a.Status), nonNil(a.Memberships)
		}
		rows = append(rows, r)
	}
	for _, r := range Access(st, should) {
		if r.Finding != OK {
			rows = append(rows, r)
		}
	}
	sortRows(rows)
	return rows
}

// Summarize counts rows per finding.
func Summarize(rows []Row) map[string]int {
	out := map[string]int{}
	for _, r := range rows {
		out[r.Finding]++
	}
	return out
}

func fillPerson(r *Row, p identity.Person) {
	r.PersonID, r.EmployeeID, r.Name, r.Status = p.ID, p.EmployeeID, p.DisplayName(), string(p.Status)
}

func accountName(a identity.Account) string {
	return cmp.Or(a.Username, a.Email, a.ExternalID)
}

// excess lists what have holds beyond want.
func excess(have, want []string) []string {
	var out []string
	for _, m := range have {
		if !slices.Contains(want, m) {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return out
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Sorted(slices.Values(s))
}

// sortRows orders rows by person (employee ID; orphans last), then app, then finding, so a
// report reads the same every time it is built from the same state.
func sortRows(rows []Row) {
	slices.SortFunc(rows, func(a, b Row) int {
		if oa, ob := a.EmployeeID == "", b.EmployeeID == ""; oa != ob {
			if oa {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(a.EmployeeID, b.EmployeeID), cmp.Compare(a.App, b.App),
			cmp.Compare(a.Finding, b.Finding), cmp.Compare(a.Account, b.Account), cmp.Compare(a.Entitlement, b.Entitlement))
	})
}
