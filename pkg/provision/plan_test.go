package provision

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/identity"
)

var now = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// Three people: Richard (p1, E1), Dinesh (p2, E2), Gilfoyle (p3, E3, terminated 10 days ago),
// Erlich (p4, E4, terminated 40 days ago), Jared (p5, E5, on leave), Monica (p6, E6, moved out
// of the app's rules).
func testPeople() *People {
	ended := func(days int) time.Time { return now.AddDate(0, 0, -days) }
	return NewPeople([]Person{
		{ID: "p1", EmployeeID: "E1", Name: "Richard Hendricks", UserName: "richard", Email: "richard@pp.test", Status: identity.Active},
		{ID: "p2", EmployeeID: "E2", Name: "Dinesh Chugtai", UserName: "dinesh", Email: "dinesh@pp.test", Status: identity.Active},
		{ID: "p3", EmployeeID: "E3", Name: "Bertram Gilfoyle", UserName: "gilfoyle", Email: "gilfoyle@pp.test", Status: identity.Terminated, Ended: ended(10)},
		{ID: "p4", EmployeeID: "E4", Name: "Erlich Bachman", UserName: "erlich", Email: "erlich@pp.test", Status: identity.Terminated, Ended: ended(40)},
		{ID: "p5", EmployeeID: "E5", Name: "Jared Dunn", UserName: "jared", Email: "jared@pp.test", Status: identity.OnLeave},
		{ID: "p6", EmployeeID: "E6", Name: "Monica Hall", UserName: "monica", Email: "monica@pp.test", Status: identity.Active},
	})
}

// desire is the account the person should hold, with a title attribute and memberships.
func desire(ix *People, id string, active bool, ents ...string) Desired {
	p := ix.byID[id]
	first, last, _ := strings.Cut(p.Name, " ")
	d := Desired{PersonID: id, Status: p.Status, Reason: "rule everyone", Account: connector.Account{ExternalID: id, UserName: p.UserName,
		Email: p.Email, GivenName: first, FamilyName: last, DisplayName: p.Name, Active: active, Role: "member",
		Attributes: map[string]string{"title": "Engineer"}}}
	for _, e := range ents {
		d.Memberships = append(d.Memberships, Membership{Entitlement: e, Reason: "rule team-" + e})
	}
	return d
}

// holds is the app's copy of a desired account, in sync, with ID id.
func holds(d Desired, id string) connector.Account {
	a := d.Account
	a.ID = id
	a.Attributes = map[string]string{"title": "Engineer"}
	for _, m := range d.Memberships {
		a.Memberships = append(a.Memberships, m.Entitlement)
	}
	return a
}

var fullTraits = connector.Traits{CanDisable: true, MembershipKinds: []string{"team"},
	Fields: []string{"user_name", "email", "given_name", "family_name", "display_name", "role", "attributes.title"}}

func with(a connector.Account, f func(*connector.Account)) connector.Account {
	a.Attributes = map[string]string{"title": a.Attributes["title"]}
	a.Memberships = append([]string(nil), a.Memberships...)
	f(&a)
	return a
}

// step renders a step compactly: "kind person account entitlement [fields]".
func step(s Step) string {
	out := strings.Join(strings.Fields(fmt.Sprintf("%s %s %s %s", s.Kind, s.PersonID, s.AccountID, s.Entitlement)), " ")
	if len(s.Fields) > 0 {
		out += " " + fmt.Sprint(s.Fields)
	}
	if s.Urgent {
		out += " URGENT"
	}
	return out
}

type wantStep struct{ op, reason string }

func TestCompute(t *testing.T) {
	ix := testPeople()
	rich := desire(ix, "p1", true, "team:web", "role:dev")
	dinesh := desire(ix, "p2", true, "team:web")
	jared := desire(ix, "p5", false, "team:web")
	days := func(n int) *int { return &n }
	cases := []struct {
		name    string
		traits  *connector.Traits
		cfg     config.AppConfig
		desired []Desired
		actual  []connector.Account
		known   []identity.Account
		scope   map[string]bool
		want    []wantStep
		check   func(t *testing.T, ap AppPlan)
	}{
		{name: "in sync: nothing to do", desired: []Desired{rich, dinesh},
			actual: []connector.Account{holds(rich, "u1"), holds(dinesh, "u2")}},
		{name: "create then add the managed memberships only", desired: []Desired{rich},
			want: []wantStep{{"create p1", "rule everyone"}, {"add_member p1 team:web", "rule team-team:web"}},
			check: func(t *testing.T, ap AppPlan) {
				if a := ap.Ops[0].Account; a.ExternalID != "p1" || a.UserName != "richard" || !a.Active || a.Attributes["title"] != "Engineer" {
					t.Errorf("create account = %+v", a)
				}
			}},
		{name: "enable, update only the app's differing fields, add and remove memberships, in op order",
			traits:  &connector.Traits{CanDisable: true, MembershipKinds: []string{"team"}, Fields: []string{"email", "attributes.title"}},
			desired: []Desired{rich},
			actual: []connector.Account{with(holds(rich, "u1"), func(a *connector.Account) {
				a.Active, a.Email, a.GivenName, a.Attributes["title"] = false, "old@pp.test", "Dick", "Intern"
				a.Memberships = []string{"team:old", "channel:random"}
			})},
			want: []wantStep{{"enable p1 u1", "rule everyone"}, {"update p1 u1 [email attributes.title]", "rule everyone"},
				{"add_member p1 u1 team:web", "rule team-team:web"}, {"remove_member p1 u1 team:old", "no rule or exception grants team:old any more"}},
			check: func(t *testing.T, ap AppPlan) {
				if a := ap.Ops[1].Account; a.Email != "richard@pp.test" || a.GivenName != "Dick" || !a.Active || a.ID != "u1" {
					t.Errorf("update sets the managed fields only, after the enable: %+v", a)
				}
			}},
		{name: "user name and email compare case-insensitively", desired: []Desired{rich},
			actual: []connector.Account{with(holds(rich, "u1"), func(a *connector.Account) { a.UserName, a.Email = "Richard", "RICHARD@pp.test" })}},
		{name: "adopt by userName, case-insensitive", desired: []Desired{rich},
			actual: []connector.Account{with(holds(rich, "u7"), func(a *connector.Account) { a.ExternalID, a.UserName, a.Email = "", "RICHARD", "" })},
			want:   []wantStep{{"update p1 u7 [external_id email]", "adopt existing account (matched by userName); rule everyone"}}},
		{name: "adopt by email", desired: []Desired{rich},
			actual: []connector.Account{with(holds(rich, "u7"), func(a *connector.Account) { a.ExternalID, a.UserName = "", "rhendricks" })},
			want:   []wantStep{{"update p1 u7 [external_id user_name]", "adopt existing account (matched by email)"}}},
		{name: "adopt without other changes names only the adoption", desired: []Desired{rich},
			actual: []connector.Account{with(holds(rich, "u7"), func(a *connector.Account) { a.ExternalID = "" })},
			want:   []wantStep{{"update p1 u7 [external_id]", "adopt existing account (matched by userName)"}}},
		{name: "an app that cannot keep the external id is matched by userName without adopting each time",
			traits:  &connector.Traits{CanDisable: false, MembershipKinds: []string{"team"}, NoExternalID: true},
			desired: []Desired{rich},
			actual:  []connector.Account{with(holds(rich, "u7"), func(a *connector.Account) { a.ExternalID = "" })}},
		{name: "an account two people match is a conflict, never a guess", desired: []Desired{rich, dinesh},
			actual: []connector.Account{with(holds(rich, "u7"), func(a *connector.Account) { a.ExternalID, a.Email = "", "dinesh@pp.test" })},
			check: func(t *testing.T, ap AppPlan) {
				if len(ap.Conflicts) != 1 || fmt.Sprint(ap.Conflicts[0].PersonIDs) != "[p1 p2]" || len(ap.Orphans) != 0 ||
					!strings.Contains(ap.Conflicts[0].Detail, "Richard Hendricks (E1) by userName and Dinesh Chugtai (E2) by email") {
					t.Errorf("conflicts %+v orphans %v", ap.Conflicts, ap.Orphans)
				}
			}},
		{name: "a person two accounts match is a conflict", desired: []Desired{rich, dinesh},
			actual: []connector.Account{holds(rich, "u1"), with(holds(rich, "u2"), func(a *connector.Account) { a.ExternalID, a.UserName = "", "rh" }),
				with(holds(dinesh, "u3"), func(a *connector.Account) { a.Email = "d@pp.test" })},
			want: []wantStep{{"update p2 u3 [email]", "rule everyone"}},
			check: func(t *testing.T, ap AppPlan) {
				if len(ap.Conflicts) != 1 || fmt.Sprint(ap.Conflicts[0].AccountIDs) != "[u1 u2]" {
					t.Errorf("conflicts %+v", ap.Conflicts)
				}
			}},
		{name: "a create whose user name a leaver's account still holds is a conflict", desired: []Desired{dinesh},
			actual: []connector.Account{with(holds(desire(ix, "p3", true), "u3"), func(a *connector.Account) { a.UserName = "Dinesh" })},
			want:   []wantStep{{"disable p3 u3 URGENT", "terminated on 2026-11-18"}},
			check: func(t *testing.T, ap AppPlan) {
				if len(ap.Conflicts) != 1 || fmt.Sprint(ap.Conflicts[0].PersonIDs) != "[p2 p3]" ||
					ap.Conflicts[0].Detail != `Dinesh Chugtai (E2) needs an account with userName "dinesh", which account u3 (of Bertram Gilfoyle (E3)) holds` {
					t.Errorf("conflicts %+v", ap.Conflicts)
				}
			}},
		{name: "orphans reported", actual: []connector.Account{{ID: "u9", UserName: "bighead", Email: "bighead@hooli.test", Active: true}},
			check: func(t *testing.T, ap AppPlan) {
				if len(ap.Orphans) != 1 || ap.Orphans[0].ID != "u9" {
					t.Errorf("orphans %v", ap.Orphans)
				}
			}},
		{name: "orphans enforced: disabled, never deleted", cfg: config.AppConfig{Orphans: "enforce"},
			actual: []connector.Account{{ID: "u9", UserName: "bighead", Active: true}, {ID: "u8", UserName: "gone", Active: false}},
			want:   []wantStep{{"disable u9", "orphan: no person in the directory matches this account"}}},
		{name: "an unknown externalId falls back to the user name", desired: []Desired{rich},
			actual: []connector.Account{with(holds(rich, "u1"), func(a *connector.Account) { a.ExternalID = "okta-123" })},
			want:   []wantStep{{"update p1 u1 [external_id]", "adopt existing account (matched by userName)"}}},
		{name: "drift reported: listed, not changed", desired: []Desired{rich},
			actual: []connector.Account{with(holds(rich, "u1"), func(a *connector.Account) {
				a.Attributes["title"], a.Role, a.Memberships = "CEO", "admin", []string{"team:hacked"}
			})},
			known: []identity.Account{Record("slack", "p1", holds(rich, "u1"), now)},
			check: func(t *testing.T, ap AppPlan) {
				got := fmt.Sprint(ap.Drift)
				for _, w := range []string{"{p1 u1 richard role member admin}", "{p1 u1 richard attributes.title Engineer CEO}",
					"{p1 u1 richard memberships team:web }", "{p1 u1 richard memberships  team:hacked}"} {
					if !strings.Contains(got, w) {
						t.Errorf("drift %s lacks %s", got, w)
					}
				}
			}},
		{name: "drift enforced: changed back, with the drift as the reason", cfg: config.AppConfig{Drift: "enforce"}, desired: []Desired{rich},
			actual: []connector.Account{with(holds(rich, "u1"), func(a *connector.Account) {
				a.Attributes["title"], a.Memberships = "CEO", []string{"team:hacked"}
			})},
			known: []identity.Account{Record("slack", "p1", holds(rich, "u1"), now)},
			want: []wantStep{{"update p1 u1 [attributes.title]", "drift: title changed in the app"},
				{"add_member p1 u1 team:web", "drift: team:web removed in the app; rule team-team:web"},
				{"remove_member p1 u1 team:hacked", "drift: team:hacked added in the app"}}},
		{name: "a change Tenure makes is not drift", desired: []Desired{rich},
			actual: []connector.Account{with(holds(rich, "u1"), func(a *connector.Account) { a.Attributes["title"] = "Intern" })},
			known:  []identity.Account{Record("slack", "p1", with(holds(rich, "u1"), func(a *connector.Account) { a.Attributes["title"] = "Intern" }), now)},
			want:   []wantStep{{"update p1 u1 [attributes.title]", "rule everyone"}},
			check: func(t *testing.T, ap AppPlan) {
				if len(ap.Drift) != 0 {
					t.Errorf("drift %v", ap.Drift)
				}
			}},
		{name: "terminated within the grace period: disabled at once",
			actual: []connector.Account{holds(desire(ix, "p3", true), "u3")},
			want:   []wantStep{{"disable p3 u3 URGENT", "terminated on 2026-11-18"}}},
		{name: "terminated past the grace period: deleted, disabled or not",
			actual: []connector.Account{holds(desire(ix, "p3", false), "u3"), holds(desire(ix, "p4", false), "u4")},
			want:   []wantStep{{"delete p4 u4 URGENT", "grace period of 30 days ended on 2026-11-18 (terminated on 2026-10-19)"}}},
		{name: "a 7-day grace period", cfg: config.AppConfig{DeleteAfterDays: days(7)},
			actual: []connector.Account{holds(desire(ix, "p3", false), "u3")},
			want:   []wantStep{{"delete p3 u3 URGENT", "grace period of 7 days ended on 2026-11-25 (terminated on 2026-11-18)"}}},
		{name: "grace period 0: never deleted", cfg: config.AppConfig{DeleteAfterDays: days(0)},
			actual: []connector.Account{holds(desire(ix, "p4", false), "u4"), holds(desire(ix, "p3", true), "u3")},
			want:   []wantStep{{"disable p3 u3 URGENT", "terminated on 2026-11-18"}}},
		{name: "an app that cannot disable deletes at termination", traits: &connector.Traits{CanDisable: false},
			actual: []connector.Account{holds(desire(ix, "p3", true), "u3")},
			want:   []wantStep{{"delete p3 u3 URGENT", "terminated on 2026-11-18 (the app cannot disable accounts)"}}},
		{name: "deprovision: delete deletes at once", cfg: config.AppConfig{Deprovision: "delete"},
			actual: []connector.Account{holds(desire(ix, "p3", true), "u3"), holds(desire(ix, "p6", true), "u6")},
			want: []wantStep{{"delete p3 u3 URGENT", "terminated on 2026-11-18 (the app deprovisions by deleting)"},
				{"delete p6 u6", "no rule or exception grants slack any more (the app deprovisions by deleting)"}}},
		{name: "on leave: kept, disabled, memberships untouched; nothing created", desired: []Desired{jared},
			actual: []connector.Account{with(holds(jared, "u5"), func(a *connector.Account) { a.Active, a.Memberships = true, nil })},
			want:   []wantStep{{"disable p5 u5", "on leave: the account is kept disabled until the person is active again"}}},
		{name: "on leave without an account: no create", desired: []Desired{jared}},
		{name: "access the policy no longer grants is disabled",
			actual: []connector.Account{holds(desire(ix, "p6", true), "u6")},
			want:   []wantStep{{"disable p6 u6", "no rule or exception grants slack any more"}}},
		{name: "people in employee ID order, each account's steps in op order", desired: []Desired{dinesh, rich},
			actual: []connector.Account{with(holds(dinesh, "u2"), func(a *connector.Account) { a.Active, a.Memberships = false, []string{"team:x"} }),
				holds(desire(ix, "p3", true), "u3")},
			want: []wantStep{{"create p1", ""}, {"add_member p1 team:web", ""}, {"enable p2 u2", ""}, {"add_member p2 u2 team:web", ""},
				{"remove_member p2 u2 team:x", ""}, {"disable p3 u3 URGENT", ""}}},
		{name: "scoped to one person: others and orphans left out", desired: []Desired{rich, dinesh}, scope: map[string]bool{"p2": true},
			actual: []connector.Account{{ID: "u9", UserName: "bighead", Active: true}, holds(desire(ix, "p3", true), "u3")},
			want:   []wantStep{{"create p2", ""}, {"add_member p2 team:web", ""}},
			check: func(t *testing.T, ap AppPlan) {
				if len(ap.Orphans) != 0 {
					t.Errorf("orphans %v", ap.Orphans)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			traits := fullTraits
			if tc.traits != nil {
				traits = *tc.traits
			}
			ap := Compute(AppInput{App: "slack", Traits: traits, Config: tc.cfg, Desired: tc.desired, People: ix, Actual: tc.actual,
				Known: tc.known, Scope: tc.scope, Now: now})
			var got []string
			for _, s := range ap.Ops {
				got = append(got, step(s))
				if s.App != "slack" {
					t.Errorf("step %s has app %q", step(s), s.App)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("steps:\n  %s\nwant:\n  %v", strings.Join(got, "\n  "), tc.want)
			}
			for i, w := range tc.want {
				if got[i] != w.op {
					t.Errorf("step %d = %s, want %s", i, got[i], w.op)
				}
				if !strings.Contains(ap.Ops[i].Reason, w.reason) {
					t.Errorf("step %d reason %q, want %q", i, ap.Ops[i].Reason, w.reason)
				}
			}
			if tc.check != nil {
				tc.check(t, ap)
			}
		})
	}
}
