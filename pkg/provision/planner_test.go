package provision

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/connector/memconn"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore/sqlstoretest"
	"github.com/tenure-id/tenure/pkg/hr"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/lifecycle"
	"github.com/tenure-id/tenure/pkg/policy"
)

var piedPiperDay = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

// piedPiper is the sample company in a real SQLite store under the shipped policy.
func piedPiper(t *testing.T) (*sqlstore.Store, *policy.Set) {
	t.Helper()
	ctx := context.Background()
	clock := func() time.Time { return piedPiperDay }
	s := sqlstoretest.SQLite(t, sqlstore.Options{Clock: clock})
	f, err := os.Open("../../testdata/hr/piedpiper.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	roster, err := hr.Parse(f, hr.CSV, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := lifecycle.New(s, lifecycle.Options{Clock: clock, Naming: lifecycle.Naming{Domain: "piedpiper.test"}, LeaveTime: 17 * time.Hour})
	if _, err := e.ImportRoster(ctx, roster, lifecycle.ImportOptions{Source: "roster:piedpiper.csv"}); err != nil {
		t.Fatal(err)
	}
	set, err := policy.LoadDir("../../policies")
	if err != nil {
		t.Fatal(err)
	}
	return s, set
}

// listOnly hides memconn's Find, as an app without a lookup API would: a method of the same
// name at a shallower depth shadows the promoted one.
type listOnly struct{ *memconn.App }

func (listOnly) Find() {}

// counted counts List calls, to tell a Find-based plan from a listing one.
type counted struct {
	*memconn.App
	lists atomic.Int32
}

func (c *counted) List(ctx context.Context) ([]connector.Account, error) {
	c.lists.Add(1)
	return c.App.List(ctx)
}

func lookup(t *testing.T, s *sqlstore.Store, key string) identity.Person {
	t.Helper()
	p, err := s.LookupPerson(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func appPlan(t *testing.T, plan Plan, app string) AppPlan {
	t.Helper()
	for _, ap := range plan.Apps {
		if ap.App == app {
			return ap
		}
	}
	t.Fatalf("no plan for %s in %+v", app, plan.Apps)
	return AppPlan{}
}

func stepsOf(ap AppPlan, personID string) []string {
	var out []string
	for _, s := range ap.Ops {
		if s.PersonID == personID {
			out = append(out, step(s))
		}
	}
	return out
}

func TestPlannerOnThePiedPiperDirectory(t *testing.T) {
	ctx := context.Background()
	s, set := piedPiper(t)
	google := memconn.New(connector.Traits{CanDisable: true, MembershipKinds: []string{"group"},
		Fields: []string{"user_name", "email", "given_name", "family_name", "display_name", "role", "attributes.title", "attributes.department", "attributes.cost_center"}})
	slack := memconn.New(connector.Traits{CanDisable: true, MembershipKinds: []string{"channel"}})
	github := memconn.New(connector.Traits{CanDisable: false, MembershipKinds: []string{"team"}, Fields: []string{"user_name", "email", "role"}})
	hubspot := memconn.New(connector.DefaultTraits)
	apps := map[string]*memconn.App{"google-workspace": google, "slack": slack, "github": github, "hubspot": hubspot}

	gilfoyle, dinesh, ceo := lookup(t, s, "PP003"), lookup(t, s, "PP004"), lookup(t, s, "PP001")
	// Gilfoyle made his own Slack account before Tenure; a bot account matches no one.
	slack.Put(connector.Account{UserName: "gilfoyle", Email: strings.ToUpper(gilfoyle.WorkEmail), Active: true})
	slack.Put(connector.Account{UserName: "son-of-anton", Email: "anton@piedpiper.test", Active: true})
	hubspot.FailNext(&connector.Error{Kind: connector.ErrUnavailable, Status: 503}, 1)

	if _, ok := any(listOnly{slack}).(connector.Finder); ok {
		t.Fatal("listOnly still finds")
	}
	googleConn := &counted{App: google}
	p := &Planner{Store: s, Policy: set, Clock: func() time.Time { return piedPiperDay },
		Connectors: map[string]connector.Connector{"google-workspace": googleConn, "slack": listOnly{slack}, "github": github, "hubspot": hubspot},
		Apps:       map[string]config.AppConfig{"google-workspace": {Attributes: map[string]string{"cost_center": "${person.cost_center}"}}}}
	plan, err := p.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ap := range plan.Apps {
		names = append(names, ap.App)
	}
	if !slices.Equal(names, []string{"github", "google-workspace", "hubspot", "slack"}) || !plan.GeneratedAt.Equal(piedPiperDay) {
		t.Fatalf("apps planned %v at %v", names, plan.GeneratedAt)
	}
	if hp := appPlan(t, plan, "hubspot"); !strings.Contains(hp.Error, "unavailable") || len(hp.Ops) != 0 {
		t.Errorf("hubspot failing to list: %+v", hp)
	}

	gp := appPlan(t, plan, "google-workspace")
	if got := stepsOf(gp, ceo.ID); len(got) < 2 || got[0] != "create "+ceo.ID || !slices.Contains(got, "add_member "+ceo.ID+" group:everyone") ||
		slices.Contains(got, "add_member "+ceo.ID+" licence:business-standard") {
		t.Errorf("CEO in google: %v", got)
	}
	create := gp.Ops[slices.IndexFunc(gp.Ops, func(s Step) bool { return s.PersonID == ceo.ID })]
	if a := create.Account; a.ExternalID != ceo.ID || a.UserName != ceo.Username || a.Email != ceo.WorkEmail || a.Role != "user" ||
		a.Attributes["title"] != "Chief Executive Officer" || a.Attributes["department"] != "Pied Piper" || a.Attributes["cost_center"] != "CC-100" ||
		!strings.Contains(create.Reason, "rule employees-google") {
		t.Errorf("CEO's google create: %+v (%s)", a, create.Reason)
	}
	for _, emp := range []string{"PP013", "PP040"} { // on leave, terminated: nothing created
		if got := stepsOf(gp, lookup(t, s, emp).ID); len(got) != 0 {
			t.Errorf("%s in google: %v", emp, got)
		}
	}
	sp := appPlan(t, plan, "slack")
	if got := stepsOf(sp, gilfoyle.ID); len(got) == 0 || got[0] != "update "+gilfoyle.ID+" u1 [external_id user_name given_name family_name display_name]" ||
		!strings.HasPrefix(sp.Ops[slices.IndexFunc(sp.Ops, func(s Step) bool { return s.PersonID == gilfoyle.ID })].Reason, "adopt existing account (matched by email)") {
		t.Errorf("gilfoyle's own slack account is not adopted: %v", got)
	}
	if len(sp.Orphans) != 1 || sp.Orphans[0].UserName != "son-of-anton" {
		t.Errorf("slack orphans %+v", sp.Orphans)
	}
	if got := stepsOf(appPlan(t, plan, "github"), dinesh.ID); !slices.Contains(got, "add_member "+dinesh.ID+" team:engineering") {
		t.Errorf("dinesh in github: %v", got)
	}

	// Apply, record as the outbox does, and plan again: nothing left to do.
	rs := records{}
	applyPlan(t, apps, plan, rs)
	for _, app := range []string{"google-workspace", "slack", "github"} {
		for _, r := range rs.of(app) {
			if _, err := s.PutAccount(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	again, err := p.Plan(ctx, "google-workspace", "slack", "github")
	if err != nil {
		t.Fatal(err)
	}
	if again.Count() != 0 || len(again.Apps) != 3 {
		t.Fatalf("plan after apply: %d steps: %+v", again.Count(), again.Apps)
	}

	// Someone retitles the CEO in Google: reported as drift, not changed (the default mode).
	acc, err := google.Find(ctx, connector.Match{ExternalID: ceo.ID})
	if err != nil {
		t.Fatal(err)
	}
	acc.Attributes["title"] = "Chief Hype Officer"
	google.Put(acc)
	drift, err := p.Plan(ctx, "google-workspace")
	if err != nil {
		t.Fatal(err)
	}
	if gp := appPlan(t, drift, "google-workspace"); len(gp.Ops) != 0 || len(gp.Drift) != 1 || gp.Drift[0].Have != "Chief Hype Officer" {
		t.Errorf("drift in google: %+v", gp)
	}

	// Dinesh leaves: planning him alone disables or deletes his accounts, urgently, and
	// touches no one else (slack goes through List, the others through Find).
	if _, err := s.UpdatePerson(ctx, dinesh.ID, func(p *identity.Person) error {
		p.Status, p.EndDate = identity.Terminated, &piedPiperDay
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	listed := googleConn.lists.Load()
	leaver, err := p.PlanPeople(ctx, []string{dinesh.ID})
	if err != nil {
		t.Fatal(err)
	}
	if googleConn.lists.Load() != listed {
		t.Error("planning one person listed google, whose connector can find accounts")
	}
	want := map[string][]string{
		"google-workspace": {"disable " + dinesh.ID + " " + accID(t, google, dinesh.ID) + " URGENT"},
		"slack":            {"disable " + dinesh.ID + " " + accID(t, slack, dinesh.ID) + " URGENT"},
		"github":           {"delete " + dinesh.ID + " " + accID(t, github, dinesh.ID) + " URGENT"},
		"hubspot":          nil,
	}
	for _, ap := range leaver.Apps {
		var got []string
		for _, s := range ap.Ops {
			got = append(got, step(s))
			if !strings.HasPrefix(s.Reason, "terminated on 2026-11-28") {
				t.Errorf("%s: reason %q", ap.App, s.Reason)
			}
		}
		if !slices.Equal(got, want[ap.App]) || len(ap.Orphans) != 0 {
			t.Errorf("%s for the leaver: %v, want %v (orphans %v)", ap.App, got, want[ap.App], ap.Orphans)
		}
	}

	if _, err := p.PlanPeople(ctx, []string{"nobody"}); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("PlanPeople(nobody) = %v", err)
	}
	if _, err := p.Plan(ctx, "myspace"); err == nil || !strings.Contains(err.Error(), `"myspace" is not in the policy catalogue`) {
		t.Errorf("Plan(myspace) = %v", err)
	}
	if pl, err := p.Plan(ctx, "zendesk"); err != nil || !strings.Contains(appPlan(t, pl, "zendesk").Error, "no connector configured") {
		t.Errorf("Plan(zendesk) = %+v, %v", pl, err)
	}
}

func accID(t *testing.T, app *memconn.App, personID string) string {
	t.Helper()
	a, err := app.Find(context.Background(), connector.Match{ExternalID: personID})
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}
