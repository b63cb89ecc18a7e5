// Package conformance is a test suite that every directory.Store implementation must pass. It
// checks the contract documented on the directory interfaces (and on the identity types) through
// the interface alone, so the same tests run against SQLite, PostgreSQL or any future backend:
//
//	func TestConformance(t *testing.T) {
//		conformance.RunTests(t, func(t *testing.T) directory.Store { return newEmptyStore(t) })
//	}
//
// Every subtest gets its own fresh store and none runs in parallel, so a backend that allows a
// single writer (SQLite) is tested the same way as one that does not.
package conformance

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// subTest is one named conformance check run against a fresh store.
type subTest struct {
	name string
	run  func(t *testing.T, s directory.Store)
}

// RunTests runs the whole suite. newStore must return a fresh, empty, migrated store; closing
// it is the factory's job (t.Cleanup).
func RunTests(t *testing.T, newStore func(t *testing.T) directory.Store) {
	t.Helper()
	var all []subTest
	all = append(all, peopleTests()...)
	all = append(all, peopleUpdateTests()...)
	all = append(all, orgTests()...)
	all = append(all, groupTests()...)
	all = append(all, accessTests()...)
	all = append(all, eventTests()...)
	all = append(all, txTests()...)
	all = append(all, auditTests()...)
	all = append(all, ldapTests()...)
	all = append(all, hrBulkTests()...)
	all = append(all, samlTests()...)
	all = append(all, outboxTests()...)
	all = append(all, authnTests()...)
	all = append(all, scimTests()...)
	all = append(all, authnPurgeTests()...)
	all = append(all, samlParkingTests()...)
	all = append(all, samlReplayTests()...)
	all = append(all, samlSessionTests()...)
	all = append(all, subTest{"Ping", testPing})
	for _, st := range all {
		t.Run(st.name, func(t *testing.T) {
			s := newStore(t)
			if s == nil {
				t.Fatal("newStore returned a nil store")
			}
			st.run(t, s)
		})
	}
}

func testPing(t *testing.T, s directory.Store) {
	if err := s.Ping(testContext(t)); err != nil {
		t.Fatalf("Ping on a fresh store: %v", err)
	}
}

// testContext is a background-derived context bounded in time, so a deadlocked backend fails
// the test instead of hanging the whole run.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// errSentinel is returned by callbacks to check that the store hands back errors as is.
var errSentinel = errors.New("conformance: sentinel error from callback")

// newPerson is a valid person with the given employee ID; mods adjust it.
func newPerson(employeeID string, mods ...func(*identity.Person)) identity.Person {
	p := identity.Person{
		EmployeeID:     employeeID,
		LegalFirstName: "First" + employeeID,
		LegalLastName:  "Last",
		EmploymentType: identity.Employee,
		Status:         identity.Active,
	}
	for _, m := range mods {
		m(&p)
	}
	return p
}

func mustCreatePerson(t *testing.T, ctx context.Context, s directory.Store, p identity.Person) identity.Person {
	t.Helper()
	got, err := s.CreatePerson(ctx, p)
	if err != nil {
		t.Fatalf("CreatePerson(employee_id %q): %v", p.EmployeeID, err)
	}
	return got
}

func mustGetPerson(t *testing.T, ctx context.Context, s directory.Store, id string) identity.Person {
	t.Helper()
	got, err := s.GetPerson(ctx, id)
	if err != nil {
		t.Fatalf("GetPerson(%q): %v", id, err)
	}
	return got
}

func mustCreateOrgUnit(t *testing.T, ctx context.Context, s directory.Store, name string, kind identity.OrgUnitKind, parentID string) identity.OrgUnit {
	t.Helper()
	u, err := s.CreateOrgUnit(ctx, identity.OrgUnit{Name: name, Kind: kind, ParentID: parentID})
	if err != nil {
		t.Fatalf("CreateOrgUnit(%s %q under %q): %v", kind, name, parentID, err)
	}
	return u
}

// orgTree is the sample tree:
//
//	Acme (organization)
//	├── Engineering (division)
//	│   ├── Platform (department)
//	│   │   ├── Infra (team)
//	│   │   └── Tooling (team)
//	│   └── Product (department)
//	│       └── Web (team)
//	└── Sales (division)
//	    └── EMEA (department)
//	        └── Field (team)
type orgTree struct {
	Org                            identity.OrgUnit
	Eng, Sales                     identity.OrgUnit
	Platform, Product, EMEA        identity.OrgUnit
	Infra, Tooling, Web, FieldTeam identity.OrgUnit
}

func buildOrgTree(t *testing.T, ctx context.Context, s directory.Store) orgTree {
	t.Helper()
	var o orgTree
	o.Org = mustCreateOrgUnit(t, ctx, s, "Acme", identity.Organization, "")
	o.Eng = mustCreateOrgUnit(t, ctx, s, "Engineering", identity.Division, o.Org.ID)
	o.Sales = mustCreateOrgUnit(t, ctx, s, "Sales", identity.Division, o.Org.ID)
	o.Platform = mustCreateOrgUnit(t, ctx, s, "Platform", identity.Department, o.Eng.ID)
	o.Product = mustCreateOrgUnit(t, ctx, s, "Product", identity.Department, o.Eng.ID)
	o.EMEA = mustCreateOrgUnit(t, ctx, s, "EMEA", identity.Department, o.Sales.ID)
	o.Infra = mustCreateOrgUnit(t, ctx, s, "Infra", identity.Team, o.Platform.ID)
	o.Tooling = mustCreateOrgUnit(t, ctx, s, "Tooling", identity.Team, o.Platform.ID)
	o.Web = mustCreateOrgUnit(t, ctx, s, "Web", identity.Team, o.Product.ID)
	o.FieldTeam = mustCreateOrgUnit(t, ctx, s, "Field", identity.Team, o.EMEA.ID)
	return o
}

// wantErrIs fails unless errors.Is(err, target).
func wantErrIs(t *testing.T, err, target error, what string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: got no error, want %v", what, target)
	}
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %q (%T), want one matching %v", what, err, err, target)
	}
}

// wantFieldError fails unless err is ErrInvalid carrying an *identity.FieldError whose Field
// satisfies match.
func wantFieldError(t *testing.T, err error, what string, match func(field string) bool, describe string) {
	t.Helper()
	wantErrIs(t, err, identity.ErrInvalid, what)
	var fe *identity.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("%s: error %q (%T) is ErrInvalid but carries no *identity.FieldError", what, err, err)
	}
	if !match(fe.Field) {
		t.Errorf("%s: FieldError.Field = %q, want %s (error %q)", what, fe.Field, describe, err)
	}
}

func fieldIs(want string) (func(string) bool, string) {
	return func(f string) bool { return f == want }, "exactly " + quote(want)
}

func fieldContains(want string) (func(string) bool, string) {
	return func(f string) bool { return strings.Contains(f, want) }, "containing " + quote(want)
}

func wantField(t *testing.T, err error, what, field string) {
	t.Helper()
	m, d := fieldIs(field)
	wantFieldError(t, err, what, m, d)
}

// wantConflict fails unless err is ErrConflict carrying an *identity.ConflictError on field.
func wantConflict(t *testing.T, err error, what, field string) {
	t.Helper()
	wantErrIs(t, err, identity.ErrConflict, what)
	if field == "" {
		return
	}
	var ce *identity.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("%s: error %q (%T) is ErrConflict but carries no *identity.ConflictError", what, err, err)
	}
	if ce.Field != field {
		t.Errorf("%s: ConflictError.Field = %q, want %q (error %q)", what, ce.Field, field, err)
	}
}

func quote(s string) string { return `"` + s + `"` }

// date is midnight UTC of the given day, which every backend stores exactly.
func date(y int, m time.Month, d int) *time.Time {
	v := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return &v
}

func equalTimePtr(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func fmtTimePtr(p *time.Time) string {
	if p == nil {
		return "<nil>"
	}
	return p.Format(time.RFC3339Nano)
}

// equalStringMaps treats nil and empty as equal.
func equalStringMaps(a, b map[string]string) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return maps.Equal(a, b)
}

// checkPerson compares every field of two people; times with time.Equal.
func checkPerson(t *testing.T, what string, want, got identity.Person) {
	t.Helper()
	fields := []struct{ name, want, got string }{
		{"ID", want.ID, got.ID},
		{"EmployeeID", want.EmployeeID, got.EmployeeID},
		{"LegalFirstName", want.LegalFirstName, got.LegalFirstName},
		{"LegalLastName", want.LegalLastName, got.LegalLastName},
		{"PreferredName", want.PreferredName, got.PreferredName},
		{"Username", want.Username, got.Username},
		{"WorkEmail", want.WorkEmail, got.WorkEmail},
		{"PersonalEmail", want.PersonalEmail, got.PersonalEmail},
		{"EmploymentType", string(want.EmploymentType), string(got.EmploymentType)},
		{"Status", string(want.Status), string(got.Status)},
		{"JobTitle", want.JobTitle, got.JobTitle},
		{"JobCode", want.JobCode, got.JobCode},
		{"OrgUnitID", want.OrgUnitID, got.OrgUnitID},
		{"ManagerID", want.ManagerID, got.ManagerID},
		{"Location", want.Location, got.Location},
		{"Country", want.Country, got.Country},
		{"CostCenter", want.CostCenter, got.CostCenter},
	}
	for _, f := range fields {
		if f.want != f.got {
			t.Errorf("%s: %s = %q, want %q", what, f.name, f.got, f.want)
		}
	}
	if !equalTimePtr(want.StartDate, got.StartDate) {
		t.Errorf("%s: StartDate = %s, want %s", what, fmtTimePtr(got.StartDate), fmtTimePtr(want.StartDate))
	}
	if !equalTimePtr(want.EndDate, got.EndDate) {
		t.Errorf("%s: EndDate = %s, want %s", what, fmtTimePtr(got.EndDate), fmtTimePtr(want.EndDate))
	}
	if !equalStringMaps(want.Attributes, got.Attributes) {
		t.Errorf("%s: Attributes = %v, want %v", what, got.Attributes, want.Attributes)
	}
	if want.Version != got.Version {
		t.Errorf("%s: Version = %d, want %d", what, got.Version, want.Version)
	}
	if !want.CreatedAt.Equal(got.CreatedAt) {
		t.Errorf("%s: CreatedAt = %s, want %s", what, got.CreatedAt.Format(time.RFC3339Nano), want.CreatedAt.Format(time.RFC3339Nano))
	}
	if !want.UpdatedAt.Equal(got.UpdatedAt) {
		t.Errorf("%s: UpdatedAt = %s, want %s", what, got.UpdatedAt.Format(time.RFC3339Nano), want.UpdatedAt.Format(time.RFC3339Nano))
	}
}

// pluck maps a slice to one field of each element, for comparing lists in assertions.
func pluck[T, U any](xs []T, field func(T) U) []U {
	out := make([]U, len(xs))
	for i, x := range xs {
		out[i] = field(x)
	}
	return out
}

func employeeIDs(people []identity.Person) []string {
	return pluck(people, func(p identity.Person) string { return p.EmployeeID })
}

func personIDs(people []identity.Person) []string {
	return pluck(people, func(p identity.Person) string { return p.ID })
}

func unitIDs(units []identity.OrgUnit) []string {
	return pluck(units, func(u identity.OrgUnit) string { return u.ID })
}

func unitNames(units []identity.OrgUnit) []string {
	return pluck(units, func(u identity.OrgUnit) string { return u.Name })
}

// sameSet reports whether a and b hold the same strings, ignoring order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// checkParentsFirst fails when a unit appears before its parent, or a parent inside the list
// is missing.
func checkParentsFirst(t *testing.T, what string, units []identity.OrgUnit) {
	t.Helper()
	pos := map[string]int{}
	for i, u := range units {
		pos[u.ID] = i
	}
	for i, u := range units {
		if u.ParentID == "" {
			continue
		}
		if p, ok := pos[u.ParentID]; ok && p > i {
			t.Errorf("%s: %q (position %d) comes before its parent (position %d); order %v", what, u.Name, i, p, unitNames(units))
		}
	}
}
