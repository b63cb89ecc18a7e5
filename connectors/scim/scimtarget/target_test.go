package scimtarget_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenure-id/tenure/connectors/internal/fakehttp/fakehttptest"
	"github.com/tenure-id/tenure/connectors/scim/scimtarget"
)

const token = "target-token-51c2"

type client struct {
	t   *testing.T
	url string
	tok string
}

func start(t *testing.T, opts scimtarget.Options) (*scimtarget.Target, *client) {
	t.Helper()
	if opts.Token == "" {
		opts.Token = token
	}
	tg := scimtarget.New(opts)
	srv := httptest.NewServer(tg.Handler())
	t.Cleanup(srv.Close)
	return tg, &client{t: t, url: srv.URL, tok: opts.Token}
}

// do sends a request and returns the status, the decoded body and the headers.
func (c *client) do(method, path, body string, hdr ...string) (int, map[string]any, http.Header) {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.url+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.tok != "" {
		req.Header.Set("Authorization", "Bearer "+c.tok)
	}
	req.Header.Set("Content-Type", "application/scim+json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			c.t.Fatalf("%s %s: body %q is not JSON", method, path, raw)
		}
	}
	return resp.StatusCode, m, resp.Header
}

func (c *client) create(userName, externalID, email string) string {
	c.t.Helper()
	body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":%q,"externalId":%q,"active":true,
		"emails":[{"value":%q,"type":"work","primary":true}]}`, userName, externalID, email)
	st, m, _ := c.do(http.MethodPost, "/Users", body)
	if st != http.StatusCreated {
		c.t.Fatalf("create %s: %d %v", userName, st, m)
	}
	return m["id"].(string)
}

func errorOf(t *testing.T, m map[string]any, status, scimType string) {
	t.Helper()
	schemas, _ := m["schemas"].([]any)
	if len(schemas) != 1 || schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" || m["status"] != status ||
		(scimType != "" && m["scimType"] != scimType) {
		t.Fatalf("error body %v, want status %s scimType %q", m, status, scimType)
	}
}

func TestBearerToken(t *testing.T) {
	_, c := start(t, scimtarget.Options{})
	for _, tok := range []string{"", "wrong", token + "x"} {
		c.tok = tok
		st, m, h := c.do(http.MethodGet, "/Users", "")
		if st != http.StatusUnauthorized || h.Get("WWW-Authenticate") == "" {
			t.Fatalf("token %q: %d", tok, st)
		}
		errorOf(t, m, "401", "")
	}
	c.tok = token
	if st, _, _ := c.do(http.MethodGet, "/Users", ""); st != http.StatusOK {
		t.Fatalf("right token: %d", st)
	}
}

func TestSchemaValidationAndUniqueness(t *testing.T) {
	tg, c := start(t, scimtarget.Options{UniqueEmail: true})
	c.create("alice", "P-1", "alice@example.com")
	for _, tc := range []struct {
		name, body, status, scimType string
	}{
		{"no userName", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"externalId":"P-9"}`, "400", "invalidValue"},
		{"active not a boolean", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x","active":"maybe"}`, "400", "invalidValue"},
		{"userName taken, other case", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ALICE","externalId":"P-2"}`, "409", "uniqueness"},
		{"externalId taken", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bob","externalId":"P-1"}`, "409", "uniqueness"},
		{"email taken", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"carol","emails":[{"value":"Alice@example.com"}]}`, "409", "uniqueness"},
		{"not JSON", `{`, "400", "invalidSyntax"},
	} {
		st, m, _ := c.do(http.MethodPost, "/Users", tc.body)
		if fmt.Sprint(st) != tc.status {
			t.Fatalf("%s: %d %v", tc.name, st, m)
		}
		errorOf(t, m, tc.status, tc.scimType)
	}
	if n := len(tg.Users()); n != 1 {
		t.Fatalf("%d users after refused creates, want 1", n)
	}
}

func TestFiltersAndPaging(t *testing.T) {
	_, c := start(t, scimtarget.Options{MaxResults: 2})
	for i := range 5 {
		c.create(fmt.Sprintf("user%d", i), fmt.Sprintf("P-%d", i), fmt.Sprintf("User%d@Example.com", i))
	}
	for _, tc := range []struct {
		filter string
		want   int
	}{
		{`userName eq "USER3"`, 1},
		{`externalId eq "P-3"`, 1},
		{`externalId eq "p-3"`, 0}, // externalId is case-exact
		{`emails.value eq "user2@example.com"`, 1},
		{`emails[type eq "work" and value eq "User4@Example.com"]`, 1},
		{`userName sw "user" and not (userName eq "user0")`, 4},
		{`userName eq "user1" or userName eq "user2"`, 2},
		{`active eq true`, 5},
		{`title pr`, 0},
	} {
		st, m, _ := c.do(http.MethodGet, "/Users?count=10&filter="+url.QueryEscape(tc.filter), "")
		if st != 200 || m["totalResults"] != float64(tc.want) {
			t.Errorf("filter %s: %d totalResults %v, want %d", tc.filter, st, m["totalResults"], tc.want)
		}
	}
	st, m, _ := c.do(http.MethodGet, "/Users?filter="+url.QueryEscape(`nickName eq`), "")
	if st != 400 {
		t.Fatalf("bad filter: %d", st)
	}
	errorOf(t, m, "400", "invalidFilter")

	var names []string
	for startIndex := 1; startIndex <= 5; startIndex += 2 {
		_, m, _ := c.do(http.MethodGet, fmt.Sprintf("/Users?startIndex=%d&count=50", startIndex), "")
		if m["totalResults"] != float64(5) {
			t.Fatalf("totalResults %v", m["totalResults"])
		}
		for _, r := range m["Resources"].([]any) {
			names = append(names, r.(map[string]any)["userName"].(string))
		}
	}
	if strings.Join(names, ",") != "user0,user1,user2,user3,user4" {
		t.Fatalf("pages of at most 2 gave %v", names)
	}
}

func TestPatchAsEntraSendsIt(t *testing.T) {
	tg, c := start(t, scimtarget.Options{})
	id := c.create("dana", "P-1", "dana@example.com")
	body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Replace","path":"active","value":"False"},
		{"op":"Add","value":{"name.givenName":"Dana","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"Sales",
		  "displayName":"Dana S"}},
		{"op":"replace","path":"emails[type eq \"work\"].value","value":"dana.s@example.com"},
		{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value","value":"user-1"}]}`
	st, m, _ := c.do(http.MethodPatch, "/Users/"+id, body)
	if st != 200 {
		t.Fatalf("patch: %d %v", st, m)
	}
	u, _ := tg.User(id)
	mgr, _ := u.Enterprise["manager"].(map[string]any)
	if u.Active || u.GivenName != "Dana" || u.DisplayName != "Dana S" || u.Email != "dana.s@example.com" ||
		u.Enterprise["department"] != "Sales" || mgr["value"] != "user-1" {
		t.Fatalf("after patch: %+v", u.Attributes)
	}
	// A failing operation leaves the user as it was.
	bad := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"replace","path":"displayName","value":"Changed"},{"op":"remove","path":"userName"}]}`
	if st, _, _ := c.do(http.MethodPatch, "/Users/"+id, bad); st != 400 {
		t.Fatalf("removing userName: %d", st)
	}
	if u, _ := tg.User(id); u.DisplayName != "Dana S" {
		t.Fatal("a refused PATCH was half applied")
	}
}

func TestGroupsMembers(t *testing.T) {
	tg, c := start(t, scimtarget.Options{})
	a := c.create("a", "P-1", "a@example.com")
	b := c.create("b", "P-2", "b@example.com")
	st, m, _ := c.do(http.MethodPost, "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"eng"}`)
	if st != 201 {
		t.Fatalf("group: %d %v", st, m)
	}
	gid := m["id"].(string)
	if st, _, _ := c.do(http.MethodPost, "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"ENG"}`); st != 409 {
		t.Fatalf("duplicate group: %d", st)
	}
	add := func(id string) int {
		st, _, _ := c.do(http.MethodPatch, "/Groups/"+gid, fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations":[{"op":"add","path":"members","value":[{"value":%q}]}]}`, id))
		return st
	}
	if add(a) != 200 || add(a) != 200 || add(b) != 200 {
		t.Fatal("adding members failed")
	}
	if st := add("nobody"); st != 400 {
		t.Fatalf("adding a non-user: %d", st)
	}
	if g := tg.Groups(); len(g[0].Members) != 2 {
		t.Fatalf("members %v, want a and b once each", g[0].Members)
	}
	_, m, _ = c.do(http.MethodGet, "/Groups?filter="+url.QueryEscape(fmt.Sprintf(`members[value eq %q]`, b)), "")
	if m["totalResults"] != float64(1) {
		t.Fatalf("groups of b: %v", m)
	}
	st, m, _ = c.do(http.MethodPatch, "/Groups/"+gid, fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"remove","path":"members[value eq \"%s\"]"}]}`, a))
	if st != 200 {
		t.Fatalf("remove member: %d %v", st, m)
	}
	if st, _, _ := c.do(http.MethodDelete, "/Users/"+b, ""); st != 204 {
		t.Fatalf("delete user: %d", st)
	}
	if g := tg.Groups(); len(g[0].Members) != 0 {
		t.Fatalf("members %v after removing a and deleting b", g[0].Members)
	}
	if st, _, _ := c.do(http.MethodDelete, "/Users/"+b, ""); st != 404 {
		t.Fatalf("second delete: %d", st)
	}
}

func TestETagIfMatch(t *testing.T) {
	_, c := start(t, scimtarget.Options{ETag: true})
	_, spc, _ := c.do(http.MethodGet, "/ServiceProviderConfig", "")
	if spc["etag"].(map[string]any)["supported"] != true {
		t.Fatalf("ServiceProviderConfig %v", spc)
	}
	id := c.create("erin", "P-1", "erin@example.com")
	_, _, h := c.do(http.MethodGet, "/Users/"+id, "")
	v1 := h.Get("ETag")
	patch := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"x"}]}`
	if st, _, h := c.do(http.MethodPatch, "/Users/"+id, patch, "If-Match", v1); st != 200 || h.Get("ETag") == v1 {
		t.Fatalf("patch with the current version: %d, ETag %q", st, h.Get("ETag"))
	}
	st, m, _ := c.do(http.MethodPatch, "/Users/"+id, patch, "If-Match", v1)
	if st != http.StatusPreconditionFailed {
		t.Fatalf("patch with a stale version: %d", st)
	}
	errorOf(t, m, "412", "")
	if st, _, _ := c.do(http.MethodDelete, "/Users/"+id, "", "If-Match", "*"); st != 204 {
		t.Fatalf("delete If-Match *: %d", st)
	}
}

func TestRateLimit(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	_, c := start(t, scimtarget.Options{Rate: 0.5, Burst: 2, Now: func() time.Time { return now }})
	for i := range 2 {
		if st, _, _ := c.do(http.MethodGet, "/Users", ""); st != 200 {
			t.Fatalf("request %d within the burst: %d", i+1, st)
		}
	}
	st, m, h := c.do(http.MethodGet, "/Users", "")
	if st != http.StatusTooManyRequests || h.Get("Retry-After") != "2" {
		t.Fatalf("over the limit: %d Retry-After %q", st, h.Get("Retry-After"))
	}
	errorOf(t, m, "429", "")
	now = now.Add(2 * time.Second)
	if st, _, _ := c.do(http.MethodGet, "/Users", ""); st != 200 {
		t.Fatalf("after waiting: %d", st)
	}
}

func TestInjectedFaults(t *testing.T) {
	tg, c := start(t, scimtarget.Options{RetryAfter: 3 * time.Second})
	if wait := tg.RateLimit(1); wait != 3*time.Second {
		t.Fatalf("RateLimit advertises %v", wait)
	}
	tg.FailNext(http.StatusServiceUnavailable, 1)
	st, _, h := c.do(http.MethodGet, "/Users", "")
	if st != 429 || h.Get("Retry-After") != "3" {
		t.Fatalf("first: %d %q", st, h.Get("Retry-After"))
	}
	if st, m, _ := c.do(http.MethodGet, "/Users", ""); st != 503 {
		t.Fatalf("second: %d %v", st, m)
	}
	if st, _, _ := c.do(http.MethodGet, "/Users", ""); st != 200 {
		t.Fatalf("third: %d", st)
	}

	// A request abandoned while stalled never takes effect.
	fakehttptest.CheckAbandoned(t, fakehttptest.Write{
		Stall: tg.Stall, Reset: tg.Reset,
		Method: http.MethodPost, URL: c.url + "/Users",
		Body:   `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ghost"}`,
		Header: http.Header{"Authorization": {"Bearer " + token}},
		Landed: func() bool { return len(tg.Users()) > 0 },
	})

	// A limit on writes lets reads through and answers the next write.
	if wait := tg.RateLimitWrites(1); wait != 3*time.Second {
		t.Fatalf("RateLimitWrites advertises %v", wait)
	}
	if st, _, _ := c.do(http.MethodGet, "/Users", ""); st != 200 {
		t.Fatalf("read under a write limit: %d", st)
	}
	user := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"w"}`
	if st, _, h := c.do(http.MethodPost, "/Users", user); st != 429 || h.Get("Retry-After") != "3" {
		t.Fatalf("write under a write limit: %d %q", st, h.Get("Retry-After"))
	}
	if st, _, _ := c.do(http.MethodPost, "/Users", user); st != 201 {
		t.Fatalf("write after the limit: %d", st)
	}
}

func TestConcurrentUse(t *testing.T) {
	tg, c := start(t, scimtarget.Options{})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"same","externalId":"P-%d"}`, i)
			c.do(http.MethodPost, "/Users", body)
			c.do(http.MethodGet, "/Users?filter="+url.QueryEscape(`userName eq "same"`), "")
		}()
	}
	wg.Wait()
	if n := len(tg.Users()); n != 1 {
		t.Fatalf("%d users named same after concurrent creates, want exactly 1", n)
	}
}

func TestResetReleasesHungRequests(t *testing.T) {
	tg, c := start(t, scimtarget.Options{})
	tg.HangNext(1)
	done := make(chan int, 1)
	go func() {
		st, _, _ := c.do(http.MethodGet, "/Users", "")
		done <- st
	}()
	select {
	case st := <-done:
		t.Fatalf("a hung request answered %d before Reset", st)
	case <-time.After(300 * time.Millisecond):
	}
	tg.Reset()
	select {
	case st := <-done:
		if st != http.StatusOK {
			t.Fatalf("released request answered %d", st)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Reset did not release the hung request")
	}
}
