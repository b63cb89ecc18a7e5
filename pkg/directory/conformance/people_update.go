package conformance

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

func peopleUpdateTests() []subTest {
	return []subTest{
		{"PersonUpdate", testPersonUpdate},
		{"PersonUpdateUnknown", testPersonUpdateUnknown},
		{"PersonUpdateCallbackError", testPersonUpdateCallbackError},
		{"PersonUpdateKeepsIdentity", testPersonUpdateKeepsIdentity},
		{"PersonUpdateConflict", testPersonUpdateConflict},
		{"PersonUpdateValidation", testPersonUpdateValidation},
		{"PersonUpdateManagerCycle", testPersonUpdateManagerCycle},
		{"PersonConcurrentUpdates", testPersonConcurrentUpdates},
	}
}

func testPersonUpdate(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	tree := buildOrgTree(t, ctx, s)
	mgr := mustCreatePerson(t, ctx, s, newPerson("M001"))
	p := mustCreatePerson(t, ctx, s, newPerson("E001", func(p *identity.Person) {
		p.Username, p.Attributes = "erin", map[string]string{"a": "1"}
	}))

	updated, err := s.UpdatePerson(ctx, p.ID, func(q *identity.Person) error {
		if q.Version != p.Version || q.EmployeeID != "E001" {
			return fmt.Errorf("callback saw version %d employee %q, want %d %q", q.Version, q.EmployeeID, p.Version, "E001")
		}
		q.JobTitle = "Staff Engineer"
		q.Status = identity.OnLeave
		q.OrgUnitID = tree.Web.ID
		q.ManagerID = mgr.ID
		q.WorkEmail = "erin@example.com"
		q.StartDate = date(2023, time.January, 9)
		q.Attributes = map[string]string{"a": "2", "b": "3"}
		return nil
	})
	if err != nil {
		t.Fatalf("UpdatePerson: %v", err)
	}
	if updated.Version != p.Version+1 {
		t.Errorf("UpdatePerson: Version = %d, want %d", updated.Version, p.Version+1)
	}
	if updated.UpdatedAt.Before(p.UpdatedAt) {
		t.Errorf("UpdatePerson: UpdatedAt went back from %v to %v", p.UpdatedAt, updated.UpdatedAt)
	}
	want := p
	want.JobTitle, want.Status, want.OrgUnitID, want.ManagerID = "Staff Engineer", identity.OnLeave, tree.Web.ID, mgr.ID
	want.WorkEmail, want.StartDate = "erin@example.com", date(2023, time.January, 9)
	want.Attributes = map[string]string{"a": "2", "b": "3"}
	want.Version, want.UpdatedAt = p.Version+1, updated.UpdatedAt
	checkPerson(t, "UpdatePerson result", want, updated)
	checkPerson(t, "GetPerson after update", want, mustGetPerson(t, ctx, s, p.ID))

	// Clearing optional fields stores the clearing.
	cleared, err := s.UpdatePerson(ctx, p.ID, func(q *identity.Person) error {
		q.ManagerID, q.OrgUnitID, q.StartDate, q.Attributes, q.JobTitle = "", "", nil, nil, ""
		return nil
	})
	if err != nil {
		t.Fatalf("UpdatePerson (clear fields): %v", err)
	}
	if cleared.Version != p.Version+2 {
		t.Errorf("second UpdatePerson: Version = %d, want %d", cleared.Version, p.Version+2)
	}
	want.ManagerID, want.OrgUnitID, want.StartDate, want.Attributes, want.JobTitle = "", "", nil, nil, ""
	want.Version, want.UpdatedAt = cleared.Version, cleared.UpdatedAt
	checkPerson(t, "GetPerson after clearing fields", want, mustGetPerson(t, ctx, s, p.ID))
}

func testPersonUpdateUnknown(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	called := false
	_, err := s.UpdatePerson(ctx, "no-such-person", func(*identity.Person) error { called = true; return nil })
	wantErrIs(t, err, identity.ErrNotFound, "UpdatePerson(unknown id)")
	if called {
		t.Error("UpdatePerson called fn for a person that does not exist")
	}
}

func testPersonUpdateCallbackError(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	p := mustCreatePerson(t, ctx, s, newPerson("E001"))
	_, err := s.UpdatePerson(ctx, p.ID, func(q *identity.Person) error {
		q.JobTitle = "should not be stored"
		q.Status = identity.Terminated
		return fmt.Errorf("wrapped: %w", errSentinel)
	})
	wantErrIs(t, err, errSentinel, "UpdatePerson with failing fn")
	checkPerson(t, "person after failed update", p, mustGetPerson(t, ctx, s, p.ID))
}

func testPersonUpdateKeepsIdentity(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	p := mustCreatePerson(t, ctx, s, newPerson("E001"))
	other := mustCreatePerson(t, ctx, s, newPerson("E002"))
	updated, err := s.UpdatePerson(ctx, p.ID, func(q *identity.Person) error {
		q.ID = other.ID
		q.Version = 42
		q.CreatedAt = time.Date(2001, time.January, 1, 0, 0, 0, 0, time.UTC)
		q.JobTitle = "changed"
		return nil
	})
	if err != nil {
		t.Fatalf("UpdatePerson: %v", err)
	}
	if updated.ID != p.ID {
		t.Errorf("UpdatePerson: ID changed from %q to %q", p.ID, updated.ID)
	}
	if updated.Version != p.Version+1 {
		t.Errorf("UpdatePerson: Version = %d, want %d (fn may not set it)", updated.Version, p.Version+1)
	}
	if !updated.CreatedAt.Equal(p.CreatedAt) {
		t.Errorf("UpdatePerson: CreatedAt changed from %v to %v", p.CreatedAt, updated.CreatedAt)
	}
	got := mustGetPerson(t, ctx, s, p.ID)
	if got.JobTitle != "changed" || got.Version != p.Version+1 || !got.CreatedAt.Equal(p.CreatedAt) {
		t.Errorf("GetPerson after update: job %q version %d created %v; want %q %d %v",
			got.JobTitle, got.Version, got.CreatedAt, "changed", p.Version+1, p.CreatedAt)
	}
	checkPerson(t, "the other person", other, mustGetPerson(t, ctx, s, other.ID))
}

func testPersonUpdateConflict(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	mustCreatePerson(t, ctx, s, newPerson("E001", func(p *identity.Person) {
		p.Username, p.WorkEmail = "frank", "frank@example.com"
	}))
	p := mustCreatePerson(t, ctx, s, newPerson("E002", func(p *identity.Person) {
		p.Username, p.WorkEmail = "grace", "grace@example.com"
	}))
	cases := []struct {
		name  string
		fn    func(*identity.Person)
		field string
	}{
		{"employee_id", func(q *identity.Person) { q.EmployeeID = "E001" }, "employee_id"},
		{"username", func(q *identity.Person) { q.Username = "frank" }, "username"},
		{"username other case", func(q *identity.Person) { q.Username = "FRANK" }, "username"},
		{"work_email", func(q *identity.Person) { q.WorkEmail = "frank@example.com" }, "work_email"},
		{"work_email other case", func(q *identity.Person) { q.WorkEmail = "Frank@Example.com" }, "work_email"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.UpdatePerson(ctx, p.ID, func(q *identity.Person) error {
				tc.fn(q)
				q.JobTitle = "should not be stored"
				return nil
			})
			wantConflict(t, err, "UpdatePerson("+tc.name+")", tc.field)
			checkPerson(t, "person after conflicting update", p, mustGetPerson(t, ctx, s, p.ID))
		})
	}
	// Changing only the case of one's own username is no conflict with oneself.
	if _, err := s.UpdatePerson(ctx, p.ID, func(q *identity.Person) error { q.Username = "Grace"; return nil }); err != nil {
		t.Errorf("UpdatePerson changing the case of the person's own username: %v", err)
	}
}

func testPersonUpdateValidation(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	p := mustCreatePerson(t, ctx, s, newPerson("E001"))
	cases := []struct {
		name  string
		fn    func(*identity.Person)
		match func(string) bool
		desc  string
	}{
		{"clear employee_id", func(q *identity.Person) { q.EmployeeID = "" }, nil, "employee_id"},
		{"bad status", func(q *identity.Person) { q.Status = "gone" }, nil, "status"},
		{"unknown manager", func(q *identity.Person) { q.ManagerID = "no-such-person" }, nil, "manager_id"},
		{"unknown org unit", func(q *identity.Person) { q.OrgUnitID = "no-such-unit" }, func(f string) bool { return strings.Contains(f, "org_unit") }, `containing "org_unit"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.UpdatePerson(ctx, p.ID, func(q *identity.Person) error { tc.fn(q); return nil })
			match, desc := tc.match, tc.desc
			if match == nil {
				match, desc = fieldIs(tc.desc)
			}
			wantFieldError(t, err, "UpdatePerson("+tc.name+")", match, desc)
			checkPerson(t, "person after invalid update", p, mustGetPerson(t, ctx, s, p.ID))
		})
	}
}

func testPersonUpdateManagerCycle(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	a := mustCreatePerson(t, ctx, s, newPerson("A"))
	b := mustCreatePerson(t, ctx, s, newPerson("B", func(p *identity.Person) { p.ManagerID = a.ID }))
	c := mustCreatePerson(t, ctx, s, newPerson("C", func(p *identity.Person) { p.ManagerID = b.ID }))

	cases := []struct {
		name    string
		who     identity.Person
		manager string
	}{
		{"self", a, a.ID},
		{"self with a manager", b, b.ID},
		{"two-person cycle", a, b.ID},
		{"three-person cycle", a, c.ID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := mustGetPerson(t, ctx, s, tc.who.ID)
			_, err := s.UpdatePerson(ctx, tc.who.ID, func(q *identity.Person) error { q.ManagerID = tc.manager; return nil })
			wantField(t, err, "UpdatePerson("+tc.name+")", "manager_id")
			checkPerson(t, "person after rejected manager change", before, mustGetPerson(t, ctx, s, tc.who.ID))
		})
	}
	// A legal change in the same chain still works: C reports to A directly.
	if _, err := s.UpdatePerson(ctx, c.ID, func(q *identity.Person) error { q.ManagerID = a.ID; return nil }); err != nil {
		t.Errorf("UpdatePerson(C reports to A): %v", err)
	}
}

func testPersonConcurrentUpdates(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	p := mustCreatePerson(t, ctx, s, newPerson("E001", func(p *identity.Person) {
		p.Attributes = map[string]string{"counter": "0"}
	}))
	const workers, increments = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*increments)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range increments {
				_, err := s.UpdatePerson(ctx, p.ID, func(q *identity.Person) error {
					n, err := strconv.Atoi(q.Attributes["counter"])
					if err != nil {
						return fmt.Errorf("counter attribute %q: %v", q.Attributes["counter"], err)
					}
					if q.Attributes == nil {
						q.Attributes = map[string]string{}
					}
					q.Attributes["counter"] = strconv.Itoa(n + 1)
					return nil
				})
				if err != nil {
					errs <- fmt.Errorf("worker %d increment %d: %w", w, i, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		failed++
		if failed <= 5 {
			t.Errorf("concurrent UpdatePerson: %v", err)
		}
	}
	if failed > 5 {
		t.Errorf("... and %d more concurrent UpdatePerson errors", failed-5)
	}
	got := mustGetPerson(t, ctx, s, p.ID)
	if want := strconv.Itoa(workers*increments - failed); got.Attributes["counter"] != want {
		t.Errorf("counter = %q after %d successful increments, want %q (lost updates)", got.Attributes["counter"], workers*increments-failed, want)
	}
	if got.Attributes["counter"] != strconv.Itoa(workers*increments) {
		t.Errorf("counter = %q, want %d", got.Attributes["counter"], workers*increments)
	}
	if want := int64(1 + workers*increments); got.Version != want {
		t.Errorf("Version = %d, want %d", got.Version, want)
	}
}
