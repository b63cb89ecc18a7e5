package server

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/scimserver"
)

// prehireBody is userBody with active and the Tenure extension's dates; empty dates are left out.
func prehireBody(emp, userName string, active bool, start, end string) string {
	var m map[string]any
	_ = json.Unmarshal([]byte(userBody(emp, userName, "Jared", "Dunn", userName+"@piedpiper.test", "Operations")), &m)
	m["active"] = active
	ten := map[string]any{}
	if start != "" {
		ten["startDate"] = start
	}
	if end != "" {
		ten["endDate"] = end
	}
	if len(ten) > 0 {
		m[scimserver.TenureSchema] = ten
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func tenureExt(body map[string]any) map[string]any {
	ten, _ := body[scimserver.TenureSchema].(map[string]any)
	return ten
}

func day(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }

// The clock stands at 2026-11-30 10:00 UTC: a start date ahead makes a pre-hire, as an HR hire
// with that start date does; today's or a past one hires now; a bad one writes nothing.
func TestSCIMCreateWithStartDate(t *testing.T) {
	for _, tt := range []struct {
		name, body  string
		wantCode    int
		wantStatus  identity.Status
		wantStart   string
		errType     string
		errMentions string
	}{
		{name: "future start: pre-hire", body: prehireBody("E200", "jared", false, "2026-12-15", ""),
			wantCode: 201, wantStatus: identity.PreHire, wantStart: "2026-12-15"},
		{name: "future start, active true: still a pre-hire", body: prehireBody("E200", "jared", true, "2026-12-15T09:00:00-08:00", ""),
			wantCode: 201, wantStatus: identity.PreHire, wantStart: "2026-12-15"},
		{name: "today: hired now", body: prehireBody("E200", "jared", false, "2026-11-30", ""),
			wantCode: 201, wantStatus: identity.Active, wantStart: "2026-11-30"},
		{name: "past: hired now", body: prehireBody("E200", "jared", true, "2026-01-05", ""),
			wantCode: 201, wantStatus: identity.Active, wantStart: "2026-01-05"},
		{name: "inactive without a start date", body: prehireBody("E200", "jared", false, "", ""),
			wantCode: 400, errType: "invalidValue", errMentions: "startDate"},
		{name: "not a date", body: prehireBody("E200", "jared", false, "15/12/2026", ""),
			wantCode: 400, errType: "invalidValue", errMentions: "startDate"},
		{name: "not a string", body: `{"schemas":["` + scimserver.UserSchema + `"],"userName":"jared","externalId":"E200",
			"name":{"givenName":"Jared"},"active":false,"` + scimserver.TenureSchema + `:startDate":20261215}`,
			wantCode: 400, errType: "invalidValue", errMentions: "startDate"},
		{name: "end before start", body: prehireBody("E200", "jared", false, "2026-12-15", "2026-12-01"),
			wantCode: 400, errType: "invalidValue", errMentions: "endDate"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newSCIMEnv(t)
			ctx := context.Background()
			code, body := e.do(t, scimReq{method: "POST", path: "/Users", body: tt.body})
			events, err := e.store.ListEvents(ctx, directory.EventFilter{EmployeeID: "E200"})
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantCode != 201 {
				checkError(t, tt.name, code, body, tt.wantCode, tt.errType, tt.errMentions)
				if _, err := e.store.LookupPerson(ctx, "E200"); err == nil || len(events) != 0 {
					t.Errorf("refused create left a person (%v) or events %+v", err, events)
				}
				return
			}
			if code != 201 {
				t.Fatalf("HTTP %d: %v", code, body)
			}
			p := person(t, e.store, "E200")
			if p.Status != tt.wantStatus || p.StartDate == nil || !p.StartDate.Equal(day(tt.wantStart)) {
				t.Fatalf("person status %s, start %v; want %s from %s", p.Status, p.StartDate, tt.wantStatus, tt.wantStart)
			}
			if body["active"] != (tt.wantStatus == identity.Active) || tenureExt(body)["startDate"] != tt.wantStart {
				t.Errorf("response active %v, extension %v", body["active"], tenureExt(body))
			}
			// A pre-hire has one activation waiting at the start of their first day.
			var scheduled []identity.Event
			for _, ev := range events {
				if ev.State == identity.EventPending {
					scheduled = append(scheduled, ev)
				}
			}
			if tt.wantStatus == identity.PreHire &&
				(len(scheduled) != 1 || scheduled[0].Type != identity.Hire || !scheduled[0].EffectiveAt.Equal(day(tt.wantStart))) {
				t.Errorf("scheduled %+v; want one hire at %s", scheduled, tt.wantStart)
			}
			if tt.wantStatus == identity.Active && len(scheduled) != 0 {
				t.Errorf("scheduled %+v for someone already started", scheduled)
			}
		})
	}
}

// A pre-hire created over SCIM reads inactive with their start date, is audited as the token,
// moves with a PATCH of startDate, refuses a bad one without change, and becomes active when
// the (moved) start date arrives.
func TestSCIMPreHireLifecycle(t *testing.T) {
	e := newSCIMEnv(t)
	ctx := context.Background()
	code, created := e.do(t, scimReq{method: "POST", path: "/Users", body: prehireBody("E300", "dinesh", false, "2026-12-15", "")})
	if code != 201 {
		t.Fatalf("create: HTTP %d: %v", code, created)
	}
	id, _ := created["id"].(string)
	code, got := e.do(t, scimReq{method: "GET", path: "/Users/" + id})
	if code != 200 || got["active"] != false || tenureExt(got)["startDate"] != "2026-12-15" {
		t.Fatalf("GET: HTTP %d, active %v, extension %v", code, got["active"], tenureExt(got))
	}
	recs, err := e.store.AuditRecords(ctx, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var createdBy string
	for _, r := range recs {
		if r.Target == "person:"+id && r.Action == "person.create" {
			createdBy = r.Actor
		}
	}
	if createdBy != "scim:workday" {
		t.Errorf("person.create by %q; want scim:workday", createdBy)
	}

	patch := func(ops string) (int, map[string]any) {
		return e.do(t, scimReq{method: "PATCH", path: "/Users/" + id,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + ops + `]}`})
	}
	before := person(t, e.store, "E300")
	for _, tt := range []struct{ name, ops, scimType, mentions string }{
		{"bad date", `{"op":"replace","path":"` + scimserver.TenureSchema + `:startDate","value":"2026-13-40"}`, "invalidValue", "startDate"},
		{"removed", `{"op":"remove","path":"` + scimserver.TenureSchema + `:startDate"}`, "mutability", "startDate"},
		{"bad date after a good change", `{"op":"replace","path":"title","value":"Head of Ops"},
			{"op":"replace","value":{"` + scimserver.TenureSchema + `":{"startDate":"soon"}}}`, "invalidValue", "startDate"},
	} {
		code, body := patch(tt.ops)
		checkError(t, "PATCH "+tt.name, code, body, 400, tt.scimType, tt.mentions)
	}
	if after := person(t, e.store, "E300"); after.Version != before.Version || after.JobTitle != before.JobTitle {
		t.Fatalf("refused PATCHes changed the person: %+v", after)
	}

	// Moved later: the old activation is superseded, one waits at the new date.
	code, moved := patch(`{"op":"replace","path":"` + scimserver.TenureSchema + `:startDate","value":"2027-01-04"}`)
	if code != 200 || moved["active"] != false || tenureExt(moved)["startDate"] != "2027-01-04" {
		t.Fatalf("move: HTTP %d: %v", code, moved)
	}
	p := person(t, e.store, "E300")
	if p.Status != identity.PreHire || !p.StartDate.Equal(day("2027-01-04")) {
		t.Fatalf("after the move: status %s, start %v", p.Status, p.StartDate)
	}
	pending, err := e.store.ListEvents(ctx, directory.EventFilter{EmployeeID: "E300", States: []identity.EventState{identity.EventPending}})
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || pending[0].Type != identity.Hire || !pending[0].EffectiveAt.Equal(day("2027-01-04")) {
		t.Fatalf("pending %+v; want one hire on 2027-01-04", pending)
	}

	// The old start date passes without effect; the new one starts them.
	e.now = time.Date(2026, 12, 15, 12, 0, 0, 0, time.UTC)
	if _, err := e.eng.ApplyDue(ctx); err != nil {
		t.Fatal(err)
	}
	if s := person(t, e.store, "E300").Status; s != identity.PreHire {
		t.Fatalf("on the superseded start date: %s; want pre_hire", s)
	}
	e.now = time.Date(2027, 1, 4, 0, 0, 1, 0, time.UTC)
	if _, err := e.eng.ApplyDue(ctx); err != nil {
		t.Fatal(err)
	}
	code, got = e.do(t, scimReq{method: "GET", path: "/Users/" + id})
	if code != 200 || got["active"] != true || person(t, e.store, "E300").Status != identity.Active {
		t.Fatalf("on the start date: HTTP %d, active %v", code, got["active"])
	}

	// Started: a start date ahead would not make them a pre-hire again.
	code, body := patch(`{"op":"replace","path":"` + scimserver.TenureSchema + `:startDate","value":"2027-06-01"}`)
	checkError(t, "PATCH a started person's start date ahead", code, body, http.StatusBadRequest, "invalidValue", "startDate")
}

// Moving a pre-hire's start date to today starts them at once, as HR's change would.
func TestSCIMPreHireMovedToToday(t *testing.T) {
	e := newSCIMEnv(t)
	code, created := e.do(t, scimReq{method: "POST", path: "/Users", body: prehireBody("E400", "gilfoyle", false, "2026-12-15", "")})
	if code != 201 {
		t.Fatalf("create: HTTP %d: %v", code, created)
	}
	var put map[string]any
	_ = json.Unmarshal([]byte(prehireBody("E400", "gilfoyle", true, "2026-11-30", "")), &put)
	b, _ := json.Marshal(put)
	code, body := e.do(t, scimReq{method: "PUT", path: "/Users/" + created["id"].(string), body: string(b)})
	if code != 200 || body["active"] != true || person(t, e.store, "E400").Status != identity.Active {
		t.Fatalf("PUT start today: HTTP %d: %v", code, body)
	}
	pending, _ := e.store.ListEvents(context.Background(), directory.EventFilter{EmployeeID: "E400", States: []identity.EventState{identity.EventPending}})
	if len(pending) != 0 {
		t.Errorf("pending %+v; want the activation gone", pending)
	}
}
