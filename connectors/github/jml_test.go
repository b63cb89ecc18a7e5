package github_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/tenure-id/tenure/connectors/github"
	"github.com/tenure-id/tenure/connectors/github/githubfake"
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
		return provision.Compute(provision.AppInput{App: "github", Traits: connector.TraitsOf(c), Config: config.AppConfig{},
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
		DisplayName: p.Name + " Example", Active: true, Attributes: attrs(title)}}
	for _, e := range ents {
		d.Memberships = append(d.Memberships, provision.Membership{Entitlement: e, Reason: "rule"})
	}
	return d
}

func TestJoinerMoverLeaver(t *testing.T) {
	fake, c, _ := enterprise(t, githubfake.Options{}, github.Config{})
	if err := fake.CreateTeam("acme-eng", "frontend", "Frontend"); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	mona := provision.Person{ID: "p-mona", EmployeeID: "E1", Name: "Mona", UserName: "mona.cat@acme.com", Email: "mona.cat@acme.com", Status: identity.Active}
	kit := provision.Person{ID: "p-kit", EmployeeID: "E2", Name: "Kit", UserName: "kit@acme.com", Email: "kit@acme.com", Status: identity.Active}
	people := []provision.Person{mona, kit}

	converge(t, c, people, []provision.Desired{
		desire(mona, "", "group:engineering", "team:backend"),
		desire(kit, "", "team:frontend"),
	}, now)
	team := func(slug string) []string {
		active, pending := fake.TeamMembers("acme-eng", slug)
		if len(pending) != 0 {
			t.Fatalf("team %s has pending members %v: managed users join the org directly", slug, pending)
		}
		return active
	}
	if !slices.Equal(team("backend"), []string{"mona-cat_acme"}) || !slices.Equal(team("frontend"), []string{"kit_acme"}) {
		t.Fatalf("after joiners: backend %v frontend %v", team("backend"), team("frontend"))
	}
	if g := fake.Groups(); len(g) != 1 || !slices.Equal(g[0].Members, []string{"mona.cat@acme.com"}) {
		t.Fatalf("groups after joiners: %+v", g)
	}

	// Mover: Mona moves from backend to frontend.
	converge(t, c, people, []provision.Desired{
		desire(mona, "", "group:engineering", "team:frontend"),
		desire(kit, "", "team:frontend"),
	}, now)
	if len(team("backend")) != 0 || !slices.Equal(team("frontend"), []string{"kit_acme", "mona-cat_acme"}) {
		t.Fatalf("after the move: backend %v frontend %v", team("backend"), team("frontend"))
	}

	// Leaver: Kit is terminated today: suspended, so out of every team, the identity kept.
	kit.Status, kit.Ended = identity.Terminated, now
	converge(t, c, []provision.Person{mona, kit}, []provision.Desired{
		desire(mona, "", "group:engineering", "team:frontend"),
	}, now)
	u, ok := fake.UserByExternalID("p-kit")
	if !ok || u.Active || !slices.Equal(team("frontend"), []string{"mona-cat_acme"}) {
		t.Fatalf("after the leaver: kit %+v (held %v), frontend %v", u, ok, team("frontend"))
	}
}

func attrs(title string) map[string]string {
	if title == "" {
		return nil
	}
	return map[string]string{"title": title}
}
