package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

func accessTests() []subTest {
	return []subTest{
		{"AppPutGet", testAppPutGet},
		{"AppReplace", testAppReplace},
		{"AppValidation", testAppValidation},
		{"AppDelete", testAppDelete},
		{"GrantCreateList", testGrantCreateList},
		{"GrantValidation", testGrantValidation},
		{"GrantDelete", testGrantDelete},
		{"AccountPutGet", testAccountPutGet},
		{"AccountReplace", testAccountReplace},
		{"AccountList", testAccountList},
		{"AccountDelete", testAccountDelete},
	}
}

func mustPutApp(t *testing.T, ctx context.Context, s directory.Store, name, connector string, ents ...identity.Entitlement) identity.App {
	t.Helper()
	a, err := s.PutApp(ctx, identity.App{Name: name, Connector: connector, Entitlements: ents})
	if err != nil {
		t.Fatalf("PutApp(%q): %v", name, err)
	}
	return a
}

// checkEntitlements compares entitlements by key and description, in any order.
func checkEntitlements(t *testing.T, what string, want, got []identity.Entitlement) {
	t.Helper()
	desc := func(es []identity.Entitlement) map[string]string {
		m := map[string]string{}
		for _, e := range es {
			m[e.Key()] = e.Description
		}
		return m
	}
	if len(want) != len(got) || !equalStringMaps(desc(want), desc(got)) {
		t.Errorf("%s: entitlements = %+v, want %+v", what, got, want)
	}
}

func testAppPutGet(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	ents := []identity.Entitlement{
		{Kind: "team", Name: "backend", Description: "Backend team"},
		{Kind: "role", Name: "admin"},
		{Kind: "channel", Name: "general", Description: "#general"},
	}
	a := mustPutApp(t, ctx, s, "github", "github", ents...)
	if a.ID == "" || a.Name != "github" || a.Connector != "github" || a.CreatedAt.IsZero() || a.UpdatedAt.IsZero() {
		t.Errorf("PutApp = %+v; want ID, name, connector and timestamps set", a)
	}
	checkEntitlements(t, "PutApp result", ents, a.Entitlements)
	got, err := s.GetApp(ctx, "github")
	if err != nil {
		t.Fatalf("GetApp: %v", err)
	}
	if got.ID != a.ID || got.Name != a.Name || got.Connector != a.Connector || !got.CreatedAt.Equal(a.CreatedAt) || !got.UpdatedAt.Equal(a.UpdatedAt) {
		t.Errorf("GetApp = %+v, want %+v", got, a)
	}
	checkEntitlements(t, "GetApp", ents, got.Entitlements)

	_, err = s.GetApp(ctx, "no-such-app")
	wantErrIs(t, err, identity.ErrNotFound, "GetApp(unknown)")

	b := mustPutApp(t, ctx, s, "slack", "slack")
	if len(b.Entitlements) != 0 {
		t.Errorf("app without entitlements came back with %+v", b.Entitlements)
	}
	list, err := s.ListApps(ctx)
	if err != nil {
		t.Fatalf("ListApps: %v", err)
	}
	var names []string
	for _, x := range list {
		names = append(names, x.Name)
		if x.Name == "github" {
			checkEntitlements(t, "ListApps entry", ents, x.Entitlements)
		}
	}
	if !sameSet(names, []string{"github", "slack"}) {
		t.Errorf("ListApps = %v, want [github slack]", names)
	}
}

func testAppReplace(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	first := mustPutApp(t, ctx, s, "slack", "slack",
		identity.Entitlement{Kind: "channel", Name: "general"},
		identity.Entitlement{Kind: "channel", Name: "random"})
	ents := []identity.Entitlement{
		{Kind: "channel", Name: "general", Description: "now described"},
		{Kind: "channel", Name: "eng"},
	}
	second, err := s.PutApp(ctx, identity.App{Name: "slack", Connector: "scim", Entitlements: ents})
	if err != nil {
		t.Fatalf("PutApp(replace): %v", err)
	}
	if second.ID != first.ID {
		t.Errorf("PutApp(replace) changed the ID from %q to %q", first.ID, second.ID)
	}
	if second.Connector != "scim" {
		t.Errorf("PutApp(replace): Connector = %q, want %q", second.Connector, "scim")
	}
	if !second.CreatedAt.Equal(first.CreatedAt) || second.UpdatedAt.Before(first.UpdatedAt) {
		t.Errorf("PutApp(replace): CreatedAt %v→%v, UpdatedAt %v→%v; want CreatedAt kept, UpdatedAt not earlier",
			first.CreatedAt, second.CreatedAt, first.UpdatedAt, second.UpdatedAt)
	}
	checkEntitlements(t, "PutApp(replace) result", ents, second.Entitlements)
	got, err := s.GetApp(ctx, "slack")
	if err != nil {
		t.Fatalf("GetApp: %v", err)
	}
	if got.ID != first.ID || got.Connector != "scim" {
		t.Errorf("GetApp after replace = %+v", got)
	}
	checkEntitlements(t, "GetApp after replace", ents, got.Entitlements)
	list, err := s.ListApps(ctx)
	if err != nil {
		t.Fatalf("ListApps: %v", err)
	}
	if len(list) != 1 {
		t.Errorf("ListApps after replace returned %d apps, want 1", len(list))
	}
}

func testAppValidation(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	cases := []struct {
		name  string
		app   identity.App
		field string
	}{
		{"no connector", identity.App{Name: "x"}, "connector"},
		{"no name", identity.App{Connector: "scim"}, "name"},
		{"bad entitlement kind", identity.App{Name: "x", Connector: "scim", Entitlements: []identity.Entitlement{{Kind: "badge", Name: "a"}}}, "entitlements"},
		{"duplicate entitlement", identity.App{Name: "x", Connector: "scim", Entitlements: []identity.Entitlement{{Kind: "team", Name: "a"}, {Kind: "team", Name: "a"}}}, "entitlements"},
	}
	for _, tc := range cases {
		_, err := s.PutApp(ctx, tc.app)
		wantField(t, err, "PutApp("+tc.name+")", tc.field)
	}
	_, err := s.GetApp(ctx, "x")
	wantErrIs(t, err, identity.ErrNotFound, "GetApp after invalid puts")
}

func testAppDelete(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	mustPutApp(t, ctx, s, "github", "github", identity.Entitlement{Kind: "team", Name: "a"})
	mustPutApp(t, ctx, s, "slack", "slack")
	if err := s.DeleteApp(ctx, "github"); err != nil {
		t.Fatalf("DeleteApp: %v", err)
	}
	_, err := s.GetApp(ctx, "github")
	wantErrIs(t, err, identity.ErrNotFound, "GetApp after delete")
	if _, err := s.GetApp(ctx, "slack"); err != nil {
		t.Errorf("GetApp(slack) after deleting github: %v", err)
	}
	// The name is free again.
	again := mustPutApp(t, ctx, s, "github", "scim")
	if len(again.Entitlements) != 0 {
		t.Errorf("re-created app inherited entitlements %+v", again.Entitlements)
	}
}

func grantIDs(gs []identity.Grant) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.ID
	}
	return out
}

func testGrantCreateList(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	a := mustCreatePerson(t, ctx, s, newPerson("E001"))
	b := mustCreatePerson(t, ctx, s, newPerson("E002"))
	mustPutApp(t, ctx, s, "slack", "slack", identity.Entitlement{Kind: "channel", Name: "general"})
	mustPutApp(t, ctx, s, "github", "github", identity.Entitlement{Kind: "team", Name: "backend"})
	expires := time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Second)

	create := func(g identity.Grant) identity.Grant {
		t.Helper()
		got, err := s.CreateGrant(ctx, g)
		if err != nil {
			t.Fatalf("CreateGrant(%+v): %v", g, err)
		}
		if got.ID == "" {
			t.Fatalf("CreateGrant(%+v) returned no ID", g)
		}
		return got
	}
	g1 := create(identity.Grant{PersonID: a.ID, App: "slack", Entitlement: "channel:general", Source: identity.FromRule, Reason: "rule everyone"})
	g2 := create(identity.Grant{PersonID: a.ID, App: "github", Entitlement: "team:backend", Role: "maintainer",
		Source: identity.FromException, Reason: "exception IT-7", Approver: "cli:boss", ExpiresAt: &expires})
	g3 := create(identity.Grant{PersonID: b.ID, App: "github", Source: identity.FromRule, Reason: "rule engineers"})

	all, err := s.ListGrants(ctx, directory.GrantFilter{})
	if err != nil {
		t.Fatalf("ListGrants: %v", err)
	}
	if !sameSet(grantIDs(all), []string{g1.ID, g2.ID, g3.ID}) {
		t.Fatalf("ListGrants() = %v, want all three", grantIDs(all))
	}
	for _, got := range all {
		if got.ID != g2.ID {
			continue
		}
		if got.PersonID != a.ID || got.App != "github" || got.Entitlement != "team:backend" || got.Role != "maintainer" ||
			got.Source != identity.FromException || got.Reason != "exception IT-7" || got.Approver != "cli:boss" ||
			!equalTimePtr(got.ExpiresAt, &expires) {
			t.Errorf("stored exception grant = %+v (expires %s), want %+v (expires %s)", got, fmtTimePtr(got.ExpiresAt), g2, fmtTimePtr(&expires))
		}
	}
	for _, got := range all {
		if got.ID == g1.ID && got.ExpiresAt != nil {
			t.Errorf("rule grant came back with ExpiresAt %s, want nil", fmtTimePtr(got.ExpiresAt))
		}
	}

	cases := []struct {
		name string
		f    directory.GrantFilter
		want []string
	}{
		{"person", directory.GrantFilter{PersonID: a.ID}, []string{g1.ID, g2.ID}},
		{"other person", directory.GrantFilter{PersonID: b.ID}, []string{g3.ID}},
		{"app", directory.GrantFilter{App: "github"}, []string{g2.ID, g3.ID}},
		{"source rule", directory.GrantFilter{Source: identity.FromRule}, []string{g1.ID, g3.ID}},
		{"source exception", directory.GrantFilter{Source: identity.FromException}, []string{g2.ID}},
		{"person and app", directory.GrantFilter{PersonID: a.ID, App: "slack"}, []string{g1.ID}},
		{"nothing matches", directory.GrantFilter{PersonID: b.ID, App: "slack"}, nil},
	}
	for _, tc := range cases {
		got, err := s.ListGrants(ctx, tc.f)
		if err != nil {
			t.Errorf("ListGrants(%s): %v", tc.name, err)
			continue
		}
		if len(got) != len(tc.want) || !sameSet(grantIDs(got), tc.want) {
			t.Errorf("ListGrants(%s) = %v, want %v", tc.name, grantIDs(got), tc.want)
		}
	}
}

func testGrantValidation(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	p := mustCreatePerson(t, ctx, s, newPerson("E001"))
	mustPutApp(t, ctx, s, "github", "github")
	cases := []struct {
		name  string
		g     identity.Grant
		field string
	}{
		{"exception without approver", identity.Grant{PersonID: p.ID, App: "github", Source: identity.FromException, Reason: "because"}, "approver"},
		{"no reason", identity.Grant{PersonID: p.ID, App: "github", Source: identity.FromRule}, "reason"},
		{"bad source", identity.Grant{PersonID: p.ID, App: "github", Source: "whim", Reason: "because"}, "source"},
		{"no person", identity.Grant{App: "github", Source: identity.FromRule, Reason: "because"}, "person_id"},
		{"unknown person", identity.Grant{PersonID: "no-such-person", App: "github", Source: identity.FromRule, Reason: "because"}, "person_id"},
	}
	for _, tc := range cases {
		_, err := s.CreateGrant(ctx, tc.g)
		wantField(t, err, "CreateGrant("+tc.name+")", tc.field)
	}
	all, err := s.ListGrants(ctx, directory.GrantFilter{})
	if err != nil {
		t.Fatalf("ListGrants: %v", err)
	}
	if len(all) != 0 {
		t.Errorf("after invalid creates ListGrants = %v, want none", grantIDs(all))
	}
}

func testGrantDelete(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	p := mustCreatePerson(t, ctx, s, newPerson("E001"))
	mustPutApp(t, ctx, s, "github", "github")
	var ids []string
	for _, reason := range []string{"rule a", "rule b"} {
		g, err := s.CreateGrant(ctx, identity.Grant{PersonID: p.ID, App: "github", Source: identity.FromRule, Reason: reason})
		if err != nil {
			t.Fatalf("CreateGrant: %v", err)
		}
		ids = append(ids, g.ID)
	}
	if err := s.DeleteGrant(ctx, ids[0]); err != nil {
		t.Fatalf("DeleteGrant: %v", err)
	}
	got, err := s.ListGrants(ctx, directory.GrantFilter{PersonID: p.ID})
	if err != nil {
		t.Fatalf("ListGrants: %v", err)
	}
	if !equalStrings(grantIDs(got), ids[1:]) {
		t.Errorf("ListGrants after delete = %v, want %v", grantIDs(got), ids[1:])
	}
	if one, err := s.ListGrants(ctx, directory.GrantFilter{ID: ids[1]}); err != nil || !equalStrings(grantIDs(one), ids[1:2]) {
		t.Errorf("ListGrants by ID = %v, %v; want only %s", grantIDs(one), err, ids[1])
	}
	if none, err := s.ListGrants(ctx, directory.GrantFilter{ID: ids[0]}); err != nil || len(none) != 0 {
		t.Errorf("ListGrants by a deleted grant's ID = %v, %v; want none", grantIDs(none), err)
	}
	wantErrIs(t, s.DeleteGrant(ctx, ids[0]), identity.ErrNotFound, "DeleteGrant(already deleted)")
	wantErrIs(t, s.DeleteGrant(ctx, "no-such-grant"), identity.ErrNotFound, "DeleteGrant(unknown)")
}
