package conformance

import (
	"context"
	"testing"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

func groupTests() []subTest {
	return []subTest{
		{"GroupCreateGetList", testGroupCreateGetList},
		{"GroupUniqueness", testGroupUniqueness},
		{"GroupMembers", testGroupMembers},
		{"GroupMembersUnknown", testGroupMembersUnknown},
		{"GroupDelete", testGroupDelete},
	}
}

func mustCreateGroup(t *testing.T, ctx context.Context, s directory.Store, g identity.Group) identity.Group {
	t.Helper()
	got, err := s.CreateGroup(ctx, g)
	if err != nil {
		t.Fatalf("CreateGroup(%s %q): %v", g.Source, g.Name, err)
	}
	return got
}

func groupIDs(gs []identity.Group) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.ID
	}
	return out
}

func testGroupCreateGetList(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	in := identity.Group{Name: "admins", Source: "ldap:corp", ExternalID: "cn=admins,ou=groups,dc=corp", Description: "Domain admins"}
	g := mustCreateGroup(t, ctx, s, in)
	if g.ID == "" || g.CreatedAt.IsZero() || g.UpdatedAt.IsZero() {
		t.Errorf("CreateGroup = %+v; want ID and timestamps set", g)
	}
	if g.Name != in.Name || g.Source != in.Source || g.ExternalID != in.ExternalID || g.Description != in.Description {
		t.Errorf("CreateGroup = %+v, want the fields of %+v", g, in)
	}
	got, err := s.GetGroup(ctx, g.ID)
	if err != nil {
		t.Fatalf("GetGroup: %v", err)
	}
	if got.ID != g.ID || got.Name != g.Name || got.Source != g.Source || got.ExternalID != g.ExternalID ||
		got.Description != g.Description || !got.CreatedAt.Equal(g.CreatedAt) || !got.UpdatedAt.Equal(g.UpdatedAt) {
		t.Errorf("GetGroup = %+v, want %+v", got, g)
	}
	_, err = s.GetGroup(ctx, "no-such-group")
	wantErrIs(t, err, identity.ErrNotFound, "GetGroup(unknown)")

	_, err = s.CreateGroup(ctx, identity.Group{Name: " ", Source: "local"})
	wantField(t, err, "CreateGroup(blank name)", "name")

	g2 := mustCreateGroup(t, ctx, s, identity.Group{Name: "everyone", Source: "local"})
	list, err := s.ListGroups(ctx)
	if err != nil {
		t.Fatalf("ListGroups: %v", err)
	}
	if !sameSet(groupIDs(list), []string{g.ID, g2.ID}) {
		t.Errorf("ListGroups = %v, want [%s %s]", groupIDs(list), g.ID, g2.ID)
	}
}

func testGroupUniqueness(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	mustCreateGroup(t, ctx, s, identity.Group{Name: "devs", Source: "local"})
	_, err := s.CreateGroup(ctx, identity.Group{Name: "devs", Source: "local"})
	wantConflict(t, err, "CreateGroup(same source and name)", "")

	// The same name from another source is a different group.
	mustCreateGroup(t, ctx, s, identity.Group{Name: "devs", Source: "ldap:corp"})
	mustCreateGroup(t, ctx, s, identity.Group{Name: "devs", Source: "ldap:lab"})
	_, err = s.CreateGroup(ctx, identity.Group{Name: "devs", Source: "ldap:corp"})
	wantConflict(t, err, "CreateGroup(same LDAP source and name)", "")

	list, err := s.ListGroups(ctx)
	if err != nil {
		t.Fatalf("ListGroups: %v", err)
	}
	if len(list) != 3 {
		t.Errorf("ListGroups returned %d groups, want 3", len(list))
	}
}

func testGroupMembers(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	a := mustCreatePerson(t, ctx, s, newPerson("E001"))
	b := mustCreatePerson(t, ctx, s, newPerson("E002"))
	devs := mustCreateGroup(t, ctx, s, identity.Group{Name: "devs", Source: "local"})
	ops := mustCreateGroup(t, ctx, s, identity.Group{Name: "ops", Source: "local"})

	for i := range 2 { // the second round must change nothing
		for _, m := range []struct{ g, p string }{{devs.ID, a.ID}, {devs.ID, b.ID}, {ops.ID, a.ID}} {
			if err := s.AddGroupMember(ctx, m.g, m.p); err != nil {
				t.Fatalf("AddGroupMember(%s, %s) round %d: %v", m.g, m.p, i+1, err)
			}
		}
	}
	checkMembers := func(what string, g identity.Group, want ...string) {
		t.Helper()
		got, err := s.GroupMembers(ctx, g.ID)
		if err != nil {
			t.Fatalf("GroupMembers(%s): %v", g.Name, err)
		}
		if len(got) != len(want) || !sameSet(personIDs(got), want) {
			t.Errorf("%s: GroupMembers(%s) = %v, want %v", what, g.Name, personIDs(got), want)
		}
	}
	checkGroups := func(what string, p identity.Person, want ...string) {
		t.Helper()
		got, err := s.PersonGroups(ctx, p.ID)
		if err != nil {
			t.Fatalf("PersonGroups(%s): %v", p.EmployeeID, err)
		}
		if len(got) != len(want) || !sameSet(groupIDs(got), want) {
			t.Errorf("%s: PersonGroups(%s) = %v, want %v", what, p.EmployeeID, groupIDs(got), want)
		}
	}
	checkMembers("after adding twice", devs, a.ID, b.ID)
	checkMembers("after adding twice", ops, a.ID)
	checkGroups("after adding", a, devs.ID, ops.ID)
	checkGroups("after adding", b, devs.ID)

	// Members come back as whole people.
	got, err := s.GroupMembers(ctx, ops.ID)
	if err != nil {
		t.Fatalf("GroupMembers: %v", err)
	}
	if len(got) == 1 {
		checkPerson(t, "GroupMembers entry", a, got[0])
	}

	for i := range 2 { // removing is idempotent too
		if err := s.RemoveGroupMember(ctx, devs.ID, a.ID); err != nil {
			t.Fatalf("RemoveGroupMember round %d: %v", i+1, err)
		}
	}
	checkMembers("after removing", devs, b.ID)
	checkGroups("after removing", a, ops.ID)
	if err := s.RemoveGroupMember(ctx, ops.ID, b.ID); err != nil {
		t.Errorf("RemoveGroupMember of a non-member: %v", err)
	}
	checkMembers("after removing a non-member", ops, a.ID)
}

func testGroupMembersUnknown(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	p := mustCreatePerson(t, ctx, s, newPerson("E001"))
	g := mustCreateGroup(t, ctx, s, identity.Group{Name: "devs", Source: "local"})
	wantErrIs(t, s.AddGroupMember(ctx, "no-such-group", p.ID), identity.ErrNotFound, "AddGroupMember(unknown group)")
	wantErrIs(t, s.AddGroupMember(ctx, g.ID, "no-such-person"), identity.ErrNotFound, "AddGroupMember(unknown person)")
	got, err := s.GroupMembers(ctx, g.ID)
	if err != nil {
		t.Fatalf("GroupMembers: %v", err)
	}
	if len(got) != 0 {
		t.Errorf("GroupMembers after failed adds = %v, want none", personIDs(got))
	}
}

func testGroupDelete(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	p := mustCreatePerson(t, ctx, s, newPerson("E001"))
	keep := mustCreateGroup(t, ctx, s, identity.Group{Name: "keep", Source: "local"})
	empty := mustCreateGroup(t, ctx, s, identity.Group{Name: "empty", Source: "local"})
	full := mustCreateGroup(t, ctx, s, identity.Group{Name: "full", Source: "local"})
	for _, g := range []identity.Group{keep, full} {
		if err := s.AddGroupMember(ctx, g.ID, p.ID); err != nil {
			t.Fatalf("AddGroupMember: %v", err)
		}
	}

	if err := s.DeleteGroup(ctx, empty.ID); err != nil {
		t.Fatalf("DeleteGroup(empty group): %v", err)
	}
	_, err := s.GetGroup(ctx, empty.ID)
	wantErrIs(t, err, identity.ErrNotFound, "GetGroup after delete")

	// Deleting a group with members drops the memberships, not the people.
	if err := s.DeleteGroup(ctx, full.ID); err != nil {
		t.Fatalf("DeleteGroup(group with a member): %v", err)
	}
	_, err = s.GetGroup(ctx, full.ID)
	wantErrIs(t, err, identity.ErrNotFound, "GetGroup after delete")
	groups, err := s.PersonGroups(ctx, p.ID)
	if err != nil {
		t.Fatalf("PersonGroups: %v", err)
	}
	if !equalStrings(groupIDs(groups), []string{keep.ID}) {
		t.Errorf("PersonGroups after deleting a group = %v, want [%s]", groupIDs(groups), keep.ID)
	}
	mustGetPerson(t, ctx, s, p.ID)
	list, err := s.ListGroups(ctx)
	if err != nil {
		t.Fatalf("ListGroups: %v", err)
	}
	if !equalStrings(groupIDs(list), []string{keep.ID}) {
		t.Errorf("ListGroups after deletes = %v, want [%s]", groupIDs(list), keep.ID)
	}
}
