package slack_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/tenure-id/tenure/connectors/slack"
	"github.com/tenure-id/tenure/connectors/slack/slackfake"
	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/provision"
)

// converge plans against what the app lists, applies the plan the way the workers do (an
// account ID found for a step planned before its account existed), and checks that planning
// again finds nothing left to do.
func converge(t *testing.T, c connector.Connector, people []provision.Person, desired []provision.Desired, now time.Time) {
	t.Helper()
	ctx := context.Background()
	plan := func() provision.AppPlan {
		actual, err := c.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return provision.Compute(provision.AppInput{App: "slack", Traits: connector.TraitsOf(c), Config: config.AppConfig{},
			Desired: desired, People: provision.NewPeople(people), Actual: actual, Now: now})
	}
	for _, st := range plan().Ops {
		op := st.Op
		if op.AccountID == "" && op.Kind != connector.OpCreate {
			found, err := c.(connector.Finder).Find(ctx, connector.Match{ExternalID: op.Account.ExternalID})
			if err != nil {
				t.Fatalf("resolving %s for %s: %v", op.Account.ExternalID, op.Kind, err)
			}
			op.AccountID = found.ID
		}
		if _, err := c.Apply(ctx, op); err != nil {
			t.Fatalf("%s %s %s: %v", op.Kind, op.Account.UserName, op.Entitlement, err)
		}
	}
	if again := plan(); len(again.Ops) != 0 || len(again.Conflicts) != 0 {
		t.Fatalf("after applying, planning again gives %d ops (%+v) and conflicts %v: not converged", len(again.Ops), again.Ops, again.Conflicts)
	}
}

func desire(p provision.Person, title string, ents ...string) provision.Desired {
	d := provision.Desired{PersonID: p.ID, Status: p.Status, Reason: "rule", Account: connector.Account{
		ExternalID: p.ID, UserName: p.UserName, Email: p.Email, GivenName: p.Name, FamilyName: "Example",
		DisplayName: p.Name + " Example", Active: true, Attributes: map[string]string{"title": title}}}
	for _, e := range ents {
		d.Memberships = append(d.Memberships, provision.Membership{Entitlement: e, Reason: "rule"})
	}
	return d
}

func TestJoinerMoverLeaver(t *testing.T) {
	fake, c := start(t, slackfake.Options{}, slack.Config{})
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	alice := provision.Person{ID: "p-alice", EmployeeID: "E1", Name: "Alice", UserName: "alice", Email: "alice@acme.com", Status: identity.Active}
	alex := provision.Person{ID: "p-alex", EmployeeID: "E2", Name: "Alexandria", UserName: "alexandria.montgomery-smithson", Email: "alex@acme.com", Status: identity.Active}
	bob := provision.Person{ID: "p-bob", EmployeeID: "E3", Name: "Bob", UserName: "bob", Email: "bob@acme.com", Status: identity.Active}
	people := []provision.Person{alice, alex, bob}

	// Joiners.
	converge(t, c, people, []provision.Desired{
		desire(alice, "Engineer", "group:engineering", "channel:general"),
		desire(alex, "Designer", "group:design", "channel:general"),
	}, now)
	state := func() map[string]slackfake.User {
		out := map[string]slackfake.User{}
		for _, u := range fake.Users() {
			out[u.ExternalID] = u
		}
		return out
	}
	s := state()
	if len(s) != 2 || s["p-alex"].UserName != "alexandria.montgomer" || !slices.Equal(s["p-alice"].Groups, []string{"engineering", "channel-general"}) {
		t.Fatalf("after joiners: %+v", s)
	}

	// Movers: Alexandria changes team and title; Bob joins.
	converge(t, c, people, []provision.Desired{
		desire(alice, "Engineer", "group:engineering", "channel:general"),
		desire(alex, "Lead Designer", "group:engineering", "channel:design-crit"),
		desire(bob, "Analyst", "channel:general"),
	}, now)
	s = state()
	if a := s["p-alex"]; a.Title != "Lead Designer" || !slices.Equal(a.Groups, []string{"engineering", "channel-design-crit"}) || a.UserName != "alexandria.montgomer" {
		t.Fatalf("after the move: %+v", a)
	}

	// Leaver: Alice is terminated today (inside the grace period: disabled, not deleted).
	alice.Status, alice.Ended = identity.Terminated, now
	people = []provision.Person{alice, alex, bob}
	converge(t, c, people, []provision.Desired{
		desire(alex, "Lead Designer", "group:engineering", "channel:design-crit"),
		desire(bob, "Analyst", "channel:general"),
	}, now)
	s = state()
	if a := s["p-alice"]; a.Active || len(a.Groups) != 0 || !s["p-alex"].Active || !s["p-bob"].Active {
		t.Fatalf("after the leaver: %+v", s)
	}
	g := fake.Groups()
	if len(g) != 4 {
		t.Fatalf("user groups %+v, want engineering, channel-general, design, channel-design-crit", g)
	}
}
