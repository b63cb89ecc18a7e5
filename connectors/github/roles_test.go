package github_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/tenure-id/tenure/connectors/github"
	"github.com/tenure-id/tenure/connectors/github/githubfake"
	"github.com/tenure-id/tenure/pkg/connector"
)

// Policies speak of members and owners; GitHub's enterprise knows user and enterprise_owner.
// The connector translates both ways, so a plan compares the policy's role with the app's.
func TestPolicyRolesBecomeEnterpriseRoles(t *testing.T) {
	ctx := context.Background()
	fake, c, _ := start(t, githubfake.Options{Enterprise: "acme"}, github.Config{Enterprise: "acme"})
	acc := connector.Account{ExternalID: "p1", UserName: "gilfoyle", Email: "gilfoyle@acme.example",
		GivenName: "Bertram", FamilyName: "Gilfoyle", Active: true, Role: "owner"}
	created, err := c.Apply(ctx, connector.Op{Kind: connector.OpCreate, App: "github", Account: acc})
	if err != nil {
		t.Fatal(err)
	}
	if created.Role != "owner" {
		t.Errorf("created account role = %q, want the policy's %q", created.Role, "owner")
	}
	u, ok := fake.UserByExternalID("p1")
	if !ok || !slices.Equal(u.Roles, []string{"enterprise_owner"}) {
		t.Fatalf("GitHub holds roles %v, want [enterprise_owner]", u.Roles)
	}
	acc.Role = "member"
	if _, err := c.Apply(ctx, connector.Op{Kind: connector.OpUpdate, App: "github", AccountID: created.ID, Account: acc, Fields: []string{"role"}}); err != nil {
		t.Fatal(err)
	}
	if u, _ := fake.UserByExternalID("p1"); !slices.Equal(u.Roles, []string{"user"}) {
		t.Errorf("after update GitHub holds roles %v, want [user]", u.Roles)
	}
	all, err := c.List(ctx)
	if err != nil || len(all) != 1 || all[0].Role != "member" {
		t.Errorf("List = %+v, %v; want one account with role member", all, err)
	}
	found, err := c.Find(ctx, connector.Match{ExternalID: "p1"})
	if err != nil || found.Role != "member" {
		t.Errorf("Find = %+v, %v; want role member", found, err)
	}
}

func TestRoleOptionErrors(t *testing.T) {
	for _, tc := range []struct{ roles, want string }{
		{"member", "not POLICY_ROLE=GITHUB_ROLE"},
		{"member=admin", `GitHub role "admin" is not one of`},
		{"member=user,staff=user", `"user" is mapped twice`},
	} {
		_, err := github.New(github.Config{Enterprise: "acme", Token: "t", Roles: tc.roles})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "options.roles") {
			t.Errorf("roles %q: error %v, want one naming options.roles and %q", tc.roles, err, tc.want)
		}
	}
}
