package provision

import (
	"context"
	"fmt"
	"testing"

	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/connector/memconn"
	"github.com/tenure-id/tenure/pkg/identity"
)

// records is the directory's copy of the accounts, per app and app account ID.
type records map[string]map[string]identity.Account

func (rs records) of(app string) []identity.Account {
	var out []identity.Account
	for _, id := range sortedKeys(rs[app]) {
		out = append(out, rs[app][id])
	}
	return out
}

// applyPlan executes a plan against memconn apps in order and keeps the records, as the
// outbox does: a step after a create addresses the account the create made.
func applyPlan(t testing.TB, apps map[string]*memconn.App, plan Plan, rs records) {
	t.Helper()
	ctx := context.Background()
	for _, ap := range plan.Apps {
		created := map[string]string{} // person ID → account ID
		if rs[ap.App] == nil {
			rs[ap.App] = map[string]identity.Account{}
		}
		for _, s := range ap.Ops {
			op := s.Op
			if op.AccountID == "" && op.Kind != connector.OpCreate {
				op.AccountID = created[op.PersonID]
			}
			acc, err := apps[ap.App].Apply(ctx, op)
			if err != nil {
				t.Fatalf("apply %s %s for %s in %s: %v", op.Kind, op.AccountID, op.PersonID, ap.App, err)
			}
			if op.Kind == connector.OpCreate {
				created[op.PersonID] = acc.ID
			}
			var prev *identity.Account
			if r, ok := rs[ap.App][op.AccountID]; ok {
				prev = &r
			}
			r := RecordResult(prev, op, acc, now)
			rs[ap.App][r.ExternalID] = r
		}
	}
}

// TestComputeThenApplyThenComputeIsEmpty applies a plan with every kind of step to a strict
// in-memory app and plans again: the second plan must be empty, whatever the modes.
func TestComputeThenApplyThenComputeIsEmpty(t *testing.T) {
	for _, mode := range []string{"report", "enforce"} {
		t.Run(mode, func(t *testing.T) {
			ix := testPeople()
			rich, dinesh, jared := desire(ix, "p1", true, "team:web", "team:core"), desire(ix, "p2", true, "team:web"), desire(ix, "p5", false)
			app := memconn.New(fullTraits)
			// Richard's account was made by hand before Tenure (adopted by email, other title);
			// Dinesh's is Tenure's but someone renamed his title and added a team since;
			// Gilfoyle left ten days ago, Erlich forty; Jared is on leave; Monica moved away;
			// bighead matches no one.
			app.Put(with(holds(rich, "u1"), func(a *connector.Account) {
				a.ExternalID, a.UserName, a.Attributes["title"], a.Memberships = "", "rh", "Founder", []string{"team:core", "team:old"}
			}))
			tenureSet := holds(dinesh, "u2")
			app.Put(with(tenureSet, func(a *connector.Account) {
				a.Attributes["title"], a.Memberships = "Rockstar", []string{"team:web", "team:extra"}
			}))
			app.Put(holds(desire(ix, "p3", true), "u3"))
			app.Put(holds(desire(ix, "p4", false), "u4"))
			app.Put(holds(desire(ix, "p5", true), "u5"))
			app.Put(holds(desire(ix, "p6", true), "u6"))
			app.Put(connector.Account{ID: "u9", UserName: "bighead", Email: "bighead@hooli.test", Active: true})
			cfg := config.AppConfig{Orphans: mode, Drift: mode}
			in := AppInput{App: "slack", Traits: fullTraits, Config: cfg, Desired: []Desired{rich, dinesh, jared}, People: ix, Now: now,
				Known: []identity.Account{Record("slack", "p2", tenureSet, now)}}
			in.Actual = app.Snapshot()
			first := Compute(in)
			if len(first.Ops) < 6 {
				t.Fatalf("first plan has only %d steps: %+v", len(first.Ops), first.Ops)
			}
			rs := records{"slack": {"u2": in.Known[0]}}
			applyPlan(t, map[string]*memconn.App{"slack": app}, Plan{Apps: []AppPlan{first}}, rs)

			in.Actual = app.Snapshot()
			in.Known = rs.of("slack")
			again := Compute(in)
			if len(again.Ops) != 0 {
				t.Fatalf("plan after apply is not empty: %+v", again.Ops)
			}
			if mode == "enforce" && len(again.Drift) != 0 {
				t.Errorf("enforced drift is still there: %+v", again.Drift)
			}
			if mode == "report" && len(again.Drift) != 2 { // the title and the extra team stay reported
				t.Errorf("reported drift after apply: %+v", again.Drift)
			}
			byUser := map[string]connector.Account{}
			for _, a := range app.Snapshot() {
				byUser[a.UserName] = a
			}
			if len(byUser) != 6 {
				t.Errorf("accounts after apply: %+v", app.Snapshot())
			}
			if a := byUser["richard"]; a.ID != "u1" || a.ExternalID != "p1" || a.Attributes["title"] != "Engineer" || len(a.Memberships) != 2 {
				t.Errorf("richard's account was not adopted in place: %+v", a)
			}
			if _, ok := byUser["erlich"]; ok {
				t.Error("erlich's account outlived the grace period")
			}
			if byUser["gilfoyle"].Active || byUser["jared"].Active || byUser["monica"].Active || byUser["bighead"].Active != (mode == "report") {
				t.Errorf("active flags after apply: %+v", byUser)
			}
		})
	}
}

// TestRecordResultKeepsWhatTenureSet: after an op, the record changes by what the op set and
// nothing else, so drift the app reports alongside stays drift.
func TestRecordResultKeepsWhatTenureSet(t *testing.T) {
	ix := testPeople()
	rich := desire(ix, "p1", true, "team:web")
	prev := Record("slack", "p1", holds(rich, "u1"), now)
	// The app answers with the new email, and with a title someone changed there.
	result := with(holds(rich, "u1"), func(a *connector.Account) { a.Email, a.Attributes["title"] = "rh@pp.test", "CEO" })
	for _, tc := range []struct {
		op    connector.Op
		check func(r identity.Account) bool
	}{
		{connector.Op{Kind: connector.OpUpdate, App: "slack", PersonID: "p1", AccountID: "u1", Fields: []string{"email"}},
			func(r identity.Account) bool {
				return r.Email == "rh@pp.test" && r.Attributes["attributes.title"] == "Engineer"
			}},
		{connector.Op{Kind: connector.OpDisable, App: "slack", PersonID: "p1", AccountID: "u1"},
			func(r identity.Account) bool {
				return r.Status == identity.AccountDisabled && r.Email == "richard@pp.test"
			}},
		{connector.Op{Kind: connector.OpAddMember, App: "slack", PersonID: "p1", AccountID: "u1", Entitlement: "team:a"},
			func(r identity.Account) bool { return fmt.Sprint(r.Memberships) == "[team:a team:web]" }},
		{connector.Op{Kind: connector.OpRemoveMember, App: "slack", PersonID: "p1", AccountID: "u1", Entitlement: "team:web"},
			func(r identity.Account) bool { return len(r.Memberships) == 0 && len(prev.Memberships) == 1 }},
		{connector.Op{Kind: connector.OpDelete, App: "slack", PersonID: "p1", AccountID: "u1"},
			func(r identity.Account) bool { return r.Status == identity.AccountDeleted }},
	} {
		r := RecordResult(&prev, tc.op, result, now)
		if !tc.check(r) || r.ExternalID != "u1" || r.PersonID != "p1" {
			t.Errorf("%s: record %+v", tc.op.Kind, r)
		}
	}
	created := RecordResult(nil, connector.Op{Kind: connector.OpCreate, App: "slack", PersonID: "p1"}, result, now)
	if created.ExternalID != "u1" || created.Email != "rh@pp.test" || created.Attributes["attributes.title"] != "CEO" || created.Attributes["external_id"] != "p1" {
		t.Errorf("create: record %+v", created)
	}
}
