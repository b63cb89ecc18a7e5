package report_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/report"
)

// A person's access over four days, written through the store (which audits every change),
// then read back as it stood at moments in between from the audit log alone.
func TestReplayRebuildsAccessAtAPastMoment(t *testing.T) {
	ctx := context.Background()
	day := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	now := day
	path := filepath.Join(t.TempDir(), "t.db")
	s, err := sqlstore.Open(ctx, "sqlite://"+path, sqlstore.Options{Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	org, err := s.CreateOrgUnit(ctx, identity.OrgUnit{Name: "Acme", Kind: identity.Organization})
	must(t, err)
	for _, app := range []string{"slack", "github"} {
		_, err := s.PutApp(ctx, identity.App{Name: app, Connector: "scim"})
		must(t, err)
	}
	p, err := s.CreatePerson(ctx, identity.Person{EmployeeID: "E7", LegalFirstName: "Dana", LegalLastName: "Reyes", Username: "dana",
		EmploymentType: identity.Employee, Status: identity.Active, OrgUnitID: org.ID})
	must(t, err)
	slack := identity.Account{App: "slack", ExternalID: "U7", PersonID: p.ID, Username: "dana", Status: identity.AccountActive, Memberships: []string{"group:eng"}}
	_, err = s.PutAccount(ctx, slack)
	must(t, err)
	expires := day.Add(72 * time.Hour)
	g, err := s.CreateGrant(ctx, identity.Grant{PersonID: p.ID, App: "github", Entitlement: "team:sre", Source: identity.FromException,
		Reason: "on-call cover", Approver: "cto", GrantedAt: day, ExpiresAt: &expires})
	must(t, err)

	now = day.Add(24 * time.Hour) // day 2: another group
	slack.Memberships = []string{"group:eng", "group:oncall"}
	_, err = s.PutAccount(ctx, slack)
	must(t, err)

	now = day.Add(48 * time.Hour) // day 3: terminated; the account is disabled an hour later
	_, err = s.UpdatePerson(ctx, p.ID, func(q *identity.Person) error { q.Status = identity.Terminated; return nil })
	must(t, err)
	now = now.Add(time.Hour)
	slack.Status = identity.AccountDisabled
	_, err = s.PutAccount(ctx, slack)
	must(t, err)

	now = day.Add(72 * time.Hour) // day 4: the exception is withdrawn, the account deleted
	must(t, s.DeleteGrant(ctx, g.ID))
	must(t, s.DeleteAccount(ctx, "slack", "U7"))

	type want struct {
		status   identity.Status
		slack    string // account status, "" for none
		members  []string
		grant    bool
		findings []string
	}
	tests := []struct {
		name string
		at   time.Time
		want want
	}{
		{"before the hire", day.Add(-time.Minute), want{}},
		{"day 1", day.Add(time.Hour), want{identity.Active, "active", []string{"group:eng"}, true, []string{report.OK}}},
		{"day 2", day.Add(25 * time.Hour), want{identity.Active, "active", []string{"group:eng", "group:oncall"}, true, []string{report.OK}}},
		{"day 3, between termination and disabling", day.Add(48*time.Hour + 30*time.Minute),
			want{identity.Terminated, "active", []string{"group:eng", "group:oncall"}, true, []string{report.LeaverWithAccess}}},
		{"day 3, disabled", day.Add(50 * time.Hour), want{identity.Terminated, "disabled", []string{"group:eng", "group:oncall"}, true, []string{report.OK}}},
		{"day 4", day.Add(73 * time.Hour), want{identity.Terminated, "", nil, false, nil}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, ev, err := report.Replay(ctx, s, tc.at)
			if err != nil {
				t.Fatal(err)
			}
			if !ev.Verified || ev.Records < 8 || !strings.HasPrefix(ev.Head, strconv.FormatInt(ev.Records, 10)+":") {
				t.Errorf("evidence %+v", ev)
			}
			got := st.People[p.ID]
			if got.Status != tc.want.status {
				t.Errorf("person status %q; want %q", got.Status, tc.want.status)
			}
			a, ok := st.Accounts["slack/U7"]
			if tc.want.slack == "" && ok || tc.want.slack != "" && (string(a.Status) != tc.want.slack || !slices.Equal(a.Memberships, tc.want.members)) {
				t.Errorf("slack account %+v (present %v); want %q %v", a, ok, tc.want.slack, tc.want.members)
			}
			if _, ok := st.Grants[g.ID]; ok != tc.want.grant {
				t.Errorf("exception present %v; want %v", ok, tc.want.grant)
			}
			var findings []string
			for _, r := range report.Access(st, nil) {
				findings = append(findings, r.Finding)
			}
			if !slices.Equal(findings, tc.want.findings) {
				t.Errorf("access findings %v; want %v", findings, tc.want.findings)
			}
		})
	}

	// A report is never built from a log that does not verify.
	raw, err := sql.Open("sqlite", path)
	must(t, err)
	defer raw.Close()
	_, err = raw.Exec(`UPDATE audit_records SET after = replace(after, 'group:oncall', 'group:none') WHERE action = 'account.update'`)
	must(t, err)
	if _, _, err := report.Replay(ctx, s, day.Add(25*time.Hour)); !errors.Is(err, audit.ErrBroken) {
		t.Fatalf("replay of an altered log: %v; want audit.ErrBroken", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
