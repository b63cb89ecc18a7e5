package github_test

import (
	"slices"
	"testing"
	"time"

	"github.com/tenure-id/tenure/connectors/github"
	"github.com/tenure-id/tenure/connectors/github/githubfake"
	"github.com/tenure-id/tenure/connectors/internal/jmltest"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/provision"
)

func TestJoinerMoverLeaver(t *testing.T) {
	fake, c, _ := enterprise(t, githubfake.Options{}, github.Config{})
	if err := fake.CreateTeam("acme-eng", "frontend", "Frontend"); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	mona := provision.Person{ID: "p-mona", EmployeeID: "E1", Name: "Mona", UserName: "mona.cat@acme.com", Email: "mona.cat@acme.com", Status: identity.Active}
	kit := provision.Person{ID: "p-kit", EmployeeID: "E2", Name: "Kit", UserName: "kit@acme.com", Email: "kit@acme.com", Status: identity.Active}
	people := []provision.Person{mona, kit}

	jmltest.Converge(t, "github", c, people, []provision.Desired{
		jmltest.Desire(mona, "", "group:engineering", "team:backend"),
		jmltest.Desire(kit, "", "team:frontend"),
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
	jmltest.Converge(t, "github", c, people, []provision.Desired{
		jmltest.Desire(mona, "", "group:engineering", "team:frontend"),
		jmltest.Desire(kit, "", "team:frontend"),
	}, now)
	if len(team("backend")) != 0 || !slices.Equal(team("frontend"), []string{"kit_acme", "mona-cat_acme"}) {
		t.Fatalf("after the move: backend %v frontend %v", team("backend"), team("frontend"))
	}

	// Leaver: Kit is terminated today: suspended, so out of every team, the identity kept.
	kit.Status, kit.Ended = identity.Terminated, now
	jmltest.Converge(t, "github", c, []provision.Person{mona, kit}, []provision.Desired{
		jmltest.Desire(mona, "", "group:engineering", "team:frontend"),
	}, now)
	u, ok := fake.UserByExternalID("p-kit")
	if !ok || u.Active || !slices.Equal(team("frontend"), []string{"mona-cat_acme"}) {
		t.Fatalf("after the leaver: kit %+v (held %v), frontend %v", u, ok, team("frontend"))
	}
}
