package slack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/connectors/slack"
	"github.com/tenure-id/tenure/connectors/slack/slackfake"
	"github.com/tenure-id/tenure/pkg/connector"
)

func mustApply(t *testing.T, c connector.Connector, op connector.Op) connector.Account {
	t.Helper()
	a, err := c.Apply(context.Background(), op)
	if err != nil {
		t.Fatalf("%s %s: %v", op.Kind, op.Account.UserName, err)
	}
	return a
}

func acct(ext, user, email string) connector.Account {
	return connector.Account{ExternalID: ext, UserName: user, Email: email, GivenName: "G", FamilyName: "F",
		DisplayName: "G F", Active: true}
}

func TestUserNames(t *testing.T) {
	for _, tc := range []struct {
		name, username, first string
	}{
		{"valid kept", "mona.cat", "mona.cat"},
		{"long cut to 20", "alexandria.montgomery-smithson", "alexandria.montgomer"},
		{"cut leaves no trailing separator", "abcdefghijklmnopqrs.tuv", "abcdefghijklmnopqrs"},
		{"accents and spelled letters", "Zoë.Ångström-Øberg", "zoe.angstrom-oberg"},
		{"german sharp s", "Jürgen Straße", "jurgen.strasse"},
		{"email local part", "Mona.Cat@example.com", "mona.cat"},
		{"separators collapsed", "__a..b--c__", "a.b-c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := slack.UserNames(tc.username, "p-1")
			if got[0] != tc.first {
				t.Fatalf("UserNames(%q)[0] = %q, want %q", tc.username, got[0], tc.first)
			}
			for _, n := range got {
				if !slack.ValidUserName(n) {
					t.Fatalf("candidate %q for %q is not a valid Slack userName", n, tc.username)
				}
			}
			if again := slack.UserNames(tc.username, "p-1"); !slices.Equal(got, again) {
				t.Fatalf("not deterministic: %v then %v", got, again)
			}
		})
	}
	// Nothing usable in the name: a suffixed placeholder, still valid and still per person.
	a, b := slack.UserNames("王小明", "p-1"), slack.UserNames("王小明", "p-2")
	if !strings.HasPrefix(a[0], "user-") || !slack.ValidUserName(a[0]) || a[0] == b[0] {
		t.Fatalf("CJK-only names: %v and %v, want distinct valid user-XXXXX names", a, b)
	}
	// Two people sharing the first 20 characters get different suffixed names.
	x, y := slack.UserNames("alexandria.montgomery-smithson", "p-1"), slack.UserNames("alexandria.montgomery-smythe", "p-2")
	if x[0] != y[0] || x[1] == y[1] {
		t.Fatalf("collision candidates %v and %v: same first, different second wanted", x, y)
	}
}

func TestDerivedUserNameCollisionAndKept(t *testing.T) {
	fake, c := start(t, slackfake.Options{}, slack.Config{})
	first := mustApply(t, c, connector.Op{Kind: connector.OpCreate,
		Account: acct("p-1", "alexandria.montgomery-smithson", "alex@acme.com")})
	second := mustApply(t, c, connector.Op{Kind: connector.OpCreate,
		Account: acct("p-2", "alexandria.montgomery-smythe", "alexa@acme.com")})
	want := slack.UserNames("alexandria.montgomery-smythe", "p-2")[1]
	if first.UserName != "alexandria.montgomer" || second.UserName != want {
		t.Fatalf("userNames %q and %q, want alexandria.montgomer and %q", first.UserName, second.UserName, want)
	}
	// A retried create for p-2 adopts its account under the derived name.
	again := mustApply(t, c, connector.Op{Kind: connector.OpCreate,
		Account: acct("p-2", "alexandria.montgomery-smythe", "alexa@acme.com")})
	if again.ID != second.ID || len(fake.Users()) != 2 {
		t.Fatalf("retried create made %s (%d users), want %s adopted", again.ID, len(fake.Users()), second.ID)
	}
	// An update with every field (the long username included) keeps the derived name.
	upd := acct("p-2", "alexandria.montgomery-smythe", "alexa@acme.com")
	upd.Attributes = map[string]string{"title": "Engineer"}
	got := mustApply(t, c, connector.Op{Kind: connector.OpUpdate, AccountID: second.ID, Account: upd})
	if got.UserName != want || got.Attributes["title"] != "Engineer" {
		t.Fatalf("after update: userName %q title %q, want %q kept and the title set", got.UserName, got.Attributes["title"], want)
	}
	for _, f := range c.Traits().Fields {
		if f == "user_name" {
			t.Fatal("Traits.Fields lists user_name: a derived name would show as drift on every plan")
		}
	}
	// A valid username another account holds is a conflict, not a reason to rename.
	_, err := c.Apply(context.Background(), connector.Op{Kind: connector.OpCreate, Account: acct("p-3", "alexandria.montgomer", "x@acme.com")})
	if !errors.Is(err, connector.ErrConflict) {
		t.Fatalf("taken valid userName: %v, want ErrConflict", err)
	}
}

func TestDeleteDeactivates(t *testing.T) {
	fake, c := start(t, slackfake.Options{}, slack.Config{})
	a := mustApply(t, c, connector.Op{Kind: connector.OpCreate, Account: acct("p-1", "mona", "mona@acme.com")})
	mustApply(t, c, connector.Op{Kind: connector.OpAddMember, AccountID: a.ID, Account: a, Entitlement: "channel:general"})
	if g := fake.Groups(); len(g) != 1 || g[0].DisplayName != "channel-general" || !slices.Equal(g[0].Members, []string{"mona"}) {
		t.Fatalf("channel:general made user groups %+v, want channel-general with mona", g)
	}
	mustApply(t, c, connector.Op{Kind: connector.OpDelete, AccountID: a.ID, Account: a})
	users := fake.Users()
	if len(users) != 1 || users[0].Active || len(users[0].Groups) != 0 {
		t.Fatalf("after DELETE: %+v, want the user kept, inactive, out of its user groups", users)
	}
	mustApply(t, c, connector.Op{Kind: connector.OpEnable, AccountID: a.ID, Account: a})
	if u := fake.Users()[0]; !u.Active {
		t.Fatal("a deleted (deactivated) Slack user could not be enabled again")
	}
}

func raw(t *testing.T, method, u string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, u, rd)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, resp.Header, m
}

func TestFakeStrictness(t *testing.T) {
	for _, v1 := range []bool{false, true} {
		fake := slackfake.New(slackfake.Options{Token: testToken, V1Errors: v1})
		srv := httptest.NewServer(fake.Handler())
		defer srv.Close()
		base := srv.URL + "/scim/v2"
		user := func(userName, email, display string) map[string]any {
			return map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": userName,
				"displayName": display, "emails": []any{map[string]any{"value": email, "primary": true}}}
		}
		if st, _, _ := raw(t, http.MethodPost, base+"/Users", user("mona", "mona@acme.com", "Mona")); st != 201 {
			t.Fatalf("valid create: %d", st)
		}
		for _, tc := range []struct {
			name   string
			method string
			path   string
			body   any
			status int
			scim   string
		}{
			{"externalId filter", http.MethodGet, "/Users?filter=" + url.QueryEscape(`externalId eq "p-1"`), nil, 400, "invalidFilter"},
			{"two-term filter", http.MethodGet, "/Users?filter=" + url.QueryEscape(`userName eq "a" or userName eq "b"`), nil, 400, "invalidFilter"},
			{"userName of 21", http.MethodPost, "/Users", user("abcdefghijklmnopqrstu", "a@acme.com", "A"), 400, "invalidValue"},
			{"upper case userName", http.MethodPost, "/Users", user("Mona2", "m2@acme.com", "M"), 400, "invalidValue"},
			{"@ in displayName", http.MethodPost, "/Users", user("mona2", "m2@acme.com", "m@acme"), 400, "invalidValue"},
			{"no email", http.MethodPost, "/Users", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "x"}, 400, "invalidValue"},
			{"taken userName", http.MethodPost, "/Users", user("mona", "m3@acme.com", "M"), 409, "uniqueness"},
			{"taken email", http.MethodPost, "/Users", user("mona3", "Mona@acme.com", "M"), 409, "uniqueness"},
			{"manager.value", http.MethodPost, "/Users", func() map[string]any {
				u := user("mona4", "m4@acme.com", "M")
				u["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] = map[string]any{"manager": map[string]any{"value": "U1"}}
				return u
			}(), 400, "invalidValue"},
		} {
			st, _, body := raw(t, tc.method, base+tc.path, tc.body)
			if st != tc.status {
				t.Fatalf("v1=%v %s: %d %v, want %d", v1, tc.name, st, body, tc.status)
			}
			if v1 {
				e, _ := body["Errors"].(map[string]any)
				if e == nil || e["code"] != float64(tc.status) || e["description"] == "" {
					t.Fatalf("v1 %s: body %v, want {\"Errors\":{description, code}}", tc.name, body)
				}
			} else if body["status"] != itoa(tc.status) || body["scimType"] != tc.scim {
				t.Fatalf("v2 %s: body %v, want status %q and scimType %s", tc.name, body, itoa(tc.status), tc.scim)
			}
		}
		for _, p := range []string{"/ServiceProviderConfig", "/ResourceTypes", "/Schemas/Users", "/Schemas/Groups"} {
			if st, _, _ := raw(t, http.MethodGet, base+p, nil); st != 200 {
				t.Fatalf("discovery %s: %d", p, st)
			}
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestRateLimit429RetryAfter(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 21, 0, 0, 0, time.UTC)
	now := t0
	clock := func() time.Time { return now }
	fake, c := start(t, slackfake.Options{Now: clock}, slack.Config{Now: clock})
	// User creates burst to 20 a minute, then refill at 3 a second.
	var err error
	n := 0
	for ; n < 25; n++ {
		u := "user" + itoa(n)
		if _, err = c.Apply(context.Background(), connector.Op{Kind: connector.OpCreate, Account: acct("p-"+itoa(n), u, u+"@acme.com")}); err != nil {
			break
		}
	}
	if n != 20 || !errors.Is(err, connector.ErrRateLimited) || connector.RetryAfter(err) != time.Second {
		t.Fatalf("create #%d failed with %v (RetryAfter %v), want the 21st refused, 429 with Retry-After 1", n+1, err, connector.RetryAfter(err))
	}
	if fake.Limited() != 1 {
		t.Fatalf("fake refused %d requests, want 1", fake.Limited())
	}
	now = now.Add(time.Second)
	if _, err := c.Apply(context.Background(), connector.Op{Kind: connector.OpCreate, Account: acct("p-x", "userx", "userx@acme.com")}); err != nil {
		t.Fatalf("create after Retry-After: %v", err)
	}
}

func TestManagerSync(t *testing.T) {
	fake, c := start(t, slackfake.Options{}, slack.Config{SyncManager: true})
	boss := mustApply(t, c, connector.Op{Kind: connector.OpCreate, Account: acct("p-boss", "boss", "boss@acme.com")})
	rep := acct("p-rep", "rep", "rep@acme.com")
	rep.Attributes = map[string]string{"manager": "p-boss"}
	a := mustApply(t, c, connector.Op{Kind: connector.OpCreate, Account: rep})
	var got slackfake.User
	for _, u := range fake.Users() {
		if u.UserName == "rep" {
			got = u
		}
	}
	if got.Enterprise["managerId"] != boss.ID {
		t.Fatalf("Slack holds managerId %q, want the manager's Slack id %s", got.Enterprise["managerId"], boss.ID)
	}
	accs, err := c.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range accs {
		if l.ID == a.ID && l.Attributes["manager"] != "p-boss" {
			t.Fatalf("List reports manager %q, want the manager's Tenure ID p-boss", l.Attributes["manager"])
		}
	}
}

func TestDisplayNameWithAtRefused(t *testing.T) {
	fake, c := start(t, slackfake.Options{}, slack.Config{})
	a := acct("p-1", "mona", "mona@acme.com")
	a.DisplayName = "mona@acme.com"
	_, err := c.Apply(context.Background(), connector.Op{Kind: connector.OpCreate, Account: a})
	if !errors.Is(err, connector.ErrInvalid) || fake.Count(http.MethodPost, "Users") != 0 {
		t.Fatalf("displayName with @: %v after %d POSTs, want ErrInvalid before any request", err, fake.Count(http.MethodPost, "Users"))
	}
}

func TestTokenNeverInErrorsOrLogs(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fake, c := start(t, slackfake.Options{}, slack.Config{Logger: logger})
	fake.RateLimit(1)
	_, err1 := c.List(context.Background())
	fake.ServerError(1)
	_, err2 := c.Apply(context.Background(), connector.Op{Kind: connector.OpCreate, Account: acct("p-1", "a-very-long-username-indeed", "m@acme.com")})
	mustApply(t, c, connector.Op{Kind: connector.OpCreate, Account: acct("p-1", "a-very-long-username-indeed", "m@acme.com")})
	wrong, err := slack.New(slack.Config{BaseURL: c.BaseURL(), Token: testToken + "x", Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	_, err3 := wrong.List(context.Background())
	if !errors.Is(err3, connector.ErrUnauthorized) {
		t.Fatalf("wrong token: %v, want ErrUnauthorized", err3)
	}
	for _, err := range []error{err1, err2, err3} {
		if err == nil || strings.Contains(err.Error(), testToken) {
			t.Fatalf("error %v: want a failure that does not show the token", err)
		}
	}
	if logs.Len() == 0 || strings.Contains(logs.String(), testToken) {
		t.Fatalf("debug logs (%d bytes) show the token or are empty", logs.Len())
	}
}
