package report

import (
	"slices"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/identity"
)

func person(id, emp string, st identity.Status) identity.Person {
	return identity.Person{ID: id, EmployeeID: emp, LegalFirstName: "P", LegalLastName: emp, Status: st}
}

func account(app, ext, personID string, st identity.AccountStatus, members ...string) identity.Account {
	return identity.Account{App: app, ExternalID: ext, PersonID: personID, Username: ext, Status: st, Memberships: members}
}

// find returns the rows for one employee (or orphan account) in one app.
func find(rows []Row, emp, app string) []Row {
	var out []Row
	for _, r := range rows {
		if r.EmployeeID == emp && r.App == app {
			out = append(out, r)
		}
	}
	return out
}

func TestAccessFindings(t *testing.T) {
	st := NewState(
		[]identity.Person{person("p1", "E1", identity.Active), person("p2", "E2", identity.Terminated),
			person("p3", "E3", identity.OnLeave), person("p4", "E4", identity.Active)},
		[]identity.Account{
			account("slack", "u1", "p1", identity.AccountActive, "group:eng"),
			account("github", "u1", "p1", identity.AccountActive, "team:web", "team:ops"),
			account("zendesk", "u1", "p1", identity.AccountActive),
			account("slack", "u2", "p2", identity.AccountActive),
			account("slack", "u3", "p3", identity.AccountDisabled),
			account("hubspot", "u4", "p4", identity.AccountDisabled),
			account("slack", "ghost", "", identity.AccountActive),
			account("slack", "gone", "p1", identity.AccountDeleted),
		}, nil)
	should := map[Key]Should{
		{"p1", "slack"}:   {Active: true, Reason: "rule everyone", Memberships: []string{"group:eng"}},
		{"p1", "github"}:  {Active: true, Reason: "rule engineers", Memberships: []string{"team:web"}},
		{"p1", "aws"}:     {Active: true, Reason: "rule engineers"},
		{"p3", "slack"}:   {Active: false, Reason: "rule everyone (on leave)"},
		{"p4", "hubspot"}: {Active: true, Reason: "rule sales"},
		{"p2", "slack"}:   {Active: false, Reason: "terminated"},
	}
	tests := []struct {
		emp, app, finding, shouldHave, detail string
	}{
		{"E1", "slack", OK, "yes", ""},
		{"E1", "github", ExcessMembership, "yes", "team:ops"},
		{"E1", "zendesk", NotJustified, "no", ""},
		{"E1", "aws", NotProvisioned, "yes", ""},
		{"E2", "slack", LeaverWithAccess, "no", ""},
		{"E3", "slack", OK, "no", ""},
		{"E4", "hubspot", NotProvisioned, "yes", ""},
		{"", "slack", Orphan, "no", ""},
	}
	rows := Access(st, should)
	if len(rows) != len(tests) {
		t.Fatalf("%d rows, want %d (a deleted account is no access): %+v", len(rows), len(tests), rows)
	}
	for _, tc := range tests {
		got := find(rows, tc.emp, tc.app)
		if len(got) != 1 || got[0].Finding != tc.finding || got[0].ShouldHave != tc.shouldHave || got[0].Entitlement != tc.detail {
			t.Errorf("%s in %s: %+v; want one row, finding %s, should_have %s, detail %q", tc.emp, tc.app, got, tc.finding, tc.shouldHave, tc.detail)
		}
	}
	if r := find(rows, "E1", "aws")[0]; r.AccountStatus != "none" || r.Reason != "rule engineers" || r.Name == "" {
		t.Errorf("access policy grants with no account: %+v", r)
	}
	if rows[len(rows)-1].EmployeeID != "" {
		t.Errorf("orphan accounts should come last: %+v", rows[len(rows)-1])
	}

	// Without the policy (a past date), only what the state itself shows is judged.
	for _, r := range Access(st, nil) {
		want := OK
		switch {
		case r.EmployeeID == "":
			want = Orphan
		case r.EmployeeID == "E2":
			want = LeaverWithAccess
		}
		if r.Finding != want || r.ShouldHave != "unknown" {
			t.Errorf("without policy, %s in %s: finding %s should_have %s; want %s, unknown", r.EmployeeID, r.App, r.Finding, r.ShouldHave, want)
		}
	}
}

func TestExceptions(t *testing.T) {
	at := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	past, future := at.Add(-time.Hour), at.Add(24*time.Hour)
	st := NewState(
		[]identity.Person{person("p1", "E1", identity.Active), person("p2", "E2", identity.Terminated)},
		[]identity.Account{account("github", "u1", "p1", identity.AccountActive, "team:sre"), account("slack", "u2", "p2", identity.AccountActive)},
		[]identity.Grant{
			{ID: "g1", PersonID: "p1", App: "github", Entitlement: "team:sre", Source: identity.FromException, Reason: "on-call cover", Approver: "cto", ExpiresAt: &future},
			{ID: "g2", PersonID: "p1", App: "aws", Source: identity.FromException, Reason: "migration", Approver: "cto", ExpiresAt: &past},
			{ID: "g3", PersonID: "p1", App: "slack", Source: identity.FromRule, Reason: "not an exception"},
		})
	should := map[Key]Should{{"p1", "github"}: {Active: true, Reason: "exception g1", Memberships: []string{"team:sre"}}}
	rows := Exceptions(st, should, at)
	got := map[string][]string{}
	for _, r := range rows {
		got[r.Finding] = append(got[r.Finding], r.EmployeeID+"/"+r.App)
	}
	want := map[string][]string{ApprovedException: {"E1/github"}, ExpiredException: {"E1/aws"}, LeaverWithAccess: {"E2/slack"}}
	for f, w := range want {
		if !slices.Equal(got[f], w) {
			t.Errorf("%s: %v; want %v", f, got[f], w)
		}
	}
	if len(rows) != 3 {
		t.Errorf("%d rows, want 3 (rule grants and rows as policy says are no exception): %+v", len(rows), rows)
	}
	g1 := find(rows, "E1", "github")[0]
	if g1.Approver != "cto" || g1.Reason != "on-call cover" || g1.Entitlement != "team:sre" || g1.AccountStatus != "active" || g1.ExpiresAt == nil {
		t.Errorf("approved exception row: %+v", g1)
	}
	if s := Summarize(rows); s[ApprovedException] != 1 || s[ExpiredException] != 1 || s[LeaverWithAccess] != 1 {
		t.Errorf("summary %v", s)
	}
}
