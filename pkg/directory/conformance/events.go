package conformance

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

func eventTests() []subTest {
	return []subTest{
		{"EventCreateGet", testEventCreateGet},
		{"EventExternalIDUnique", testEventExternalIDUnique},
		{"EventList", testEventList},
		{"EventUpdate", testEventUpdate},
	}
}

// baseTime is a fixed moment, whole seconds in UTC, that every backend stores exactly.
var baseTime = time.Date(2030, time.June, 1, 9, 0, 0, 0, time.UTC)

func newEvent(employeeID string, at time.Time, mods ...func(*identity.Event)) identity.Event {
	e := identity.Event{Type: identity.Hire, EmployeeID: employeeID, EffectiveAt: at, Source: "cli", State: identity.EventPending}
	for _, m := range mods {
		m(&e)
	}
	return e
}

func sameJSON(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b) || string(a) == "null" || string(b) == "null"
	}
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Errorf("invalid JSON %q: %v", a, err)
		return false
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Errorf("invalid JSON %q: %v", b, err)
		return false
	}
	return reflect.DeepEqual(va, vb)
}

func eventIDs(es []identity.Event) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

func testEventCreateGet(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	in := newEvent("E001", baseTime, func(e *identity.Event) {
		e.ExternalID = "hr-evt-1"
		e.Type = identity.Transfer
		e.Source = "webhook"
		e.Payload = json.RawMessage(`{ "org_unit": "Platform",  "manager": {"employee_id": "M1"}, "n": [1, 2.5, true, null] }`)
	})
	e, err := s.CreateEvent(ctx, in)
	if err != nil {
		t.Fatalf("CreateEvent: %v", err)
	}
	if e.ID == "" || e.CreatedAt.IsZero() {
		t.Errorf("CreateEvent = %+v; want ID and CreatedAt set", e)
	}
	got, err := s.GetEvent(ctx, e.ID)
	if err != nil {
		t.Fatalf("GetEvent: %v", err)
	}
	for _, c := range []struct {
		what string
		ev   identity.Event
	}{{"CreateEvent result", e}, {"GetEvent", got}} {
		ev := c.ev
		if ev.ID != e.ID || ev.ExternalID != in.ExternalID || ev.Type != in.Type || ev.EmployeeID != in.EmployeeID ||
			ev.PersonID != in.PersonID || !ev.EffectiveAt.Equal(in.EffectiveAt) || ev.Source != in.Source ||
			ev.State != in.State || ev.Error != "" || ev.AppliedAt != nil || !ev.CreatedAt.Equal(e.CreatedAt) {
			t.Errorf("%s = %+v, want the fields of %+v", c.what, ev, in)
		}
		if !sameJSON(t, ev.Payload, in.Payload) {
			t.Errorf("%s: Payload = %s, want the same JSON as %s", c.what, ev.Payload, in.Payload)
		}
	}

	plain, err := s.CreateEvent(ctx, newEvent("E002", baseTime))
	if err != nil {
		t.Fatalf("CreateEvent(no payload): %v", err)
	}
	got, err = s.GetEvent(ctx, plain.ID)
	if err != nil {
		t.Fatalf("GetEvent: %v", err)
	}
	if len(got.Payload) != 0 && string(got.Payload) != "null" {
		t.Errorf("event without payload came back with Payload %s", got.Payload)
	}

	_, err = s.GetEvent(ctx, "no-such-event")
	wantErrIs(t, err, identity.ErrNotFound, "GetEvent(unknown)")

	cases := []struct {
		name  string
		e     identity.Event
		field string
	}{
		{"bad type", newEvent("E1", baseTime, func(e *identity.Event) { e.Type = "promotion" }), "type"},
		{"no employee", newEvent("", baseTime), "employee_id"},
		{"no effective time", newEvent("E1", time.Time{}), "effective_at"},
		{"bad state", newEvent("E1", baseTime, func(e *identity.Event) { e.State = "done" }), "state"},
		{"bad payload", newEvent("E1", baseTime, func(e *identity.Event) { e.Payload = json.RawMessage(`{"a":`) }), "payload"},
	}
	for _, tc := range cases {
		_, err := s.CreateEvent(ctx, tc.e)
		wantField(t, err, "CreateEvent("+tc.name+")", tc.field)
	}
}

func testEventExternalIDUnique(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	first, err := s.CreateEvent(ctx, newEvent("E001", baseTime, func(e *identity.Event) { e.ExternalID = "hr-1" }))
	if err != nil {
		t.Fatalf("CreateEvent: %v", err)
	}
	_, err = s.CreateEvent(ctx, newEvent("E002", baseTime.Add(time.Hour), func(e *identity.Event) {
		e.ExternalID = "hr-1"
		e.Type = identity.Terminate
	}))
	wantConflict(t, err, "CreateEvent(duplicate ExternalID)", "")

	for i := range 2 {
		if _, err := s.CreateEvent(ctx, newEvent("E001", baseTime)); err != nil {
			t.Fatalf("CreateEvent without ExternalID #%d: %v (empty ExternalIDs must not conflict)", i+1, err)
		}
	}
	all, err := s.ListEvents(ctx, directory.EventFilter{})
	if err != nil {
		t.Fatalf("ListEvents: %v", err)
	}
	if len(all) != 3 {
		t.Errorf("ListEvents returned %d events, want 3", len(all))
	}
	got, err := s.GetEvent(ctx, first.ID)
	if err != nil {
		t.Fatalf("GetEvent: %v", err)
	}
	if got.EmployeeID != "E001" || got.Type != identity.Hire {
		t.Errorf("the first event was changed by the duplicate: %+v", got)
	}
}

func testEventList(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	create := func(e identity.Event) identity.Event {
		t.Helper()
		got, err := s.CreateEvent(ctx, e)
		if err != nil {
			t.Fatalf("CreateEvent: %v", err)
		}
		return got
	}
	// Created out of effective order.
	late := create(newEvent("E001", baseTime.Add(3*time.Hour), func(e *identity.Event) { e.Type = identity.Terminate }))
	early := create(newEvent("E001", baseTime.Add(1*time.Hour)))
	middle := create(newEvent("E002", baseTime.Add(2*time.Hour), func(e *identity.Event) { e.Type = identity.Leave }))
	applied := create(newEvent("E002", baseTime, func(e *identity.Event) { e.State = identity.EventApplied }))
	held := create(newEvent("E003", baseTime.Add(90*time.Minute), func(e *identity.Event) { e.State = identity.EventHeld }))
	sameTimeLater := create(newEvent("E003", baseTime.Add(2*time.Hour))) // ties with middle; created after it

	due := baseTime.Add(2 * time.Hour)
	cases := []struct {
		name string
		f    directory.EventFilter
		want []identity.Event
	}{
		{"all", directory.EventFilter{}, []identity.Event{applied, early, held, middle, sameTimeLater, late}},
		{"pending", directory.EventFilter{States: []identity.EventState{identity.EventPending}}, []identity.Event{early, middle, sameTimeLater, late}},
		{"pending or held", directory.EventFilter{States: []identity.EventState{identity.EventHeld, identity.EventPending}}, []identity.Event{early, held, middle, sameTimeLater, late}},
		{"rejected", directory.EventFilter{States: []identity.EventState{identity.EventRejected}}, nil},
		{"pending due by", directory.EventFilter{States: []identity.EventState{identity.EventPending}, DueBy: &due}, []identity.Event{early, middle, sameTimeLater}},
		{"due by", directory.EventFilter{DueBy: &due}, []identity.Event{applied, early, held, middle, sameTimeLater}},
		{"employee", directory.EventFilter{EmployeeID: "E001"}, []identity.Event{early, late}},
		{"limit", directory.EventFilter{States: []identity.EventState{identity.EventPending}, Limit: 2}, []identity.Event{early, middle}},
	}
	for _, tc := range cases {
		got, err := s.ListEvents(ctx, tc.f)
		if err != nil {
			t.Errorf("ListEvents(%s): %v", tc.name, err)
			continue
		}
		if !equalStrings(eventIDs(got), eventIDs(tc.want)) {
			t.Errorf("ListEvents(%s) = %v, want %v (by effective time, then creation)", tc.name, eventLabels(got), eventLabels(tc.want))
		}
	}
}

func eventLabels(es []identity.Event) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.EmployeeID + "/" + string(e.Type) + "/" + string(e.State) + "@" + e.EffectiveAt.UTC().Format("15:04")
	}
	return out
}

func testEventUpdate(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	e, err := s.CreateEvent(ctx, newEvent("E001", baseTime, func(e *identity.Event) { e.Payload = json.RawMessage(`{"a":1}`) }))
	if err != nil {
		t.Fatalf("CreateEvent: %v", err)
	}
	appliedAt := time.Now().UTC().Truncate(time.Second)
	updated, err := s.UpdateEvent(ctx, e.ID, func(ev *identity.Event) error {
		if ev.State != identity.EventPending {
			t.Errorf("UpdateEvent fn saw state %q, want pending", ev.State)
		}
		ev.State, ev.AppliedAt = identity.EventApplied, &appliedAt
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateEvent: %v", err)
	}
	got, err := s.GetEvent(ctx, e.ID)
	if err != nil {
		t.Fatalf("GetEvent: %v", err)
	}
	for _, c := range []struct {
		what string
		ev   identity.Event
	}{{"UpdateEvent result", updated}, {"GetEvent after update", got}} {
		if c.ev.ID != e.ID || c.ev.State != identity.EventApplied || !equalTimePtr(c.ev.AppliedAt, &appliedAt) ||
			!c.ev.CreatedAt.Equal(e.CreatedAt) || !c.ev.EffectiveAt.Equal(e.EffectiveAt) || !sameJSON(t, c.ev.Payload, e.Payload) {
			t.Errorf("%s = %+v (applied %s), want state applied at %s, rest unchanged", c.what, c.ev, fmtTimePtr(c.ev.AppliedAt), appliedAt)
		}
	}

	rejected, err := s.UpdateEvent(ctx, e.ID, func(ev *identity.Event) error {
		ev.State, ev.Error, ev.AppliedAt = identity.EventRejected, "illegal transition", nil
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateEvent(reject): %v", err)
	}
	if rejected.State != identity.EventRejected || rejected.Error != "illegal transition" || rejected.AppliedAt != nil {
		t.Errorf("UpdateEvent(reject) = %+v", rejected)
	}

	_, err = s.UpdateEvent(ctx, e.ID, func(ev *identity.Event) error { ev.State = identity.EventHeld; return errSentinel })
	wantErrIs(t, err, errSentinel, "UpdateEvent with failing fn")
	_, err = s.UpdateEvent(ctx, e.ID, func(ev *identity.Event) error { ev.State = "bogus"; return nil })
	wantErrIs(t, err, identity.ErrInvalid, "UpdateEvent to an invalid state")
	got, err = s.GetEvent(ctx, e.ID)
	if err != nil {
		t.Fatalf("GetEvent: %v", err)
	}
	if got.State != identity.EventRejected {
		t.Errorf("after failed updates State = %q, want rejected", got.State)
	}
	_, err = s.UpdateEvent(ctx, "no-such-event", func(*identity.Event) error { return nil })
	wantErrIs(t, err, identity.ErrNotFound, "UpdateEvent(unknown)")
}
