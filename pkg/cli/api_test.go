package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

// apiGet calls the served admin API and returns the status and body.
func apiGet(t *testing.T, method, url, token, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func createAPIToken(t *testing.T, env map[string]string, name, role string) string {
	t.Helper()
	r := run(t, env, "api", "token", "create", "--name", name, "--role", role)
	token := lastLine(r.stdout)
	if r.code != 0 || !strings.HasPrefix(token, "tnr_api_") || strings.Contains(token, " ") {
		t.Fatalf("api token create: %+v", r)
	}
	return token
}

// A token from `api token create` opens /api/v1 of the running server with its role; the
// token list shows its use but never the secret; a revoked token is refused at once.
func TestAPITokenOpensServedAdminAPI(t *testing.T) {
	db := tempDB(t)
	seed(t, db)
	env := map[string]string{"TENURE_DB": db, "TENURE_POLICIES": shippedPolicies, "TENURE_ACTOR": "it-admin"}
	token := createAPIToken(t, env, "grafana", "read")
	for _, bad := range []struct {
		args []string
		code int
	}{
		{[]string{"api", "token", "create", "--name", "grafana", "--role", "read"}, 1},
		{[]string{"api", "token", "create", "--name", "x", "--role", "owner"}, 2},
		{[]string{"api", "token", "create", "--role", "read"}, 2},
	} {
		if r := run(t, env, bad.args...); r.code != bad.code {
			t.Errorf("%v: %+v; want exit %d", bad.args, r, bad.code)
		}
	}
	addr := freePort(t)
	cmd, _ := startServe(t, addr, "TENURE_DB="+db, "TENURE_POLICIES="+shippedPolicies)
	base := "http://" + addr + "/api/v1"
	code, body := apiGet(t, "GET", base+"/people", token, "")
	if code != 200 || !strings.Contains(string(body), `"employee_id":"E002"`) {
		t.Fatalf("GET /people with the token: %d %s", code, body)
	}
	if code, body := apiGet(t, "POST", base+"/ops/retry", token, `{}`); code != 403 {
		t.Fatalf("a read token's write: %d %s", code, body)
	}
	r := run(t, env, "api", "token", "list", "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"role": "read"`) || strings.Contains(r.stdout, token) || strings.Contains(r.stdout, `"last_used_at": null`) {
		t.Fatalf("token list: %+v", r)
	}
	if r := run(t, env, "api", "token", "revoke", "grafana"); r.code != 0 {
		t.Fatalf("revoke: %+v", r)
	}
	if code, body := apiGet(t, "GET", base+"/people", token, ""); code != 401 {
		t.Fatalf("after revoke: %d %s", code, body)
	}
	if r := run(t, env, "api", "token", "revoke", "grafana"); r.code != 1 {
		t.Fatalf("second revoke: %+v", r)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	checkTokenAudit(t, db, token)
}

func checkTokenAudit(t *testing.T, db, token string) {
	t.Helper()
	var got []string
	for _, r := range auditLog(t, db) {
		if strings.Contains(string(r.Before)+string(r.After), token) {
			t.Fatalf("audit record %d holds the token", r.Seq)
		}
		if strings.HasPrefix(r.Action, "api_token.") {
			got = append(got, r.Actor+" "+r.Action+" "+r.Target)
		}
	}
	if strings.Join(got, "|") != "cli:it-admin api_token.create api_token:grafana|cli:it-admin api_token.revoke api_token:grafana" {
		t.Errorf("token audit: %q", got)
	}
}

// The API's JSON is the CLI's -o json for the same database, decoded value for value, so the
// two cannot drift apart.
func TestAPIMatchesCLIJSON(t *testing.T) {
	db := tempDB(t)
	seed(t, db)
	env := map[string]string{"TENURE_DB": db, "TENURE_POLICIES": shippedPolicies}
	token := createAPIToken(t, env, "auditor", "read")
	addr := freePort(t)
	cmd, _ := startServe(t, addr, "TENURE_DB="+db, "TENURE_POLICIES="+shippedPolicies)
	base := "http://" + addr + "/api/v1"
	decode := func(what string, b []byte) any {
		t.Helper()
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: %v: %s", what, err, b)
		}
		return v
	}
	// field picks a member of an object; without removes members that differ by nature.
	field := func(v any, k string) any { return v.(map[string]any)[k] }
	without := func(v any, ks ...string) any {
		for _, k := range ks {
			delete(v.(map[string]any), k)
		}
		return v
	}
	cases := []struct {
		name string
		cli  []string
		path string
		api  func(any) any // what of the API's answer the CLI prints
		cmp  func(any) any // applied to both before comparing
	}{
		{name: "people list", cli: []string{"people", "list"}, path: "/people", api: func(v any) any { return field(v, "people") }},
		{name: "people show", cli: []string{"people", "show", "gilfoyle"}, path: "/people/gilfoyle"},
		{name: "access list", cli: []string{"access", "list", "E002"}, path: "/people/E002/access"},
		{name: "access why", cli: []string{"access", "why", "E002", "github"}, path: "/access/why?person=E002&app=github"},
		{name: "org tree", cli: []string{"org", "tree"}, path: "/org/tree"},
		{name: "ops list", cli: []string{"ops", "list"}, path: "/ops"},
		{name: "audit verify", cli: []string{"audit", "verify"}, path: "/audit/verify"},
		{name: "access report", cli: []string{"report", "access", "--format", "json"}, path: "/reports/access?format=json",
			cmp: func(v any) any { return without(v, "generated_at") }},
		{name: "exceptions report", cli: []string{"report", "exceptions", "--format", "json"}, path: "/reports/exceptions",
			cmp: func(v any) any { return without(v, "generated_at") }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, env, append(c.cli, "-o", "json")...)
			if r.code != 0 {
				t.Fatalf("cli: %+v", r)
			}
			code, body := apiGet(t, "GET", base+c.path, token, "")
			if code != 200 {
				t.Fatalf("api: %d %s", code, body)
			}
			want, got := decode("cli", []byte(r.stdout)), decode("api", body)
			if c.api != nil {
				got = c.api(got)
			}
			if c.cmp != nil {
				want, got = c.cmp(want), c.cmp(got)
			}
			if !reflect.DeepEqual(want, got) {
				w, _ := json.Marshal(want)
				g, _ := json.Marshal(got)
				t.Errorf("API and CLI differ:\ncli %s\napi %s", w, g)
			}
		})
	}
	// The CSV and HTML reports are the CLI's byte for byte (the time they were made aside).
	r := run(t, env, "report", "exceptions", "--format", "csv")
	_, body := apiGet(t, "GET", base+"/reports/exceptions?format=csv", token, "")
	if dropGenerated(r.stdout) != dropGenerated(string(body)) || r.code != 0 {
		t.Errorf("csv differs:\ncli %s\napi %s", r.stdout, body)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
}

func dropGenerated(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.Contains(strings.ToLower(l), "generated") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}
