package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/identity"
)

// runAt is run with the clock stopped at now, for exceptions that expire and dated rosters.
func runAt(t *testing.T, now time.Time, vars map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := runWithClock(context.Background(), args, &out, &errb, func(k string) string { return vars[k] }, func() time.Time { return now })
	return result{code, out.String(), errb.String()}
}

// accessEnv seeds the sample company and puts the CEO in the finance silo's accounts-payable
// group, so the shipped policy's SoD conflict applies to her.
func accessEnv(t *testing.T) map[string]string {
	t.Helper()
	db := tempDB(t)
	seed(t, db)
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, db, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	g, err := s.CreateGroup(ctx, identity.Group{Name: "accounts-payable", Source: "ldap:finance"})
	if err != nil {
		t.Fatal(err)
	}
	ceo, err := s.LookupPerson(ctx, "laurie.bream")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddGroupMember(ctx, g.ID, ceo.ID); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"TENURE_DB": db, "TENURE_POLICIES": shippedPolicies, "TENURE_ACTOR": "it-admin"}
}

func TestAccessWhyShowsTheChain(t *testing.T) {
	env := accessEnv(t)
	r := run(t, env, "access", "why", "gilfoyle", "github")
	for _, want := range []string{
		"Bertram Gilfoyle (E002) gets github:",
		"github (role member)  <- rule engineering-github",
		"github:team:engineering  <- rule engineering-github",
		"org unit is Pied Piper/Engineering or below",
		"Pied Piper/Engineering/Platform, which is below Pied Piper/Engineering",
		"github-owners",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("why output lacks %q", want)
		}
	}
	if r.code != 0 || t.Failed() {
		t.Fatalf("access why gilfoyle github:\n%s\nstderr %q", r.stdout, r.stderr)
	}

	r = run(t, env, "access", "why", "gilfoyle", "github", "-o", "json")
	var ex struct {
		Rules []struct {
			Rule       string `json:"rule"`
			Matched    bool   `json:"matched"`
			Conditions []struct {
				Condition string `json:"condition"`
				Person    string `json:"person"`
				Matched   bool   `json:"matched"`
			} `json:"conditions"`
		} `json:"rules"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &ex); err != nil {
		t.Fatal(err)
	}
	matched := map[string]bool{}
	for _, rule := range ex.Rules {
		matched[rule.Rule] = rule.Matched
	}
	if !matched["engineering-github"] || matched["github-owners"] || matched["engineering-contractors-github"] {
		t.Fatalf("rules matched: %v", matched)
	}

	r = run(t, env, "access", "why", "C001", "github")
	if r.code != 0 || !strings.Contains(r.stdout, "Jian Yang (C001) does not get github") {
		t.Fatalf("why for a pre-hire contractor: %+v", r)
	}
	if r := run(t, env, "access", "why", "gilfoyle", "gitlab"); r.code != 1 || !strings.Contains(r.stderr, `app "gitlab" is not in the policy catalogue`) {
		t.Fatalf("unknown app: %+v", r)
	}
	if r := run(t, env, "access", "why", "nobody", "github"); r.code != 1 || !strings.Contains(r.stderr, "not found") {
		t.Fatalf("unknown person: %+v", r)
	}
}

type listedAccess struct {
	Grants []struct {
		App         string `json:"app"`
		Entitlement string `json:"entitlement"`
		Reasons     []struct {
			Rule      string `json:"rule"`
			Exception *struct {
				ID        string `json:"id"`
				Approver  string `json:"approver"`
				Overrides string `json:"overrides_conflict"`
			} `json:"exception"`
		} `json:"reasons"`
	} `json:"grants"`
	Blocked []struct {
		App, Entitlement, Conflict string
	} `json:"blocked"`
}

func (l listedAccess) has(app, ent string) bool {
	for _, g := range l.Grants {
		if g.App == app && g.Entitlement == ent {
			return true
		}
	}
	return false
}

func listAt(t *testing.T, now time.Time, env map[string]string, person string) listedAccess {
	t.Helper()
	r := runAt(t, now, env, "access", "list", person, "-o", "json")
	var l listedAccess
	if err := json.Unmarshal([]byte(r.stdout), &l); err != nil || r.code != 0 {
		t.Fatalf("access list %s: %v %+v", person, err, r)
	}
	return l
}

func TestExceptionOverridesSoDUntilItExpires(t *testing.T) {
	env := accessEnv(t)
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

	l := listAt(t, now, env, "laurie.bream")
	if !l.has("expenses", "role:approver") || l.has("expenses", "role:payer") ||
		len(l.Blocked) != 1 || l.Blocked[0].Conflict != "expenses-approve-vs-pay" {
		t.Fatalf("before the exception: %+v", l)
	}
	r := runAt(t, now, env, "access", "list", "laurie.bream")
	if !strings.Contains(r.stdout, "blocked") || !strings.Contains(r.stdout, "conflict expenses-approve-vs-pay with expenses:role:approver") {
		t.Fatalf("table list:\n%s", r.stdout)
	}

	bad := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"no reason", []string{"--approver", "gilfoyle", "--expires", "2026-12-31"}, 2, "--reason is required"},
		{"no expiry", []string{"--reason", "x", "--approver", "gilfoyle"}, 2, "--expires DATE is required"},
		{"past expiry", []string{"--reason", "x", "--approver", "gilfoyle", "--expires", "2026-11-27"}, 2, "is in the past"},
		{"self approval", []string{"--reason", "x", "--approver", "E001", "--expires", "2026-12-31"}, 2, "cannot approve their own exception"},
		{"unknown entitlement", []string{"--reason", "x", "--approver", "gilfoyle", "--expires", "2026-12-31"}, 2, "offers no entitlement"},
	}
	for _, b := range bad {
		target := "expenses:role:payer"
		if b.name == "unknown entitlement" {
			target = "expenses:role:auditor"
		}
		r := runAt(t, now, env, append([]string{"access", "grant", "laurie.bream", target}, b.args...)...)
		if r.code != b.code || !strings.Contains(r.stderr, b.err) {
			t.Errorf("%s: exit %d stderr %q, want %d %q", b.name, r.code, r.stderr, b.code, b.err)
		}
	}

	r = runAt(t, now, env, "access", "grant", "laurie.bream", "expenses:role:payer",
		"--reason", "quarter close", "--approver", "gilfoyle", "--expires", "2026-12-31")
	if r.code != 0 || !strings.Contains(r.stdout, "overrides SoD conflict expenses-approve-vs-pay") {
		t.Fatalf("grant: %+v", r)
	}
	if r := runAt(t, now, env, "access", "grant", "laurie.bream", "expenses:role:payer",
		"--reason", "again", "--approver", "gilfoyle", "--expires", "2026-12-31"); r.code != 1 || !strings.Contains(r.stderr, "revoke it first") {
		t.Fatalf("duplicate exception: %+v", r)
	}

	l = listAt(t, time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC), env, "laurie.bream")
	if !l.has("expenses", "role:payer") || len(l.Blocked) != 0 {
		t.Fatalf("on the last day: %+v", l)
	}
	for _, g := range l.Grants {
		if g.Entitlement != "role:payer" {
			continue
		}
		// The rule still asks for it; the exception is what lets it past the conflict.
		if len(g.Reasons) != 2 || g.Reasons[0].Rule != "accounts-payable" || g.Reasons[1].Exception == nil ||
			g.Reasons[1].Exception.Approver != "E002" || g.Reasons[1].Exception.Overrides != "expenses-approve-vs-pay" {
			t.Fatalf("payer reasons: %+v", g.Reasons)
		}
	}
	l = listAt(t, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), env, "laurie.bream")
	if l.has("expenses", "role:payer") || len(l.Blocked) != 1 {
		t.Fatalf("after expiry: %+v", l)
	}

	r = runAt(t, now, env, "access", "revoke", "laurie.bream", "expenses:role:payer", "--reason", "close finished early")
	if r.code != 0 || !strings.Contains(r.stdout, "expenses:role:payer") {
		t.Fatalf("revoke: %+v", r)
	}
	if l := listAt(t, now, env, "laurie.bream"); l.has("expenses", "role:payer") {
		t.Fatalf("after revoke: %+v", l)
	}
	if r := runAt(t, now, env, "access", "revoke", "laurie.bream", "expenses:role:payer", "--reason", "x"); r.code != 1 || !strings.Contains(r.stderr, "not found") {
		t.Fatalf("second revoke: %+v", r)
	}
	assertAudited(t, env["TENURE_DB"])

	r = runAt(t, now, env, "access", "grant", "gilfoyle", "github:team:engineering",
		"--reason", "keep through the reorg", "--approver", "laurie.bream", "--expires", "2027-01-31")
	if r.code != 0 || !strings.Contains(r.stdout, "already granted by rule engineering-github") {
		t.Fatalf("exception for something a rule grants: %+v", r)
	}
}

// assertAudited checks the exception's creation and revocation are in the audit log with the
// actor and reasons given on the command line.
func assertAudited(t *testing.T, db string) {
	t.Helper()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, db, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recs, err := s.AuditRecords(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, r := range recs {
		if strings.HasPrefix(r.Action, "grant.") {
			seen = append(seen, r.Action+"|"+r.Actor+"|"+r.Reason)
		}
	}
	want := "grant.create|cli:it-admin|quarter close,grant.delete|cli:it-admin|close finished early"
	if strings.Join(seen, ",") != want {
		t.Fatalf("audit grant records %v, want %s", seen, want)
	}
	left, err := s.ListGrants(ctx, directory.GrantFilter{Source: identity.FromException})
	if err != nil || len(left) != 0 {
		t.Fatalf("exceptions left: %v %v", left, err)
	}
}
