package server

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// A SCIM create is a hire through the lifecycle engine, changes go through it too, and a
// DELETE terminates without removing the person or the audit trail.
func TestSCIMUserLifecycle(t *testing.T) {
	e := newSCIMEnv(t)
	ctx := context.Background()
	created := e.create(t, "E100", "Richard.H", "Richard", "Hendricks", "richard@piedpiper.test", "Engineering")
	id, _ := created["id"].(string)
	p := person(t, e.store, "E100")
	if created["userName"] != "richard.h" || created["externalId"] != "E100" || p.ID != id || p.Status != identity.Active ||
		p.Username != "richard.h" || p.WorkEmail != "richard@piedpiper.test" || p.JobTitle != "Engineer" {
		t.Fatalf("created %v; person %+v", created, p)
	}
	ent, _ := created["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any)
	if ent["department"] != "Engineering" || ent["organization"] != "Pied Piper" || ent["employeeNumber"] != "E100" {
		t.Errorf("enterprise extension %v", ent)
	}
	meta, _ := created["meta"].(map[string]any)
	if meta["version"] != `W/"1"` || meta["resourceType"] != "User" {
		t.Errorf("meta %v", meta)
	}
	events, _ := e.store.ListEvents(ctx, directory.EventFilter{EmployeeID: "E100"})
	if len(events) != 1 || events[0].Type != identity.Hire || events[0].State != identity.EventApplied || events[0].Source != "scim" {
		t.Fatalf("events %+v; want one applied hire from scim", events)
	}
	boss := e.create(t, "E001", "laurie", "Laurie", "Bream", "laurie@piedpiper.test", "Engineering")

	steps := []struct {
		name, method, body string
		check              func(identity.Person) bool
	}{
		{"patch title and manager", "PATCH", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
			{"op":"Replace","path":"title","value":"CTO"},
			{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"` + boss["id"].(string) + `"}}]}`,
			func(p identity.Person) bool {
				return p.JobTitle == "CTO" && p.ManagerID == boss["id"] && p.Status == identity.Active
			}},
		{"patch work email, path-less dotted keys", "PATCH", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
			{"op":"replace","value":{"name.givenName":"Richie","emails[type eq \"work\"].value":"x@y.test"}},
			{"op":"replace","path":"emails[type eq \"work\"].value","value":"rh@piedpiper.test"}]}`,
			func(p identity.Person) bool {
				return p.LegalFirstName == "Richie" && p.WorkEmail == "rh@piedpiper.test"
			}},
		{"deactivate: terminated now", "PATCH", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`,
			func(p identity.Person) bool { return p.Status == identity.Terminated && p.EndDate != nil }},
		{"reactivate: rehired", "PATCH", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":true}]}`,
			func(p identity.Person) bool { return p.Status == identity.Active && p.ID == id }},
		{"delete: terminated, kept", "DELETE", "",
			func(p identity.Person) bool { return p.Status == identity.Terminated && p.ID == id }},
		{"delete again: no change", "DELETE", "",
			func(p identity.Person) bool { return p.Status == identity.Terminated }},
	}
	for _, st := range steps {
		code, body := e.do(t, scimReq{method: st.method, path: "/Users/" + id, body: st.body})
		if code/100 != 2 {
			t.Fatalf("%s: %d %v", st.name, code, body)
		}
		if p := person(t, e.store, "E100"); !st.check(p) {
			t.Fatalf("%s: person %+v", st.name, p)
		}
	}
	code, body := e.do(t, scimReq{method: "GET", path: "/Users/" + id})
	if code != 200 || body["active"] != false {
		t.Fatalf("GET after DELETE: %d %v; want the terminated person, inactive", code, body)
	}
	types := map[identity.EventType]int{}
	events, _ = e.store.ListEvents(ctx, directory.EventFilter{EmployeeID: "E100"})
	for _, ev := range events {
		if ev.State != identity.EventApplied {
			t.Errorf("event %s %s is %s (%s)", ev.Type, ev.ID, ev.State, ev.Error)
		}
		types[ev.Type]++
	}
	if types[identity.Hire] != 1 || types[identity.Terminate] != 2 || types[identity.Rehire] != 1 || types[identity.Transfer] != 1 || types[identity.ManagerChange] != 1 || types[identity.AttributeChange] != 1 {
		t.Errorf("events by type %v", types)
	}
	recs, err := e.store.AuditRecords(ctx, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var v audit.Verifier
	actions := map[string]int{}
	for _, r := range recs {
		if err := v.Next(r); err != nil {
			t.Fatalf("audit chain broken: %v", err)
		}
		if r.Target == "person:"+id {
			actions[r.Action]++
			if r.Actor != "scim:workday" {
				t.Errorf("%s by %q; want scim:workday", r.Action, r.Actor)
			}
		}
	}
	if actions["person.create"] != 1 || actions["person.update"] < 6 {
		t.Errorf("audit of the person: %v; want the create and every update kept", actions)
	}
}

// Refused writes name the attribute in an RFC 7644 error body and change nothing.
func TestSCIMUserErrorsChangeNothing(t *testing.T) {
	e := newSCIMEnv(t)
	ctx := context.Background()
	first := e.create(t, "E100", "richard", "Richard", "Hendricks", "richard@piedpiper.test", "Engineering")
	id := first["id"].(string)
	e.create(t, "E101", "dinesh", "Dinesh", "Chugtai", "dinesh@piedpiper.test", "Engineering")
	patch := func(ops string) string {
		return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + ops + `]}`
	}
	for _, tt := range []struct {
		name             string
		req              scimReq
		code             int
		scimType, detail string
	}{
		{"duplicate userName", scimReq{method: "POST", path: "/Users", body: userBody("E200", "Richard", "A", "B", "a@piedpiper.test", "")}, 409, "uniqueness", "userName"},
		{"duplicate email", scimReq{method: "POST", path: "/Users", body: userBody("E200", "new", "A", "B", "DINESH@piedpiper.test", "")}, 409, "uniqueness", "emails"},
		{"duplicate externalId", scimReq{method: "POST", path: "/Users", body: userBody("E101", "new", "A", "B", "a@piedpiper.test", "")}, 409, "uniqueness", "externalId"},
		{"no externalId", scimReq{method: "POST", path: "/Users", body: userBody("", "new", "A", "B", "a@piedpiper.test", "")}, 400, "invalidValue", "externalId"},
		{"bad email", scimReq{method: "POST", path: "/Users", body: userBody("E200", "new", "A", "B", "not-an-email", "")}, 400, "invalidValue", "emails"},
		{"inactive create", scimReq{method: "POST", path: "/Users", body: strings.Replace(userBody("E200", "new", "A", "B", "a@piedpiper.test", ""), `"active":true`, `"active":false`, 1)}, 400, "invalidValue", "active"},
		{"bad userType", scimReq{method: "PATCH", path: "/Users/" + id, body: patch(`{"op":"replace","path":"userType","value":"robot"}`)}, 400, "invalidValue", "userType"},
		{"unknown manager", scimReq{method: "PATCH", path: "/Users/" + id, body: patch(`{"op":"replace","path":"title","value":"CEO"},{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value","value":"nobody"}`)}, 400, "invalidValue", "manager"},
		{"own manager", scimReq{method: "PATCH", path: "/Users/" + id, body: patch(`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"` + id + `"}}`)}, 400, "invalidValue", "manager"},
		{"rename", scimReq{method: "PATCH", path: "/Users/" + id, body: patch(`{"op":"replace","path":"userName","value":"rick"}`)}, 400, "mutability", "userName"},
		{"new employee ID", scimReq{method: "PATCH", path: "/Users/" + id, body: patch(`{"op":"replace","path":"externalId","value":"E999"}`)}, 400, "mutability", "employee ID"},
		{"email of another", scimReq{method: "PUT", path: "/Users/" + id, body: userBody("E100", "richard", "Richard", "Hendricks", "dinesh@piedpiper.test", "Sales")}, 409, "uniqueness", "emails"},
		{"no name", scimReq{method: "PATCH", path: "/Users/" + id, body: patch(`{"op":"remove","path":"name"}`)}, 400, "invalidValue", "name.givenName"},
		{"stale If-Match", scimReq{method: "PATCH", path: "/Users/" + id, body: patch(`{"op":"replace","path":"title","value":"CEO"}`), header: map[string]string{"If-Match": `W/"0"`}}, 412, "", "has changed"},
		{"unknown user", scimReq{method: "GET", path: "/Users/nope"}, 404, "", "nope"},
		{"bad filter", scimReq{method: "GET", path: "/Users?filter=userName+eq"}, 400, "invalidFilter", ""},
		{"group create", scimReq{method: "POST", path: "/Groups", body: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"x"}`}, 403, "mutability", "read-only"},
		{"group delete", scimReq{method: "DELETE", path: "/Groups/x"}, 403, "mutability", "read-only"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := e.store.AuditRecords(ctx, 0, 100000)
			code, body := e.do(t, tt.req)
			checkError(t, tt.name, code, body, tt.code, tt.scimType, tt.detail)
			after, _ := e.store.AuditRecords(ctx, 0, 100000)
			if len(after) != len(before) {
				t.Errorf("refused request wrote %d audit records: %+v", len(after)-len(before), after[len(before):])
			}
		})
	}
	if n, _ := e.store.CountPeople(ctx, directory.PersonFilter{}); n != 2 {
		t.Errorf("%d people after refused writes; want 2", n)
	}
	if p := person(t, e.store, "E100"); p.JobTitle != "Engineer" || p.Version != 1 {
		t.Errorf("E100 changed by refused writes: %+v", p)
	}
	// A matching If-Match goes through.
	code, body := e.do(t, scimReq{method: "PATCH", path: "/Users/" + id, body: patch(`{"op":"replace","path":"title","value":"CEO"}`),
		header: map[string]string{"If-Match": `W/"1"`}})
	if code != http.StatusOK || body["title"] != "CEO" {
		t.Fatalf("PATCH with current If-Match: %d %v", code, body)
	}
}
