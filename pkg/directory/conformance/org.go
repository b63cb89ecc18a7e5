package conformance

import (
	"testing"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

func orgTests() []subTest {
	return []subTest{
		{"OrgUnitCreateGet", testOrgUnitCreateGet},
		{"OrgUnitValidation", testOrgUnitValidation},
		{"OrgUnitSiblingNames", testOrgUnitSiblingNames},
		{"OrgUnitList", testOrgUnitList},
		{"OrgSubtree", testOrgSubtree},
		{"OrgAncestors", testOrgAncestors},
		{"OrgUnitUpdate", testOrgUnitUpdate},
		{"OrgUnitMove", testOrgUnitMove},
		{"OrgUnitDelete", testOrgUnitDelete},
	}
}

func testOrgUnitCreateGet(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	o := buildOrgTree(t, ctx, s)
	all := []identity.OrgUnit{o.Org, o.Eng, o.Sales, o.Platform, o.Product, o.EMEA, o.Infra, o.Tooling, o.Web, o.FieldTeam}
	seen := map[string]bool{}
	for _, u := range all {
		if u.ID == "" || seen[u.ID] {
			t.Fatalf("CreateOrgUnit(%q): ID %q is empty or reused", u.Name, u.ID)
		}
		seen[u.ID] = true
		if u.Version != 1 || u.CreatedAt.IsZero() || u.UpdatedAt.IsZero() {
			t.Errorf("CreateOrgUnit(%q): Version %d CreatedAt %v UpdatedAt %v; want 1 and timestamps set", u.Name, u.Version, u.CreatedAt, u.UpdatedAt)
		}
		got, err := s.GetOrgUnit(ctx, u.ID)
		if err != nil {
			t.Fatalf("GetOrgUnit(%q): %v", u.Name, err)
		}
		checkOrgUnit(t, "GetOrgUnit", u, got)
	}
	if o.Platform.ParentID != o.Eng.ID || o.Org.ParentID != "" {
		t.Errorf("ParentID: Platform %q (want %q), Acme %q (want empty)", o.Platform.ParentID, o.Eng.ID, o.Org.ParentID)
	}

	// Code round-trips; a team directly under a division (a skipped level) is fine.
	in := identity.OrgUnit{Name: "SRE", Kind: identity.Team, ParentID: o.Eng.ID, Code: "T-900"}
	u, err := s.CreateOrgUnit(ctx, in)
	if err != nil {
		t.Fatalf("CreateOrgUnit(team directly under a division): %v", err)
	}
	if u.Code != "T-900" || u.Kind != identity.Team || u.ParentID != o.Eng.ID || u.Name != "SRE" {
		t.Errorf("CreateOrgUnit result %+v does not match input %+v", u, in)
	}
	got, err := s.GetOrgUnit(ctx, u.ID)
	if err != nil {
		t.Fatalf("GetOrgUnit: %v", err)
	}
	checkOrgUnit(t, "GetOrgUnit(SRE)", u, got)

	_, err = s.GetOrgUnit(ctx, "no-such-unit")
	wantErrIs(t, err, identity.ErrNotFound, "GetOrgUnit(unknown)")
}

func checkOrgUnit(t *testing.T, what string, want, got identity.OrgUnit) {
	t.Helper()
	if got.ID != want.ID || got.Name != want.Name || got.Kind != want.Kind || got.ParentID != want.ParentID ||
		got.Code != want.Code || got.Version != want.Version || !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("%s: got %+v, want %+v", what, got, want)
	}
}

func testOrgUnitValidation(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	o := buildOrgTree(t, ctx, s)
	cases := []struct {
		name  string
		u     identity.OrgUnit
		field string // expected FieldError.Field; "" to check ErrInvalid only
	}{
		{"division under a team", identity.OrgUnit{Name: "X", Kind: identity.Division, ParentID: o.Infra.ID}, "parent_id"},
		{"department under a department", identity.OrgUnit{Name: "X", Kind: identity.Department, ParentID: o.Platform.ID}, "parent_id"},
		{"team under a team", identity.OrgUnit{Name: "X", Kind: identity.Team, ParentID: o.Infra.ID}, "parent_id"},
		{"organization under an organization", identity.OrgUnit{Name: "X", Kind: identity.Organization, ParentID: o.Org.ID}, "parent_id"},
		{"division without parent", identity.OrgUnit{Name: "X", Kind: identity.Division}, "parent_id"},
		{"team without parent", identity.OrgUnit{Name: "X", Kind: identity.Team}, "parent_id"},
		{"unknown parent", identity.OrgUnit{Name: "X", Kind: identity.Team, ParentID: "no-such-unit"}, "parent_id"},
		{"empty name", identity.OrgUnit{Name: " ", Kind: identity.Team, ParentID: o.Platform.ID}, "name"},
		{"slash in name", identity.OrgUnit{Name: "a/b", Kind: identity.Team, ParentID: o.Platform.ID}, "name"},
		{"bad kind", identity.OrgUnit{Name: "X", Kind: "squad", ParentID: o.Platform.ID}, "kind"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CreateOrgUnit(ctx, tc.u)
			wantField(t, err, "CreateOrgUnit("+tc.name+")", tc.field)
		})
	}
	units, err := s.ListOrgUnits(ctx)
	if err != nil {
		t.Fatalf("ListOrgUnits: %v", err)
	}
	if len(units) != 10 {
		t.Errorf("after invalid creates: %d units, want 10: %v", len(units), unitNames(units))
	}
}

func testOrgUnitSiblingNames(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	o := buildOrgTree(t, ctx, s)
	_, err := s.CreateOrgUnit(ctx, identity.OrgUnit{Name: "Infra", Kind: identity.Team, ParentID: o.Platform.ID})
	wantConflict(t, err, "CreateOrgUnit(duplicate team name under the same department)", "")
	_, err = s.CreateOrgUnit(ctx, identity.OrgUnit{Name: "Platform", Kind: identity.Department, ParentID: o.Eng.ID})
	wantConflict(t, err, "CreateOrgUnit(duplicate department name under the same division)", "")
	_, err = s.CreateOrgUnit(ctx, identity.OrgUnit{Name: "Acme", Kind: identity.Organization})
	wantConflict(t, err, "CreateOrgUnit(second organization with the same name: roots are siblings)", "")

	// The same name under different parents is fine, also for a different kind.
	if _, err := s.CreateOrgUnit(ctx, identity.OrgUnit{Name: "Infra", Kind: identity.Team, ParentID: o.EMEA.ID}); err != nil {
		t.Errorf("CreateOrgUnit(\"Infra\" under EMEA): %v", err)
	}
	if _, err := s.CreateOrgUnit(ctx, identity.OrgUnit{Name: "Infra", Kind: identity.Team, ParentID: o.Product.ID}); err != nil {
		t.Errorf("CreateOrgUnit(\"Infra\" under Product): %v", err)
	}
	if _, err := s.CreateOrgUnit(ctx, identity.OrgUnit{Name: "Infra", Kind: identity.Department, ParentID: o.Sales.ID}); err != nil {
		t.Errorf("CreateOrgUnit(department \"Infra\" under Sales): %v", err)
	}
	if _, err := s.CreateOrgUnit(ctx, identity.OrgUnit{Name: "Globex", Kind: identity.Organization}); err != nil {
		t.Errorf("CreateOrgUnit(a second organization): %v", err)
	}
}

func testOrgUnitList(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	// Create a tree whose creation order is not enough for parents-first: a department created
	// early is later moved under a division created after it.
	o := buildOrgTree(t, ctx, s)
	late := mustCreateOrgUnit(t, ctx, s, "Research", identity.Division, o.Org.ID)
	if _, err := s.UpdateOrgUnit(ctx, o.Platform.ID, func(u *identity.OrgUnit) error { u.ParentID = late.ID; return nil }); err != nil {
		t.Fatalf("UpdateOrgUnit(move Platform under Research): %v", err)
	}
	units, err := s.ListOrgUnits(ctx)
	if err != nil {
		t.Fatalf("ListOrgUnits: %v", err)
	}
	if len(units) != 11 {
		t.Fatalf("ListOrgUnits returned %d units, want 11: %v", len(units), unitNames(units))
	}
	checkParentsFirst(t, "ListOrgUnits", units)
	want := []string{o.Org.ID, o.Eng.ID, o.Sales.ID, late.ID, o.Platform.ID, o.Product.ID, o.EMEA.ID, o.Infra.ID, o.Tooling.ID, o.Web.ID, o.FieldTeam.ID}
	if !sameSet(unitIDs(units), want) {
		t.Errorf("ListOrgUnits = %v, want the 11 created units", unitNames(units))
	}
}

func testOrgSubtree(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	o := buildOrgTree(t, ctx, s)
	cases := []struct {
		name string
		root identity.OrgUnit
		want []identity.OrgUnit
	}{
		{"organization", o.Org, []identity.OrgUnit{o.Org, o.Eng, o.Sales, o.Platform, o.Product, o.EMEA, o.Infra, o.Tooling, o.Web, o.FieldTeam}},
		{"division", o.Eng, []identity.OrgUnit{o.Eng, o.Platform, o.Product, o.Infra, o.Tooling, o.Web}},
		{"other division", o.Sales, []identity.OrgUnit{o.Sales, o.EMEA, o.FieldTeam}},
		{"department", o.Platform, []identity.OrgUnit{o.Platform, o.Infra, o.Tooling}},
		{"team", o.Web, []identity.OrgUnit{o.Web}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.OrgSubtree(ctx, tc.root.ID)
			if err != nil {
				t.Fatalf("OrgSubtree(%s): %v", tc.root.Name, err)
			}
			if !sameSet(unitIDs(got), unitIDs(tc.want)) {
				t.Errorf("OrgSubtree(%s) = %v, want %v", tc.root.Name, unitNames(got), unitNames(tc.want))
			}
			if len(got) > 0 && got[0].ID != tc.root.ID {
				t.Errorf("OrgSubtree(%s) starts with %q, want the unit itself first", tc.root.Name, got[0].Name)
			}
			checkParentsFirst(t, "OrgSubtree("+tc.root.Name+")", got)
		})
	}
	_, err := s.OrgSubtree(ctx, "no-such-unit")
	wantErrIs(t, err, identity.ErrNotFound, "OrgSubtree(unknown)")
}

func testOrgAncestors(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	o := buildOrgTree(t, ctx, s)
	cases := []struct {
		unit identity.OrgUnit
		want []identity.OrgUnit
	}{
		{o.Infra, []identity.OrgUnit{o.Org, o.Eng, o.Platform}},
		{o.FieldTeam, []identity.OrgUnit{o.Org, o.Sales, o.EMEA}},
		{o.Platform, []identity.OrgUnit{o.Org, o.Eng}},
		{o.Eng, []identity.OrgUnit{o.Org}},
		{o.Org, nil},
	}
	for _, tc := range cases {
		got, err := s.OrgAncestors(ctx, tc.unit.ID)
		if err != nil {
			t.Errorf("OrgAncestors(%s): %v", tc.unit.Name, err)
			continue
		}
		if !equalStrings(unitIDs(got), unitIDs(tc.want)) {
			t.Errorf("OrgAncestors(%s) = %v, want %v (root first, unit excluded)", tc.unit.Name, unitNames(got), unitNames(tc.want))
		}
	}
}

func testOrgUnitUpdate(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	o := buildOrgTree(t, ctx, s)
	u, err := s.UpdateOrgUnit(ctx, o.Infra.ID, func(u *identity.OrgUnit) error {
		u.Name, u.Code = "Infrastructure", "T-1"
		u.ID, u.Version = "hijack", 99
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateOrgUnit(rename): %v", err)
	}
	if u.ID != o.Infra.ID || u.Name != "Infrastructure" || u.Code != "T-1" || u.Version != o.Infra.Version+1 ||
		!u.CreatedAt.Equal(o.Infra.CreatedAt) || u.UpdatedAt.Before(o.Infra.UpdatedAt) {
		t.Errorf("UpdateOrgUnit(rename) = %+v; want same ID and CreatedAt, new name and code, Version %d", u, o.Infra.Version+1)
	}
	got, err := s.GetOrgUnit(ctx, o.Infra.ID)
	if err != nil {
		t.Fatalf("GetOrgUnit: %v", err)
	}
	checkOrgUnit(t, "GetOrgUnit after rename", u, got)

	_, err = s.UpdateOrgUnit(ctx, o.Infra.ID, func(u *identity.OrgUnit) error { u.Name = "Tooling"; return nil })
	wantConflict(t, err, "UpdateOrgUnit(rename to a sibling's name)", "")

	_, err = s.UpdateOrgUnit(ctx, o.Infra.ID, func(u *identity.OrgUnit) error { u.Name = "changed"; return errSentinel })
	wantErrIs(t, err, errSentinel, "UpdateOrgUnit with failing fn")

	_, err = s.UpdateOrgUnit(ctx, "no-such-unit", func(u *identity.OrgUnit) error { return nil })
	wantErrIs(t, err, identity.ErrNotFound, "UpdateOrgUnit(unknown)")

	got, err = s.GetOrgUnit(ctx, o.Infra.ID)
	if err != nil {
		t.Fatalf("GetOrgUnit: %v", err)
	}
	checkOrgUnit(t, "GetOrgUnit after failed updates", u, got)
}

func testOrgUnitMove(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	o := buildOrgTree(t, ctx, s)
	p := mustCreatePerson(t, ctx, s, newPerson("E001", func(p *identity.Person) { p.OrgUnitID = o.Infra.ID }))

	bad := []struct {
		name   string
		unit   identity.OrgUnit
		parent string
	}{
		{"department under its own team", o.Platform, o.Infra.ID},
		{"division under its own team", o.Eng, o.Web.ID},
		{"unit under itself", o.Platform, o.Platform.ID},
		{"department under a team of another division", o.Platform, o.FieldTeam.ID},
		{"department under a department", o.Platform, o.EMEA.ID},
		{"under an unknown unit", o.Platform, "no-such-unit"},
		{"division detached from its organization", o.Eng, ""},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.UpdateOrgUnit(ctx, tc.unit.ID, func(u *identity.OrgUnit) error { u.ParentID = tc.parent; return nil })
			wantErrIs(t, err, identity.ErrInvalid, "UpdateOrgUnit(move "+tc.name+")")
			got, err := s.GetOrgUnit(ctx, tc.unit.ID)
			if err != nil {
				t.Fatalf("GetOrgUnit: %v", err)
			}
			checkOrgUnit(t, "unit after rejected move", tc.unit, got)
		})
	}

	// A legal move: Platform (with Infra and its person) goes from Engineering to Sales.
	moved, err := s.UpdateOrgUnit(ctx, o.Platform.ID, func(u *identity.OrgUnit) error { u.ParentID = o.Sales.ID; return nil })
	if err != nil {
		t.Fatalf("UpdateOrgUnit(move Platform to Sales): %v", err)
	}
	if moved.ParentID != o.Sales.ID || moved.Version != o.Platform.Version+1 {
		t.Errorf("moved unit: ParentID %q Version %d, want %q %d", moved.ParentID, moved.Version, o.Sales.ID, o.Platform.Version+1)
	}
	anc, err := s.OrgAncestors(ctx, o.Infra.ID)
	if err != nil {
		t.Fatalf("OrgAncestors: %v", err)
	}
	if want := []string{o.Org.ID, o.Sales.ID, o.Platform.ID}; !equalStrings(unitIDs(anc), want) {
		t.Errorf("OrgAncestors(Infra) after move = %v, want [Acme Sales Platform]", unitNames(anc))
	}
	sub, err := s.OrgSubtree(ctx, o.Eng.ID)
	if err != nil {
		t.Fatalf("OrgSubtree: %v", err)
	}
	if want := []string{o.Eng.ID, o.Product.ID, o.Web.ID}; !sameSet(unitIDs(sub), want) {
		t.Errorf("OrgSubtree(Engineering) after move = %v, want [Engineering Product Web]", unitNames(sub))
	}
	for _, c := range []struct {
		div  identity.OrgUnit
		want []string
	}{{o.Sales, []string{p.ID}}, {o.Eng, nil}} {
		got, err := s.ListPeople(ctx, directory.PersonFilter{OrgUnitID: c.div.ID, Subtree: true})
		if err != nil {
			t.Fatalf("ListPeople: %v", err)
		}
		if !equalStrings(personIDs(got), c.want) {
			t.Errorf("ListPeople(subtree of %s) after move = %v, want %v", c.div.Name, employeeIDs(got), c.want)
		}
	}
}

func testOrgUnitDelete(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	o := buildOrgTree(t, ctx, s)
	mustCreatePerson(t, ctx, s, newPerson("E001", func(p *identity.Person) { p.OrgUnitID = o.Web.ID }))

	wantErrIs(t, s.DeleteOrgUnit(ctx, o.Platform.ID), identity.ErrConflict, "DeleteOrgUnit(unit with children)")
	wantErrIs(t, s.DeleteOrgUnit(ctx, o.Org.ID), identity.ErrConflict, "DeleteOrgUnit(root with children)")
	wantErrIs(t, s.DeleteOrgUnit(ctx, o.Web.ID), identity.ErrConflict, "DeleteOrgUnit(unit with people)")
	for _, u := range []identity.OrgUnit{o.Platform, o.Org, o.Web} {
		if _, err := s.GetOrgUnit(ctx, u.ID); err != nil {
			t.Errorf("GetOrgUnit(%s) after refused delete: %v", u.Name, err)
		}
	}

	if err := s.DeleteOrgUnit(ctx, o.Infra.ID); err != nil {
		t.Fatalf("DeleteOrgUnit(empty team): %v", err)
	}
	_, err := s.GetOrgUnit(ctx, o.Infra.ID)
	wantErrIs(t, err, identity.ErrNotFound, "GetOrgUnit after delete")

	// Once its last child is gone, a unit can be deleted too.
	if err := s.DeleteOrgUnit(ctx, o.Tooling.ID); err != nil {
		t.Fatalf("DeleteOrgUnit(Tooling): %v", err)
	}
	if err := s.DeleteOrgUnit(ctx, o.Platform.ID); err != nil {
		t.Fatalf("DeleteOrgUnit(Platform, now empty): %v", err)
	}
	units, err := s.ListOrgUnits(ctx)
	if err != nil {
		t.Fatalf("ListOrgUnits: %v", err)
	}
	if len(units) != 7 {
		t.Errorf("after three deletes: %d units %v, want 7", len(units), unitNames(units))
	}
}
