package server

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// problemParam is the parameter a problem+json body names, or "".
func problemParam(t *testing.T, r apiResp) string {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q; want application/problem+json: %s", ct, r.body)
	}
	var p problem
	if err := json.Unmarshal(r.body, &p); err != nil || p.Status != r.status || p.Title == "" {
		t.Fatalf("not a problem for %d: %v %s", r.status, err, r.body)
	}
	if len(p.InvalidParams) == 0 {
		return ""
	}
	return p.InvalidParams[0].Name
}

// Every endpoint, in order (the writes build on one another): who may call it, what it
// answers, and the parameter a refusal names.
func TestAdminAPIEndpoints(t *testing.T) {
	e := newAPIEnv(t)
	var exceptionID string
	type tc struct {
		name, method, path, body string
		token                    string // a name in e.tokens, or "" for none
		raw                      string // a literal bearer token instead
		status                   int
		param                    string // the parameter a problem names
		check                    func(t *testing.T, r apiResp)
	}
	people := func(t *testing.T, r apiResp) []string {
		var out peoplePage
		if err := json.Unmarshal(r.body, &out); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, p := range out.People {
			ids = append(ids, p.EmployeeID)
		}
		if out.NextOffset != nil {
			ids = append(ids, fmt.Sprintf("next=%d", *out.NextOffset))
		}
		return ids
	}
	wantPeople := func(want string) func(t *testing.T, r apiResp) {
		return func(t *testing.T, r apiResp) {
			if got := strings.Join(people(t, r), ","); got != want {
				t.Errorf("people %s; want %s", got, want)
			}
		}
	}
	contains := func(subs ...string) func(t *testing.T, r apiResp) {
		return func(t *testing.T, r apiResp) {
			for _, s := range subs {
				if !strings.Contains(string(r.body), s) {
					t.Errorf("body lacks %q: %s", s, r.body)
				}
			}
		}
	}
	cases := []tc{
		{name: "no token", method: "GET", path: "/api/v1/people", status: 401, check: func(t *testing.T, r apiResp) {
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
			}
		}},
		{name: "wrong token", method: "GET", path: "/api/v1/people", raw: "tnr_api_nope", status: 401},
		{name: "revoked token", method: "GET", path: "/api/v1/people", token: "gone", status: 401},
		{name: "SCIM token", method: "GET", path: "/api/v1/people", token: "scim", status: 401},
		{name: "read token on a write", method: "POST", path: "/api/v1/ops/retry", body: `{}`, token: "auditor", status: 403},
		{name: "read token on a delete", method: "DELETE", path: "/api/v1/access/exceptions/x?reason=r", token: "auditor", status: 403},
		{name: "unknown endpoint", method: "GET", path: "/api/v1/nowhere", token: "auditor", status: 404},

		{name: "people", method: "GET", path: "/api/v1/people", token: "auditor", status: 200, check: wantPeople("C001,E001,E002")},
		{name: "people page 1", method: "GET", path: "/api/v1/people?limit=2", token: "auditor", status: 200, check: wantPeople("C001,E001,next=2")},
		{name: "people page 2", method: "GET", path: "/api/v1/people?limit=2&offset=2", token: "auditor", status: 200, check: wantPeople("E002")},
		{name: "people filtered", method: "GET", path: "/api/v1/people?status=active&employment_type=employee&org_unit=Pied%20Piper/Engineering&subtree=true",
			token: "auditor", status: 200, check: wantPeople("E002")},
		{name: "people by manager", method: "GET", path: "/api/v1/people?manager=laurie@piedpiper.test", token: "auditor", status: 200, check: wantPeople("C001,E002")},
		{name: "people bad status", method: "GET", path: "/api/v1/people?status=retired", token: "auditor", status: 400, param: "status"},
		{name: "people bad type", method: "GET", path: "/api/v1/people?employment_type=robot", token: "auditor", status: 400, param: "employment_type"},
		{name: "people unknown org unit", method: "GET", path: "/api/v1/people?org_unit=Nowhere", token: "auditor", status: 422, param: "org_unit"},
		{name: "people bad limit", method: "GET", path: "/api/v1/people?limit=0", token: "auditor", status: 400, param: "limit"},
		{name: "people bad offset", method: "GET", path: "/api/v1/people?offset=-1", token: "auditor", status: 400, param: "offset"},
		{name: "people bad subtree", method: "GET", path: "/api/v1/people?subtree=maybe", token: "auditor", status: 400, param: "subtree"},
		{name: "person by username", method: "GET", path: "/api/v1/people/gilfoyle", token: "auditor", status: 200,
			check: contains(`"employee_id":"E002"`, `"manager_employee_id":"E001"`, `"org_path":"Pied Piper/Engineering/Platform"`)},
		{name: "person by email", method: "GET", path: "/api/v1/people/laurie@piedpiper.test", token: "auditor", status: 200, check: contains(`"employee_id":"E001"`)},
		{name: "person unknown", method: "GET", path: "/api/v1/people/nobody", token: "auditor", status: 404},
		{name: "person's access", method: "GET", path: "/api/v1/people/E002/access", token: "auditor", status: 200,
			check: contains(`"app":"github"`, `"rule":"engineering-github"`)},
		{name: "access why", method: "GET", path: "/api/v1/access/why?person=E002&app=github", token: "auditor", status: 200,
			check: contains(`"app":"github"`, `"rule":"engineering-github"`, `"matched":true`)},
		{name: "access why without app", method: "GET", path: "/api/v1/access/why?person=E002", token: "auditor", status: 400, param: "app"},
		{name: "access why without person", method: "GET", path: "/api/v1/access/why?app=github", token: "auditor", status: 400, param: "person"},
		{name: "access why unknown app", method: "GET", path: "/api/v1/access/why?person=E002&app=gitlab", token: "auditor", status: 422, param: "app"},
		{name: "org tree", method: "GET", path: "/api/v1/org/tree", token: "auditor", status: 200,
			check: contains(`"name":"Pied Piper"`, `"people_below":3`, `"name":"Platform"`)},
		{name: "ops", method: "GET", path: "/api/v1/ops", token: "auditor", status: 200, check: contains(`"ops":[]`, `"apps":[]`)},
		{name: "ops bad state", method: "GET", path: "/api/v1/ops?state=bogus", token: "auditor", status: 400, param: "state"},
		{name: "plan", method: "GET", path: "/api/v1/plan", token: "auditor", status: 200,
			check: contains(`"app":"github"`, `"kind":"create"`, `"user_name":"gilfoyle"`)},
		{name: "plan unknown app", method: "GET", path: "/api/v1/plan?app=nope", token: "auditor", status: 400, param: "app"},
		{name: "report", method: "GET", path: "/api/v1/reports/access", token: "auditor", status: 200, check: contains(`"verified": true`, `"report": "access"`)},
		{name: "report csv", method: "GET", path: "/api/v1/reports/exceptions?format=csv", token: "auditor", status: 200, check: func(t *testing.T, r apiResp) {
			if !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
				t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
			}
		}},
		{name: "report unknown", method: "GET", path: "/api/v1/reports/bogus", token: "auditor", status: 400, param: "name"},
		{name: "report bad format", method: "GET", path: "/api/v1/reports/access?format=pdf", token: "auditor", status: 400, param: "format"},
		{name: "report bad as_of", method: "GET", path: "/api/v1/reports/access?as_of=last%20week", token: "auditor", status: 400, param: "as_of"},
		{name: "report future as_of", method: "GET", path: "/api/v1/reports/access?as_of=2027-01-01", token: "auditor", status: 400, param: "as_of"},
		{name: "report as of a date", method: "GET", path: "/api/v1/reports/access?as_of=2026-11-27", token: "auditor", status: 200, check: contains(`"as_of": "2026-11-27T23:59:59.999999999Z"`)},
		{name: "audit verify", method: "GET", path: "/api/v1/audit/verify", token: "auditor", status: 200, check: contains(`"verified":true`, `"first_seq":1`)},
		{name: "audit verify bad anchor", method: "GET", path: "/api/v1/audit/verify?anchor=nope", token: "auditor", status: 400, param: "anchor"},
		{name: "audit verify wrong anchor", method: "GET", path: "/api/v1/audit/verify?anchor=1:" + strings.Repeat("0", 64), token: "auditor", status: 200,
			check: contains(`"verified":false`)},
		{name: "audit export", method: "GET", path: "/api/v1/audit/export?after=2", token: "auditor", status: 200, check: func(t *testing.T, r apiResp) {
			lines := strings.Split(strings.TrimSpace(string(r.body)), "\n")
			var first struct{ Seq int64 }
			if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || first.Seq != 3 || len(lines) < 5 {
				t.Errorf("export after 2: first %+v (%v), %d lines", first, err, len(lines))
			}
		}},
		{name: "audit export bad after", method: "GET", path: "/api/v1/audit/export?after=x", token: "auditor", status: 400, param: "after"},

		{name: "exception without reason", method: "POST", path: "/api/v1/access/exceptions", token: "it", status: 400, param: "reason",
			body: `{"person":"laurie.bream","app":"github","approver":"gilfoyle","expires":"2026-12-31"}`},
		{name: "exception unknown field", method: "POST", path: "/api/v1/access/exceptions", token: "it", status: 400, param: "why",
			body: `{"person":"laurie.bream","app":"github","why":"x"}`},
		{name: "exception past expiry", method: "POST", path: "/api/v1/access/exceptions", token: "it", status: 400, param: "expires",
			body: `{"person":"laurie.bream","app":"github","reason":"r","approver":"gilfoyle","expires":"2026-11-01"}`},
		{name: "exception self-approved", method: "POST", path: "/api/v1/access/exceptions", token: "it", status: 400, param: "approver",
			body: `{"person":"laurie.bream","app":"github","reason":"r","approver":"E001","expires":"2026-12-31"}`},
		{name: "exception inactive approver", method: "POST", path: "/api/v1/access/exceptions", token: "it", status: 422, param: "approver",
			body: `{"person":"laurie.bream","app":"github","reason":"r","approver":"C001","expires":"2026-12-31"}`},
		{name: "exception unknown entitlement", method: "POST", path: "/api/v1/access/exceptions", token: "it", status: 400, param: "entitlement",
			body: `{"person":"laurie.bream","app":"github","entitlement":"team:nope","reason":"r","approver":"gilfoyle","expires":"2026-12-31"}`},
		{name: "exception granted", method: "POST", path: "/api/v1/access/exceptions", token: "it", status: 201,
			body: `{"person":"laurie.bream","app":"github","entitlement":"team:security-review","reason":"board audit","approver":"gilfoyle","expires":"2026-12-31"}`,
			check: func(t *testing.T, r apiResp) {
				var out exceptionGranted
				if err := json.Unmarshal(r.body, &out); err != nil || out.Grant.ID == "" || out.Grant.Approver != "E002" {
					t.Fatalf("granted: %v %s", err, r.body)
				}
				exceptionID = out.Grant.ID
			}},
		{name: "exception duplicate", method: "POST", path: "/api/v1/access/exceptions", token: "it", status: 409,
			body: `{"person":"laurie.bream","app":"github","entitlement":"team:security-review","reason":"again","approver":"gilfoyle","expires":"2026-12-31"}`},
		{name: "exception shows in access", method: "GET", path: "/api/v1/people/E001/access", token: "auditor", status: 200, check: contains(`"team:security-review"`, `"approver":"E002"`)},
		{name: "exception revoke without reason", method: "DELETE", path: "/api/v1/access/exceptions/{id}", token: "it", status: 400, param: "reason"},
		{name: "exception revoked", method: "DELETE", path: "/api/v1/access/exceptions/{id}?reason=audit+done", token: "it", status: 200, check: contains(`"revoked"`)},
		{name: "exception revoked twice", method: "DELETE", path: "/api/v1/access/exceptions/{id}?reason=again", token: "it", status: 404},
		{name: "retry app and ids", method: "POST", path: "/api/v1/ops/retry", body: `{"app":"github","ids":[1]}`, token: "it", status: 400, param: "ids"},
		{name: "retry bad body", method: "POST", path: "/api/v1/ops/retry", body: `{"ids":"one"}`, token: "it", status: 400, param: "ids"},
		{name: "retry app", method: "POST", path: "/api/v1/ops/retry", body: `{"app":"github"}`, token: "it", status: 200, check: contains(`"requeued":0`)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			token := c.raw
			if c.token != "" {
				token = e.tokens[c.token]
			}
			r := e.do(t, c.method, strings.ReplaceAll(c.path, "{id}", exceptionID), c.body, token)
			if r.status != c.status {
				t.Fatalf("%s %s = %d; want %d: %s", c.method, c.path, r.status, c.status, r.body)
			}
			if c.status >= 400 {
				if got := problemParam(t, r); got != c.param {
					t.Errorf("problem names %q; want %q: %s", got, c.param, r.body)
				}
			}
			if c.check != nil {
				c.check(t, r)
			}
		})
	}
	checkAPIAudit(t, e)
}

// checkAPIAudit: the writes are the admin token's, with their reasons; the read token, the
// refused requests and the reads wrote nothing to the log; the chain holds.
func checkAPIAudit(t *testing.T, e *apiEnv) {
	t.Helper()
	recs, err := e.store.AuditRecords(context.Background(), 0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		if strings.HasPrefix(r.Actor, "api:") {
			got = append(got, r.Actor+" "+r.Action+" "+r.Reason)
		}
	}
	want := "api:it grant.create board audit|api:it grant.delete audit done|api:it provision.retry "
	if strings.Join(got, "|") != want {
		t.Errorf("audited API writes:\n%s\nwant\n%s", strings.Join(got, "|"), want)
	}
	if r := e.do(t, "GET", "/api/v1/audit/verify", "", e.tokens["auditor"]); !strings.Contains(string(r.body), `"verified":true`) {
		t.Errorf("chain after the writes: %s", r.body)
	}
}

// GET /plan reads the apps and the directory and writes nothing: the audit head and the
// outbox are as they were.
func TestAdminAPIPlanWritesNothing(t *testing.T) {
	e := newAPIEnv(t)
	before := e.auditHead(t)
	for range 2 {
		if r := e.do(t, "GET", "/api/v1/plan?app=github", "", e.tokens["it"]); r.status != 200 || !strings.Contains(string(r.body), `"kind":"create"`) {
			t.Fatalf("plan: %d %s", r.status, r.body)
		}
	}
	if after := e.auditHead(t); after != before {
		t.Errorf("audit head %d after GET /plan; was %d", after, before)
	}
	if r := e.do(t, "GET", "/api/v1/ops", "", e.tokens["it"]); !strings.Contains(string(r.body), `"ops":[]`) {
		t.Errorf("outbox after GET /plan: %s", r.body)
	}
}
