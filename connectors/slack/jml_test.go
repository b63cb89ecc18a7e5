package slack_test

import (
	"slices"
	"testing"
	"time"

	"github.com/tenure-id/tenure/connectors/internal/jmltest"
	"github.com/tenure-id/tenure/connectors/slack"
	"github.com/tenure-id/tenure/connectors/slack/slackfake"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/provision"
)

func TestJoinerMoverLeaver(t *testing.T) {
	fake, c := start(t, slackfake.Options{}, slack.Config{})
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	alice := provision.Person{ID: "p-alice", EmployeeID: "E1", Name: "Alice", UserName: "alice", Email: "alice@acme.com", Status: identity.Active}
	alex := provision.Person{ID: "p-alex", EmployeeID: "E2", Name: "Alexandria", UserName: "alexandria.montgomery-smithson", Email: "alex@acme.com", Status: identity.Active}
	bob := provision.Person{ID: "p-bob", EmployeeID: "E3", Name: "Bob", UserName: "bob", Email: "bob@acme.com", Status: identity.Active}
	people := []provision.Person{alice, alex, bob}

	// Joiners.
	jmltest.Converge(t, "slack", c, people, []provision.Desired{
		jmltest.Desire(alice, "Engineer", "group:engineering", "channel:general"),
		jmltest.Desire(alex, "Designer", "group:design", "channel:general"),
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
	jmltest.Converge(t, "slack", c, people, []provision.Desired{
		jmltest.Desire(alice, "Engineer", "group:engineering", "channel:general"),
		jmltest.Desire(alex, "Lead Designer", "group:engineering", "channel:design-crit"),
		jmltest.Desire(bob, "Analyst", "channel:general"),
	}, now)
	s = state()
	if a := s["p-alex"]; a.Title != "Lead Designer" || !slices.Equal(a.Groups, []string{"engineering", "channel-design-crit"}) || a.UserName != "alexandria.montgomer" {
		t.Fatalf("after the move: %+v", a)
	}

	// Leaver: Alice is terminated today (inside the grace period: disabled, not deleted).
	alice.Status, alice.Ended = identity.Terminated, now
	people = []provision.Person{alice, alex, bob}
	jmltest.Converge(t, "slack", c, people, []provision.Desired{
		jmltest.Desire(alex, "Lead Designer", "group:engineering", "channel:design-crit"),
		jmltest.Desire(bob, "Analyst", "channel:general"),
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
