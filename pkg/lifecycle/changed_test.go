package lifecycle

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/hr"
	"github.com/tenure-id/tenure/pkg/identity"
)

// Options.Changed hears of every person an applied event changed: at once for events due now,
// when the scheduler applies them for future ones, and never for duplicates or mere scheduling.
func TestChangedHookNamesThePeopleChanged(t *testing.T) {
	c := &clock{t: day1}
	s := openStore(t, "sqlite://"+filepath.Join(t.TempDir(), "t.db"), c)
	var calls [][]string
	e := New(s, Options{Clock: c.Now, Naming: Naming{Domain: "piedpiper.test"}, LeaveTime: 17 * time.Hour,
		Changed: func(ids []string) { calls = append(calls, slices.Clone(ids)) }})
	d := func(first, last string) hr.Data {
		return hr.Data{FirstName: first, LastName: last, EmploymentType: identity.Employee, Organization: "Pied Piper"}
	}
	hire := hrEvent(identity.Hire, "PP001", c.Now(), d("Richard", "Hendricks"))
	hire.ExternalID = "hire-1"
	if _, err := e.Submit(ctxAs("test"), []identity.Event{hire, hrEvent(identity.Hire, "PP002", c.Now(), d("Monica", "Hall"))}, SubmitOptions{}); err != nil {
		t.Fatal(err)
	}
	richard, monica := person(t, s, "PP001"), person(t, s, "PP002")
	if len(calls) != 1 || !slices.Equal(calls[0], []string{richard.ID, monica.ID}) {
		t.Fatalf("after two hires, Changed calls = %v; want one with [%s %s]", calls, richard.ID, monica.ID)
	}
	if _, err := e.Submit(ctxAs("test"), []identity.Event{hire}, SubmitOptions{}); err != nil {
		t.Fatal(err)
	}
	leave := day1.AddDate(0, 0, 2)
	if _, err := e.Submit(ctxAs("test"), []identity.Event{hrEvent(identity.Terminate, "PP002", leave, hr.Data{})}, SubmitOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 {
		t.Fatalf("a duplicate and a future termination called Changed: %v; want no call", calls[1:])
	}
	c.Set(leave.Add(24 * time.Hour))
	if n, err := e.ApplyDue(ctxAs("scheduler")); err != nil || n != 1 {
		t.Fatalf("ApplyDue = %d, %v", n, err)
	}
	if len(calls) != 2 || !slices.Equal(calls[1], []string{monica.ID}) {
		t.Fatalf("after the due termination, Changed calls = %v; want [%s] last", calls, monica.ID)
	}
	if p := person(t, s, "PP002"); p.Status != identity.Terminated {
		t.Errorf("PP002 status %s after the termination", p.Status)
	}
}
