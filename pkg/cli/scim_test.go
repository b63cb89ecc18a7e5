package cli

import (
	"encoding/json"
	"net/http"
	"strings"
	"syscall"
	"testing"
)

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// A token from `scim token create` opens /scim/v2 of the running server; a person created over
// SCIM is hired through the lifecycle (people show, policy-derived access); DELETE leaves them
// terminated with the audit chain intact; a revoked token is refused.
func TestSCIMTokenOpensServedProvider(t *testing.T) {
	db := tempDB(t)
	env := map[string]string{"TENURE_DB": db, "TENURE_POLICIES": shippedPolicies, "TENURE_ACTOR": "it-admin"}
	if r := run(t, env, "init"); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	r := run(t, env, "scim", "token", "create", "--name", "workday")
	token := lastLine(r.stdout)
	if r.code != 0 || !strings.HasPrefix(token, "tnr_scim_") || strings.Contains(token, " ") {
		t.Fatalf("token create: %+v", r)
	}
	if r := run(t, env, "scim", "token", "create", "--name", "workday"); r.code != 1 || !strings.Contains(r.stderr, `a SCIM token named "workday" exists`) {
		t.Fatalf("duplicate name: %+v", r)
	}
	if r := run(t, env, "scim", "token", "create"); r.code != 2 {
		t.Fatalf("no --name: %+v", r)
	}
	addr := freePort(t)
	cmd, _ := startServe(t, addr, "TENURE_DB="+db, "TENURE_POLICIES="+shippedPolicies)
	base := "http://" + addr + "/scim/v2"
	send := func(method, path, body, tok string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/scim+json")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	code, user := send("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"userName":"jared.dunn","externalId":"E900","name":{"givenName":"Donald","familyName":"Dunn"},"nickName":"Jared",
		"emails":[{"value":"jared@piedpiper.test","type":"work"}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"organization":"Pied Piper","division":"Engineering"}}`, token)
	if code != http.StatusCreated {
		t.Fatalf("POST /Users: %d %v", code, user)
	}
	r = run(t, env, "people", "show", "E900", "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"username": "jared.dunn"`) || !strings.Contains(r.stdout, `"status": "active"`) {
		t.Fatalf("people show after SCIM create: %+v", r)
	}
	if r := run(t, env, "access", "list", "E900"); r.code != 0 || !strings.Contains(r.stdout, "github") {
		t.Fatalf("access list: policy-derived access missing: %+v", r)
	}
	if r := run(t, env, "scim", "token", "list", "-o", "json"); r.code != 0 || !strings.Contains(r.stdout, `"name": "workday"`) ||
		strings.Contains(r.stdout, token) || strings.Contains(r.stdout, `"last_used_at": null`) {
		t.Fatalf("token list: %+v", r)
	}
	if code, body := send("DELETE", "/Users/"+user["id"].(string), "", token); code != http.StatusNoContent {
		t.Fatalf("DELETE: %d %v", code, body)
	}
	r = run(t, env, "people", "show", "E900", "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"status": "terminated"`) {
		t.Fatalf("people show after DELETE: %+v", r)
	}
	checkSCIMAudit(t, db, token)
	if r := run(t, env, "scim", "token", "revoke", "workday"); r.code != 0 {
		t.Fatalf("revoke: %+v", r)
	}
	if code, body := send("GET", "/Users", "", token); code != http.StatusUnauthorized || body["status"] != "401" {
		t.Fatalf("after revoke: %d %v", code, body)
	}
	if r := run(t, env, "scim", "token", "revoke", "workday"); r.code != 1 {
		t.Fatalf("second revoke: %+v", r)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
}

// checkSCIMAudit verifies the audit chain, that the SCIM changes are the token holder's, and
// that the token itself is nowhere in it.
func checkSCIMAudit(t *testing.T, db, token string) {
	t.Helper()
	byActor := map[string]int{}
	for _, r := range auditLog(t, db) {
		if strings.Contains(string(r.Before)+string(r.After)+r.Reason, token) {
			t.Fatalf("audit record %d holds the token", r.Seq)
		}
		byActor[r.Actor+" "+r.Action]++
	}
	if byActor["scim:workday person.create"] != 1 || byActor["scim:workday person.update"] == 0 || byActor["cli:it-admin scim_token.create"] != 1 {
		t.Fatalf("audit by actor and action: %v", byActor)
	}
}
