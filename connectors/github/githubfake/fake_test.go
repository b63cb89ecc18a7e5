package githubfake_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/tenure-id/tenure/connectors/github/githubfake"
)

const token = "ghp_fake_test_token"

type client struct {
	t    *testing.T
	base string
}

func (c client) do(method, path string, body any) (int, http.Header, map[string]any) {
	c.t.Helper()
	var rd bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = *bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, &rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("User-Agent", "githubfake-test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, resp.Header, m
}

func user(i int) map[string]any {
	return map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"externalId": fmt.Sprintf("ext-%d", i), "userName": fmt.Sprintf("user%d@acme.com", i),
		"displayName": fmt.Sprintf("User %d", i), "active": true,
		"emails": []any{map[string]any{"value": fmt.Sprintf("user%d@acme.com", i), "type": "work", "primary": true}},
	}
}

func TestFakeEnterpriseSCIM(t *testing.T) {
	fake := githubfake.New(githubfake.Options{Enterprise: "acme", Orgs: []string{"acme-eng"}, Token: token, SecondaryPerMinute: -1})
	srv := httptest.NewServer(fake.Handler())
	defer srv.Close()
	c := client{t, srv.URL}
	const users = "/scim/v2/enterprises/acme/Users"
	var first string
	for i := range 35 {
		st, h, body := c.do(http.MethodPost, users, user(i))
		if st != http.StatusCreated || h.Get("X-Ratelimit-Limit") != "5000" || h.Get("X-Ratelimit-Resource") != "core" {
			t.Fatalf("create %d: %d %v (rate headers %v)", i, st, body, h)
		}
		if i == 0 {
			first = body["id"].(string)
		}
	}
	// Defaults: startIndex 1, count 30.
	if st, _, body := c.do(http.MethodGet, users, nil); st != 200 || body["totalResults"] != float64(35) || body["itemsPerPage"] != float64(30) {
		t.Fatalf("list without paging: %d %v", st, body["itemsPerPage"])
	}
	// A path-less replace suspends; the suspended user is still listed.
	patch := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []any{map[string]any{"op": "Replace", "value": map[string]any{"active": false}}}}
	if st, _, body := c.do(http.MethodPatch, users+"/"+first, patch); st != 200 || body["active"] != false {
		t.Fatalf("path-less replace active=false: %d %v", st, body)
	}
	q := "?filter=" + url.QueryEscape(`externalId eq "ext-0"`)
	if st, _, body := c.do(http.MethodGet, users+q, nil); st != 200 || body["totalResults"] != float64(1) {
		t.Fatalf("suspended user by externalId: %d %v", st, body)
	}
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		scimType           string
	}{
		{"two filters", http.MethodGet, users + "?filter=" + url.QueryEscape(`userName eq "a" and externalId eq "b"`), nil, 400, "invalidFilter"},
		{"email filter", http.MethodGet, users + "?filter=" + url.QueryEscape(`emails.value eq "a@acme.com"`), nil, 400, "invalidFilter"},
		{"lower-case path", http.MethodGet, "/scim/v2/enterprises/acme/users", nil, 404, ""},
		{"taken externalId", http.MethodPost, users, func() map[string]any { u := user(99); u["externalId"] = "ext-1"; return u }(), 409, "uniqueness"},
		{"no active", http.MethodPost, users, func() map[string]any { u := user(98); delete(u, "active"); return u }(), 400, "invalidValue"},
		{"email without type", http.MethodPost, users, func() map[string]any {
			u := user(97)
			u["emails"] = []any{map[string]any{"value": "x@acme.com", "primary": true}}
			return u
		}(), 400, "invalidValue"},
		{"group member by externalId", http.MethodPost, "/scim/v2/enterprises/acme/Groups", map[string]any{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "externalId": "g", "displayName": "G",
			"members": []any{map[string]any{"value": "ext-1"}}}, 400, "invalidValue"},
		{"group without externalId", http.MethodPost, "/scim/v2/enterprises/acme/Groups", map[string]any{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "G"}, 400, "invalidValue"},
	} {
		st, _, body := c.do(tc.method, tc.path, tc.body)
		if st != tc.status {
			t.Fatalf("%s: %d %v, want %d", tc.name, st, body, tc.status)
		}
		if tc.scimType != "" && (body["status"] != float64(tc.status) || body["scimType"] != tc.scimType) {
			t.Fatalf("%s: body %v, want integer status %d and scimType %s", tc.name, body, tc.status, tc.scimType)
		}
	}
	// Bad credentials answer in the REST form.
	bad := client{t, srv.URL}
	req, _ := http.NewRequest(http.MethodGet, bad.base+users, nil)
	req.Header.Set("Authorization", "Bearer wrong")
	req.Header.Set("User-Agent", "x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != 401 || body["message"] != "Bad credentials" || body["documentation_url"] == nil {
		t.Fatalf("bad token: %d %v", resp.StatusCode, body)
	}
}

func TestFakeRESTMemberships(t *testing.T) {
	fake := githubfake.New(githubfake.Options{Enterprise: "acme", Orgs: []string{"acme-eng"}, Token: token})
	if err := fake.CreateTeam("acme-eng", "backend", "Backend"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fake.Handler())
	defer srv.Close()
	c := client{t, srv.URL}
	if st, _, _ := c.do(http.MethodPost, "/scim/v2/enterprises/acme/Users", user(1)); st != 201 {
		t.Fatal(st)
	}
	// An unknown login is not a managed user of the enterprise.
	if st, _, _ := c.do(http.MethodPut, "/orgs/acme-eng/teams/backend/memberships/octocat", map[string]string{"role": "member"}); st != 404 {
		t.Fatalf("team PUT for a stranger: %d, want 404", st)
	}
	if st, _, body := c.do(http.MethodPut, "/orgs/acme-eng/teams/backend/memberships/user1_acme", map[string]string{"role": "owner"}); st != 422 || body["errors"] == nil {
		t.Fatalf("bad role: %d %v, want 422 with errors[]", st, body)
	}
	st, _, body := c.do(http.MethodPut, "/orgs/acme-eng/teams/backend/memberships/user1_acme", map[string]string{"role": "maintainer"})
	if st != 200 || body["state"] != "pending" || body["role"] != "maintainer" || body["url"] == nil {
		t.Fatalf("team PUT before joining the org: %d %v, want pending maintainer", st, body)
	}
	if st, _, body = c.do(http.MethodPut, "/orgs/acme-eng/memberships/user1_acme", map[string]string{"role": "member"}); st != 200 || body["state"] != "active" {
		t.Fatalf("org PUT for a managed user: %d %v, want active", st, body)
	}
	if st, _, body = c.do(http.MethodGet, "/orgs/acme-eng/teams/backend/memberships/user1_acme", nil); body["state"] != "active" {
		t.Fatalf("team membership after joining: %d %v, want active", st, body)
	}
	if st, _, _ = c.do(http.MethodDelete, "/orgs/acme-eng/memberships/user1_acme", nil); st != 204 {
		t.Fatalf("org DELETE: %d", st)
	}
	if active, pending := fake.TeamMembers("acme-eng", "backend"); len(active)+len(pending) != 0 {
		t.Fatalf("leaving the org left team memberships %v %v", active, pending)
	}
}
