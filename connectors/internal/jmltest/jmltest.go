// Package jmltest runs joiner, mover and leaver scenarios through an app connector the way the
// provisioning engine does: plan against what the app lists, apply, and plan again to find
// nothing left.
package jmltest

import (
	"context"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/provision"
)

// Converge plans against what the app lists, applies the plan the way the workers do (an
// account ID found for a step planned before its account existed), and checks that planning
// again finds nothing left to do.
func Converge(t *testing.T, app string, c connector.Connector, people []provision.Person, desired []provision.Desired, now time.Time) {
	t.Helper()
	ctx := context.Background()
	plan := func() provision.AppPlan {
		actual, err := c.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return provision.Compute(provision.AppInput{App: app, Traits: connector.TraitsOf(c), Config: config.AppConfig{},
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

// Desire is p's desired account in the app, with a title attribute (none when empty) and the
// given entitlements.
func Desire(p provision.Person, title string, ents ...string) provision.Desired {
	d := provision.Desired{PersonID: p.ID, Status: p.Status, Reason: "rule", Account: connector.Account{
		ExternalID: p.ID, UserName: p.UserName, Email: p.Email, GivenName: p.Name, FamilyName: "Example",
		DisplayName: p.Name + " Example", Active: true, Attributes: attrs(title)}}
	for _, e := range ents {
		d.Memberships = append(d.Memberships, provision.Membership{Entitlement: e, Reason: "rule"})
	}
	return d
}

func attrs(title string) map[string]string {
	if title == "" {
		return nil
	}
	return map[string]string{"title": title}
}
