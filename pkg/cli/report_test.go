package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/report"
)

// reportCompany is the seeded company with accounts in its apps written at known times: on
// day 1 Gilfoyle's GitHub account (as policy says, plus a team it does not), a GitHub account
// for the marketing contractor and one linked to nobody; on day 2 Gilfoyle leaves but keeps
// his account.
type reportCompany struct {
	env        map[string]string
	day1, day2 time.Time
	now        time.Time
}

func newReportCompany(t *testing.T) reportCompany {
	t.Helper()
	env := accessEnv(t)
	// After the seeding (stamped with the real clock), so the people exist on both days.
	c := reportCompany{env: env, day1: time.Now().UTC().Add(24 * time.Hour).Truncate(time.Hour)}
	c.day2, c.now = c.day1.Add(24*time.Hour), c.day1.Add(72*time.Hour)
	at := c.day1
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, env["TENURE_DB"], sqlstore.Options{Clock: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	lookup := func(key string) identity.Person {
		p, err := s.LookupPerson(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	gilfoyle, jian := lookup("gilfoyle"), lookup("C001")
	for _, a := range []identity.Account{
		{App: "github", ExternalID: "1001", PersonID: gilfoyle.ID, Username: "gilfoyle", Status: identity.AccountActive,
			Memberships: []string{"team:engineering", "team:owners"}},
		{App: "github", ExternalID: "1002", PersonID: jian.ID, Username: "jian-yang", Status: identity.AccountActive},
		{App: "github", ExternalID: "1003", Username: "<script>ghost</script>", Status: identity.AccountActive},
	} {
		if _, err := s.PutAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	// The finance silo (an acquisition's directory): Gilfoyle's entry, linked by rule, and an
	// entry no rule could place. accessEnv put the CEO in its accounts-payable group.
	if err := s.PutLDAPEntries(ctx, []directory.LDAPEntry{
		{Source: "finance", Key: "k-gil", DN: "uid=bgilfoyle,ou=people,dc=finance", Username: "bgilfoyle", Status: directory.LDAPEntryActive,
			PersonID: gilfoyle.ID, Link: directory.LinkAuto, LinkRule: "email"},
		{Source: "finance", Key: "k-ceo", DN: "uid=lbream,ou=people,dc=finance", Username: "lbream", Status: directory.LDAPEntryActive,
			PersonID: lookup("laurie.bream").ID, Link: directory.LinkManual, LinkRule: "manual"},
		{Source: "finance", Key: "k-old", DN: "uid=temp01,ou=people,dc=finance", Username: "temp01", Status: directory.LDAPEntryActive,
			Link: directory.LinkUnmatched},
	}); err != nil {
		t.Fatal(err)
	}
	at = c.day2
	if _, err := s.UpdatePerson(ctx, gilfoyle.ID, func(p *identity.Person) error { p.Status = identity.Terminated; return nil }); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c reportCompany) report(t *testing.T, args ...string) report.Report {
	t.Helper()
	r := runAt(t, c.now, c.env, append([]string{"report"}, append(args, "--format", "json")...)...)
	var rep report.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); r.code != 0 || err != nil {
		t.Fatalf("report %v: exit %d, %v\n%s\n%s", args, r.code, err, r.stdout, r.stderr)
	}
	return rep
}

// findingOf is the finding of the row for one account (by username) or "" when there is none.
func findingOf(rep report.Report, app, account string) string {
	for _, r := range rep.Rows {
		if r.App == app && r.Account == account {
			return r.Finding
		}
	}
	return ""
}

func TestReportAccessNowAndAsOf(t *testing.T) {
	c := newReportCompany(t)
	now := c.report(t, "access")
	want := map[string]string{"github/gilfoyle": report.LeaverWithAccess, "github/jian-yang": report.NotJustified,
		"github/<script>ghost</script>": report.Orphan, "ldap:finance/bgilfoyle": report.LeaverWithAccess, "ldap:finance/temp01": report.Orphan, "ldap:finance/lbream": report.OK}
	for key, f := range want {
		app, acc, _ := strings.Cut(key, "/")
		if got := findingOf(now, app, acc); got != f {
			t.Errorf("now, %s %s: finding %q; want %q", app, acc, got, f)
		}
	}
	for _, r := range now.Rows {
		if r.App == "ldap:finance" && r.Account == "lbream" && (r.Finding != report.OK || strings.Join(r.Memberships, ",") != "group:accounts-payable") {
			t.Errorf("the CEO's finance silo account: %+v; want ok with her silo group", r)
		}
	}
	if now.AsOf != nil || !now.Evidence.Verified || now.Evidence.Records == 0 || now.Summary[report.NotProvisioned] == 0 {
		t.Errorf("report of now: as_of %v, evidence %+v, summary %v (the CEO's birthright apps have no accounts)", now.AsOf, now.Evidence, now.Summary)
	}
	verify := runAt(t, c.now, c.env, "audit", "verify")
	if !strings.HasSuffix(verify.stdout, now.Evidence.Head+"\n") {
		t.Errorf("the report's evidence head %s is not the verified head:\n%s", now.Evidence.Head, verify.stdout)
	}

	// Who had what: on day 1 Gilfoyle was still employed, his account as policy wants apart
	// from the extra team, which only the report of now (which knows the policy) can see.
	day1 := c.report(t, "access", "--as-of", c.day1.Add(time.Hour).Format(time.RFC3339))
	if day1.AsOf == nil || !day1.AsOf.Equal(c.day1.Add(time.Hour)) || len(day1.Notes) == 0 {
		t.Fatalf("as_of %v, notes %v", day1.AsOf, day1.Notes)
	}
	for key, f := range map[string]string{"github/gilfoyle": report.OK, "github/jian-yang": report.OK, "github/<script>ghost</script>": report.Orphan,
		"ldap:finance/bgilfoyle": report.OK, "ldap:finance/temp01": report.Orphan} {
		app, acc, _ := strings.Cut(key, "/")
		if got := findingOf(day1, app, acc); got != f {
			t.Errorf("day 1, %s %s: finding %q; want %q", app, acc, got, f)
		}
	}
	for _, r := range day1.Rows {
		if r.App == "ldap:finance" && r.Account == "lbream" && strings.Join(r.Memberships, ",") != "group:accounts-payable" {
			t.Errorf("day 1, the CEO's silo groups from the log: %v", r.Memberships)
		}
		if r.ShouldHave != "unknown" {
			t.Errorf("a past-dated row claims to know the policy then: %+v", r)
		}
	}
	// A date means the end of that day: day 2 includes the termination.
	day2 := c.report(t, "access", "--as-of", c.day2.Format(time.DateOnly))
	for _, app := range []string{"github", "ldap:finance"} {
		if got := findingOf(day2, app, map[string]string{"github": "gilfoyle", "ldap:finance": "bgilfoyle"}[app]); got != report.LeaverWithAccess {
			t.Errorf("day 2: gilfoyle's finding in %s %q; want %q", app, got, report.LeaverWithAccess)
		}
	}
	before := c.report(t, "access", "--as-of", c.day1.Add(-time.Hour).Format(time.RFC3339))
	if len(before.Rows) != 0 {
		t.Errorf("before any account existed: %d rows", len(before.Rows))
	}

	for _, bad := range [][]string{{"access", "--as-of", "last week"}, {"access", "--as-of", c.now.Add(time.Hour).Format(time.RFC3339)},
		{"access", "--format", "pdf"}, {"who"}, {}} {
		if r := runAt(t, c.now, c.env, append([]string{"report"}, bad...)...); r.code != 2 {
			t.Errorf("report %v: exit %d %s", bad, r.code, r.stderr)
		}
	}
}

func TestReportExceptionsAndFormats(t *testing.T) {
	c := newReportCompany(t)
	if r := runAt(t, c.now, c.env, "access", "grant", "C001", "github:team:infrastructure", "--reason", "incident cover",
		"--approver", "laurie.bream", "--expires", c.now.Add(48*time.Hour).Format(time.DateOnly)); r.code != 0 {
		t.Fatalf("access grant: exit %d %s", r.code, r.stderr)
	}
	rep := c.report(t, "exceptions")
	kinds := map[string]int{}
	for _, r := range rep.Rows {
		kinds[r.Finding]++
		if r.Finding == report.OK {
			t.Errorf("an ok row among the exceptions: %+v", r)
		}
		if r.Finding == report.ApprovedException && (r.EmployeeID != "C001" || r.Approver != "E001" || r.Entitlement != "team:infrastructure" || r.ShouldHave != "no") {
			t.Errorf("exception row %+v", r)
		}
	}
	// Gilfoyle leaves with his GitHub and finance silo accounts; the orphans are one in GitHub
	// and one in the silo.
	if kinds[report.ApprovedException] != 1 || kinds[report.LeaverWithAccess] != 2 || kinds[report.Orphan] != 2 || kinds[report.NotJustified] != 1 {
		t.Errorf("exceptions: %v", kinds)
	}

	r := runAt(t, c.now, c.env, "report", "exceptions", "--format", "csv")
	cr := csv.NewReader(strings.NewReader(r.stdout))
	cr.Comment = '#'
	rows, err := cr.ReadAll()
	if r.code != 0 || err != nil || len(rows) != len(rep.Rows)+1 || strings.Join(rows[0], ",") != strings.Join(report.Columns, ",") ||
		!strings.Contains(r.stdout, "# audit log verified: ") {
		t.Fatalf("csv: exit %d, %v, %d rows\n%s", r.code, err, len(rows), r.stdout)
	}

	file := filepath.Join(t.TempDir(), "access.html")
	if r := runAt(t, c.now, c.env, "report", "access", "--format", "html", "--file", file); r.code != 0 {
		t.Fatalf("html: exit %d %s", r.code, r.stderr)
	}
	page, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	if strings.Contains(html, "<script>") || !strings.Contains(html, "&lt;script&gt;ghost&lt;/script&gt;") ||
		!strings.Contains(html, `<td class="finding">leaver-with-access</td>`) || !strings.Contains(html, rep.Evidence.Head) {
		t.Errorf("html report: escaped account, findings and evidence missing:\n%s", html)
	}

	table := runAt(t, c.now, c.env, "report", "exceptions")
	if table.code != 0 || !strings.Contains(table.stdout, "FINDING") || !strings.Contains(table.stdout, "(approved by E001)") ||
		!strings.Contains(table.stdout, "audit log verified") {
		t.Errorf("table: exit %d\n%s", table.code, table.stdout)
	}
}
