package conformance

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

func peopleTests() []subTest {
	return []subTest{
		{"PersonCreateGet", testPersonCreateGet},
		{"PersonGetUnknown", testPersonGetUnknown},
		{"PersonValidation", testPersonValidation},
		{"PersonUniqueness", testPersonUniqueness},
		{"PersonEmptyOptionalKeysDoNotConflict", testPersonEmptyOptionalKeys},
		{"PersonLookup", testPersonLookup},
		{"PersonLookupAmbiguous", testPersonLookupAmbiguous},
		{"PersonList", testPersonList},
		{"ManagerChain", testManagerChain},
	}
}

func testPersonCreateGet(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	tree := buildOrgTree(t, ctx, s)
	mgr := mustCreatePerson(t, ctx, s, newPerson("M001"))

	in := identity.Person{
		EmployeeID:     "E001",
		LegalFirstName: "Alice",
		LegalLastName:  "Liddell",
		PreferredName:  "Ali",
		Username:       "alice",
		WorkEmail:      "alice@example.com",
		PersonalEmail:  "alice@home.example",
		EmploymentType: identity.Contractor,
		Status:         identity.PreHire,
		JobTitle:       "Engineer",
		JobCode:        "ENG2",
		OrgUnitID:      tree.Infra.ID,
		ManagerID:      mgr.ID,
		Location:       "Berlin",
		Country:        "DE",
		CostCenter:     "CC-42",
		StartDate:      date(2024, time.March, 1),
		EndDate:        date(2025, time.February, 28),
		Attributes:     map[string]string{"shirt": "M", "badge": "1234", "empty": ""},
	}
	before := time.Now().Add(-time.Minute)
	created, err := s.CreatePerson(ctx, in)
	if err != nil {
		t.Fatalf("CreatePerson: %v", err)
	}
	if created.ID == "" {
		t.Fatal("CreatePerson returned an empty ID")
	}
	if created.Version != 1 {
		t.Errorf("CreatePerson: Version = %d, want 1", created.Version)
	}
	if created.CreatedAt.IsZero() || created.UpdatedAt.IsZero() {
		t.Errorf("CreatePerson: CreatedAt = %v, UpdatedAt = %v; want both set", created.CreatedAt, created.UpdatedAt)
	}
	if created.CreatedAt.Before(before) || created.CreatedAt.After(time.Now().Add(time.Minute)) {
		t.Errorf("CreatePerson: CreatedAt = %v is not around now", created.CreatedAt)
	}
	if created.UpdatedAt.Before(created.CreatedAt) {
		t.Errorf("CreatePerson: UpdatedAt %v before CreatedAt %v", created.UpdatedAt, created.CreatedAt)
	}

	want := in
	want.ID, want.Version, want.CreatedAt, want.UpdatedAt = created.ID, 1, created.CreatedAt, created.UpdatedAt
	checkPerson(t, "CreatePerson result", want, created)
	checkPerson(t, "GetPerson after create", want, mustGetPerson(t, ctx, s, created.ID))

	// A second person gets a different ID; a minimal person (no dates, no attributes) round-trips.
	minimal := mustCreatePerson(t, ctx, s, newPerson("E002"))
	if minimal.ID == created.ID || minimal.ID == mgr.ID {
		t.Fatalf("CreatePerson reused ID %q", minimal.ID)
	}
	got := mustGetPerson(t, ctx, s, minimal.ID)
	checkPerson(t, "GetPerson of minimal person", minimal, got)
	if got.StartDate != nil || got.EndDate != nil {
		t.Errorf("minimal person: StartDate = %s, EndDate = %s, want both nil", fmtTimePtr(got.StartDate), fmtTimePtr(got.EndDate))
	}
}

func testPersonGetUnknown(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	mustCreatePerson(t, ctx, s, newPerson("E001"))
	for _, id := range []string{"does-not-exist", "00000000-0000-0000-0000-000000000000"} {
		_, err := s.GetPerson(ctx, id)
		wantErrIs(t, err, identity.ErrNotFound, "GetPerson("+id+")")
	}
}

func testPersonValidation(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	tree := buildOrgTree(t, ctx, s)
	mustCreatePerson(t, ctx, s, newPerson("E000", func(p *identity.Person) { p.OrgUnitID = tree.Web.ID }))

	cases := []struct {
		name  string
		p     identity.Person
		field string // exact FieldError.Field
		part  string // or: FieldError.Field contains this
	}{
		{"missing employee_id", newPerson(""), "employee_id", ""},
		{"blank employee_id", newPerson("   "), "employee_id", ""},
		{"no legal name", newPerson("E010", func(p *identity.Person) { p.LegalFirstName, p.LegalLastName = "", "" }), "legal_first_name", ""},
		{"bad employment type", newPerson("E011", func(p *identity.Person) { p.EmploymentType = "robot" }), "employment_type", ""},
		{"bad status", newPerson("E012", func(p *identity.Person) { p.Status = "retired" }), "status", ""},
		{"bad work email", newPerson("E013", func(p *identity.Person) { p.WorkEmail = "not-an-email" }), "work_email", ""},
		{"end before start", newPerson("E014", func(p *identity.Person) {
			p.StartDate, p.EndDate = date(2024, time.May, 2), date(2024, time.May, 1)
		}), "end_date", ""},
		{"unknown org unit", newPerson("E015", func(p *identity.Person) { p.OrgUnitID = "no-such-unit" }), "", "org_unit"},
		{"unknown manager", newPerson("E016", func(p *identity.Person) { p.ManagerID = "no-such-person" }), "manager_id", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CreatePerson(ctx, tc.p)
			match, desc := fieldIs(tc.field)
			if tc.part != "" {
				match, desc = fieldContains(tc.part)
			}
			wantFieldError(t, err, "CreatePerson("+tc.name+")", match, desc)
		})
	}
	n, err := s.CountPeople(ctx, directory.PersonFilter{})
	if err != nil {
		t.Fatalf("CountPeople: %v", err)
	}
	if n != 1 {
		t.Errorf("after only invalid creates: CountPeople = %d, want 1", n)
	}
}

func testPersonUniqueness(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	existing := mustCreatePerson(t, ctx, s, newPerson("E001", func(p *identity.Person) {
		p.Username, p.WorkEmail = "alice", "alice@x.com"
	}))

	cases := []struct {
		name  string
		p     identity.Person
		field string
	}{
		{"same employee_id", newPerson("E001"), "employee_id"},
		{"same username", newPerson("E002", func(p *identity.Person) { p.Username = "alice" }), "username"},
		{"username differs in case", newPerson("E003", func(p *identity.Person) { p.Username = "ALICE" }), "username"},
		{"same work_email", newPerson("E004", func(p *identity.Person) { p.WorkEmail = "alice@x.com" }), "work_email"},
		{"work_email differs in case", newPerson("E005", func(p *identity.Person) { p.WorkEmail = "Alice@X.com" }), "work_email"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CreatePerson(ctx, tc.p)
			wantConflict(t, err, "CreatePerson("+tc.name+")", tc.field)
		})
	}

	// The reverse direction: a mixed-case original conflicts with a lower-case newcomer.
	mustCreatePerson(t, ctx, s, newPerson("E010", func(p *identity.Person) {
		p.Username, p.WorkEmail = "Bob.Smith", "Bob.Smith@X.com"
	}))
	_, err := s.CreatePerson(ctx, newPerson("E011", func(p *identity.Person) { p.Username = "bob.smith" }))
	wantConflict(t, err, "CreatePerson(username equal to a mixed-case one)", "username")
	_, err = s.CreatePerson(ctx, newPerson("E012", func(p *identity.Person) { p.WorkEmail = "bob.smith@x.com" }))
	wantConflict(t, err, "CreatePerson(work_email equal to a mixed-case one)", "work_email")

	n, err := s.CountPeople(ctx, directory.PersonFilter{})
	if err != nil {
		t.Fatalf("CountPeople: %v", err)
	}
	if n != 2 {
		t.Errorf("after conflicting creates: CountPeople = %d, want 2", n)
	}
	checkPerson(t, "existing person after conflicts", existing, mustGetPerson(t, ctx, s, existing.ID))
}

func testPersonEmptyOptionalKeys(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	a := mustCreatePerson(t, ctx, s, newPerson("E001"))
	b, err := s.CreatePerson(ctx, newPerson("E002"))
	if err != nil {
		t.Fatalf("second person without username or work email: %v (empty values must not be unique keys)", err)
	}
	if a.Username != "" || b.Username != "" || a.WorkEmail != "" || b.WorkEmail != "" {
		t.Errorf("empty username/work email came back as %q/%q and %q/%q", a.Username, a.WorkEmail, b.Username, b.WorkEmail)
	}
	// And a third, to be sure it was no special case for the second.
	mustCreatePerson(t, ctx, s, newPerson("E003", func(p *identity.Person) { p.PersonalEmail = "x@y.example" }))
}

func testPersonLookup(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	p := mustCreatePerson(t, ctx, s, newPerson("E100", func(p *identity.Person) {
		p.Username, p.WorkEmail = "carol", "carol@example.com"
	}))
	mustCreatePerson(t, ctx, s, newPerson("E200", func(p *identity.Person) {
		p.Username, p.WorkEmail = "dave", "dave@example.com"
	}))

	for _, key := range []string{p.ID, "E100", "carol", "CAROL", "Carol", "carol@example.com", "CAROL@Example.COM"} {
		got, err := s.LookupPerson(ctx, key)
		if err != nil {
			t.Errorf("LookupPerson(%q): %v", key, err)
			continue
		}
		if got.ID != p.ID {
			t.Errorf("LookupPerson(%q) = %s (%s), want %s (E100)", key, got.ID, got.EmployeeID, p.ID)
		}
	}
	for _, key := range []string{"E999", "nobody", "nobody@example.com", "carol@example"} {
		_, err := s.LookupPerson(ctx, key)
		if !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("LookupPerson(%q): got %v, want ErrNotFound", key, err)
		}
	}
}

func testPersonLookupAmbiguous(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	a := mustCreatePerson(t, ctx, s, newPerson("E001", func(p *identity.Person) { p.Username = "jdoe" }))
	b := mustCreatePerson(t, ctx, s, newPerson("jdoe"))
	got, err := s.LookupPerson(ctx, "jdoe")
	if err == nil {
		t.Fatalf("LookupPerson(\"jdoe\") picked %s (employee %s) although it names both %s (username) and %s (employee ID)",
			got.ID, got.EmployeeID, a.ID, b.ID)
	}
	if !errors.Is(err, identity.ErrAmbiguous) || !strings.Contains(err.Error(), "E001") || !strings.Contains(err.Error(), "jdoe") {
		t.Fatalf("LookupPerson of an ambiguous key: %v; want ErrAmbiguous naming both employee IDs", err)
	}
	// The unambiguous keys still work.
	if got, err := s.LookupPerson(ctx, "E001"); err != nil || got.ID != a.ID {
		t.Errorf("LookupPerson(\"E001\") = %q, %v; want %q", got.ID, err, a.ID)
	}
}

func testPersonList(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	o := buildOrgTree(t, ctx, s)
	// Created out of employee ID order, managers first.
	e01 := mustCreatePerson(t, ctx, s, newPerson("E01", func(p *identity.Person) { p.OrgUnitID = o.Infra.ID }))
	mustCreatePerson(t, ctx, s, newPerson("E05", func(p *identity.Person) {
		p.Status, p.EmploymentType, p.OrgUnitID = identity.PreHire, identity.Intern, o.Sales.ID
	}))
	e03 := mustCreatePerson(t, ctx, s, newPerson("E03", func(p *identity.Person) {
		p.Status, p.OrgUnitID, p.ManagerID = identity.OnLeave, o.Platform.ID, e01.ID
	}))
	mustCreatePerson(t, ctx, s, newPerson("E06", func(p *identity.Person) { p.EmploymentType = identity.Vendor }))
	mustCreatePerson(t, ctx, s, newPerson("E04", func(p *identity.Person) {
		p.Status, p.OrgUnitID, p.ManagerID = identity.Terminated, o.FieldTeam.ID, e03.ID
	}))
	mustCreatePerson(t, ctx, s, newPerson("E02", func(p *identity.Person) {
		p.EmploymentType, p.OrgUnitID, p.ManagerID = identity.Contractor, o.Infra.ID, e01.ID
	}))

	cases := []struct {
		name  string
		f     directory.PersonFilter
		want  []string // employee IDs in order
		count bool     // also check CountPeople
	}{
		{"no filter", directory.PersonFilter{}, []string{"E01", "E02", "E03", "E04", "E05", "E06"}, true},
		{"status active", directory.PersonFilter{Statuses: []identity.Status{identity.Active}}, []string{"E01", "E02", "E06"}, true},
		{"status active or on_leave", directory.PersonFilter{Statuses: []identity.Status{identity.OnLeave, identity.Active}}, []string{"E01", "E02", "E03", "E06"}, true},
		{"status suspended", directory.PersonFilter{Statuses: []identity.Status{identity.Suspended}}, nil, true},
		{"contractor or vendor", directory.PersonFilter{EmploymentTypes: []identity.EmploymentType{identity.Contractor, identity.Vendor}}, []string{"E02", "E06"}, true},
		{"org unit team", directory.PersonFilter{OrgUnitID: o.Infra.ID}, []string{"E01", "E02"}, true},
		{"org unit department only", directory.PersonFilter{OrgUnitID: o.Platform.ID}, []string{"E03"}, true},
		{"org unit division without subtree", directory.PersonFilter{OrgUnitID: o.Eng.ID}, nil, true},
		{"org unit division subtree", directory.PersonFilter{OrgUnitID: o.Eng.ID, Subtree: true}, []string{"E01", "E02", "E03"}, true},
		{"org unit other division subtree", directory.PersonFilter{OrgUnitID: o.Sales.ID, Subtree: true}, []string{"E04", "E05"}, true},
		{"organization subtree", directory.PersonFilter{OrgUnitID: o.Org.ID, Subtree: true}, []string{"E01", "E02", "E03", "E04", "E05"}, true},
		{"leaf team subtree", directory.PersonFilter{OrgUnitID: o.Tooling.ID, Subtree: true}, nil, true},
		{"manager", directory.PersonFilter{ManagerID: e01.ID}, []string{"E02", "E03"}, true},
		{"other manager", directory.PersonFilter{ManagerID: e03.ID}, []string{"E04"}, true},
		{"status and subtree", directory.PersonFilter{Statuses: []identity.Status{identity.Active}, OrgUnitID: o.Eng.ID, Subtree: true}, []string{"E01", "E02"}, true},
		{"limit", directory.PersonFilter{Limit: 2}, []string{"E01", "E02"}, false},
		{"limit offset", directory.PersonFilter{Limit: 2, Offset: 2}, []string{"E03", "E04"}, false},
		{"limit past end", directory.PersonFilter{Limit: 4, Offset: 4}, []string{"E05", "E06"}, false},
		{"offset only", directory.PersonFilter{Offset: 5}, []string{"E06"}, false},
		{"offset past end", directory.PersonFilter{Offset: 6}, nil, false},
		{"filter with limit", directory.PersonFilter{Statuses: []identity.Status{identity.Active}, Limit: 1, Offset: 1}, []string{"E02"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListPeople(ctx, tc.f)
			if err != nil {
				t.Fatalf("ListPeople(%+v): %v", tc.f, err)
			}
			if ids := employeeIDs(got); !equalStrings(ids, tc.want) {
				t.Errorf("ListPeople(%+v) = %v, want %v (ordered by employee_id)", tc.f, ids, tc.want)
			}
			if !tc.count {
				return
			}
			n, err := s.CountPeople(ctx, tc.f)
			if err != nil {
				t.Fatalf("CountPeople(%+v): %v", tc.f, err)
			}
			if n != int64(len(tc.want)) {
				t.Errorf("CountPeople(%+v) = %d, want %d", tc.f, n, len(tc.want))
			}
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func testManagerChain(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	ceo := mustCreatePerson(t, ctx, s, newPerson("CEO"))
	vp := mustCreatePerson(t, ctx, s, newPerson("VP", func(p *identity.Person) { p.ManagerID = ceo.ID }))
	mgr := mustCreatePerson(t, ctx, s, newPerson("MGR", func(p *identity.Person) { p.ManagerID = vp.ID }))
	eng := mustCreatePerson(t, ctx, s, newPerson("ENG", func(p *identity.Person) { p.ManagerID = mgr.ID }))

	cases := []struct {
		who  identity.Person
		want []string
	}{
		{eng, []string{mgr.ID, vp.ID, ceo.ID}},
		{mgr, []string{vp.ID, ceo.ID}},
		{vp, []string{ceo.ID}},
		{ceo, nil},
	}
	for _, tc := range cases {
		chain, err := s.ManagerChain(ctx, tc.who.ID)
		if err != nil {
			t.Errorf("ManagerChain(%s): %v", tc.who.EmployeeID, err)
			continue
		}
		if got := personIDs(chain); !equalStrings(got, tc.want) {
			t.Errorf("ManagerChain(%s) = %v (employees %v), want %v nearest first", tc.who.EmployeeID, got, employeeIDs(chain), tc.want)
		}
	}
}
