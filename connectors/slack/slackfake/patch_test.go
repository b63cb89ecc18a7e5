package slackfake_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tenure-id/tenure/connectors/slack/slackfake"
)

// PATCH takes what Entra ID sends (capitalised ops, string booleans, value paths) and answers
// a refused one in the configured error form.
func TestPatchAsEntraSendsIt(t *testing.T) {
	const token = "xoxp-slackfake-test"
	for _, v1 := range []bool{false, true} {
		fake := slackfake.New(slackfake.Options{Token: token, V1Errors: v1, Unlimited: true})
		srv := httptest.NewServer(fake.Handler())
		defer srv.Close()
		id, err := fake.PutUser("ada", "ada@example.com", true)
		if err != nil {
			t.Fatal(err)
		}
		patch := func(ops string) (int, map[string]any) {
			t.Helper()
			req, _ := http.NewRequest(http.MethodPatch, srv.URL+"/scim/v2/Users/"+id,
				strings.NewReader(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":`+ops+`}`))
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			return resp.StatusCode, body
		}
		st, body := patch(`[{"op":"Replace","path":"active","value":"False"},
			{"op":"Replace","path":"emails[type eq \"work\"].value","value":"ada.l@example.com"},
			{"op":"Add","value":{"name.givenName":"Ada","title":"Countess"}}]`)
		if st != http.StatusOK {
			t.Fatalf("v1=%v: Entra-style PATCH answered %d %v", v1, st, body)
		}
		u := fake.Users()[0]
		if u.Active || u.Email != "ada.l@example.com" || u.GivenName != "Ada" || u.Title != "Countess" {
			t.Fatalf("v1=%v: after the PATCH %+v", v1, u)
		}
		st, body = patch(`[{"op":"Merge","path":"title","value":"x"}]`)
		if st != http.StatusBadRequest {
			t.Fatalf("v1=%v: unknown op answered %d", v1, st)
		}
		if v1 {
			if e, _ := body["Errors"].(map[string]any); !strings.Contains(e["description"].(string), `Operations[0]: op "Merge"`) {
				t.Fatalf("v1 error body %v", body)
			}
		} else if body["scimType"] != "invalidSyntax" || body["status"] != "400" || !strings.Contains(body["detail"].(string), "Operations[0]") {
			t.Fatalf("v2 error body %v", body)
		}
		if fake.Users()[0].Title != "Countess" {
			t.Fatal("a refused PATCH changed the user")
		}
	}
}
