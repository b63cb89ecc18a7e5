package github_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/connectors/github"
	"github.com/tenure-id/tenure/connectors/github/githubfake"
	"github.com/tenure-id/tenure/pkg/connector"
)

func person(i int) connector.Account {
	names := []string{"", "mona.cat@acme.com", "hubot@acme.com", "octo.kit@acme.com"}
	return connector.Account{ExternalID: "p-" + string(rune('0'+i)), UserName: names[i], Email: names[i],
		GivenName: "Given", FamilyName: "Family", Active: true}
}

func mustApply(t *testing.T, c connector.Connector, op connector.Op) connector.Account {
	t.Helper()
	a, err := c.Apply(context.Background(), op)
	if err != nil {
		t.Fatalf("%s: %v", op.Kind, err)
	}
	return a
}

func create(t *testing.T, c connector.Connector, i int) connector.Account {
	t.Helper()
	return mustApply(t, c, connector.Op{Kind: connector.OpCreate, Account: person(i)})
}

func account(t *testing.T, c connector.Connector, id string) connector.Account {
	t.Helper()
	accs, err := c.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range accs {
		if a.ID == id {
			return a
		}
	}
	t.Fatalf("account %s not listed", id)
	return connector.Account{}
}

func enterprise(t *testing.T, fo githubfake.Options, cfg github.Config) (*githubfake.Server, *github.Connector, string) {
	t.Helper()
	fo.Enterprise, fo.Orgs = "acme", []string{"acme-eng"}
	cfg.Enterprise, cfg.Org = "acme", "acme-eng"
	return start(t, fo, cfg)
}

func TestUserAgentRequired(t *testing.T) {
	_, c, url := enterprise(t, githubfake.Options{}, github.Config{})
	req, _ := http.NewRequest(http.MethodGet, url+"/scim/v2/enterprises/acme/Users", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("User-Agent", "") // Go then sends none
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "User-Agent") {
		t.Fatalf("request without User-Agent: %d %q, want 403 naming User-Agent", resp.StatusCode, body)
	}
	// The connector always names itself, so the same read succeeds through it.
	if _, err := c.List(context.Background()); err != nil {
		t.Fatalf("List through the connector: %v", err)
	}
}

func TestSCIMErrorsWithIntegerStatus(t *testing.T) {
	_, c, url := enterprise(t, githubfake.Options{}, github.Config{})
	create(t, c, 1)

	// GitHub's SCIM error carries status as a number, unlike RFC 7644's string.
	dup, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"externalId": "other", "userName": "mona.cat@acme.com", "displayName": "M", "active": true,
		"emails": []any{map[string]any{"value": "m@acme.com", "type": "work", "primary": true}}})
	req, _ := http.NewRequest(http.MethodPost, url+"/scim/v2/enterprises/acme/Users", bytes.NewReader(dup))
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if st, ok := body["status"].(float64); !ok || st != 409 || body["scimType"] != "uniqueness" {
		t.Fatalf("raw 409 body %v: want status as the number 409 and scimType uniqueness", body)
	}

	for _, tc := range []struct {
		name   string
		acc    connector.Account
		kind   error
		status int
		detail string
	}{
		{"taken userName", func() connector.Account { a := person(2); a.UserName = "Mona.Cat@acme.com"; return a }(), connector.ErrConflict, 409, "userName"},
		{"no externalId", func() connector.Account { a := person(2); a.ExternalID = ""; return a }(), connector.ErrInvalid, 400, "externalId is required"},
		{"unknown role", func() connector.Account { a := person(3); a.Role = "admin"; return a }(), connector.ErrInvalid, 400, "roles[0].value"},
		{"half a name", func() connector.Account { a := person(3); a.FamilyName = ""; return a }(), connector.ErrInvalid, 400, "givenName and familyName"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Apply(context.Background(), connector.Op{Kind: connector.OpCreate, Account: tc.acc})
			var ce *connector.Error
			if !errors.As(err, &ce) || !errors.Is(err, tc.kind) || ce.Status != tc.status || !strings.Contains(ce.Detail, tc.detail) {
				t.Fatalf("got %v (%#v), want %v with HTTP %d mentioning %q", err, ce, tc.kind, tc.status, tc.detail)
			}
		})
	}
}

func TestPrimaryRateLimitRetryAfterFromReset(t *testing.T) {
	for _, status := range []int{http.StatusForbidden, http.StatusTooManyRequests} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t0 := time.Date(2026, 11, 28, 21, 0, 0, 0, time.UTC)
			now := t0
			clock := func() time.Time { return now }
			_, c, _ := enterprise(t, githubfake.Options{Now: clock, RateLimit: 2, RateLimitStatus: status}, github.Config{Now: clock})
			nobody := connector.Match{ExternalID: "nobody"} // one filtered read each
			for range 2 {
				if _, err := c.Find(context.Background(), nobody); !errors.Is(err, connector.ErrNotFound) {
					t.Fatalf("Find within the limit: %v", err)
				}
			}
			now = t0.Add(10 * time.Minute)
			_, err := c.Find(context.Background(), nobody)
			var ce *connector.Error
			if !errors.Is(err, connector.ErrRateLimited) || !errors.As(err, &ce) || ce.Status != status {
				t.Fatalf("Find past the hourly limit: %v, want ErrRateLimited with HTTP %d", err, status)
			}
			if want := 50 * time.Minute; ce.RetryAfter != want {
				t.Fatalf("RetryAfter = %v, want %v (x-ratelimit-reset an hour after the window opened)", ce.RetryAfter, want)
			}
			now = t0.Add(time.Hour)
			if _, err := c.Find(context.Background(), nobody); !errors.Is(err, connector.ErrNotFound) {
				t.Fatalf("Find after the reset: %v", err)
			}
		})
	}
}

func TestSecondaryRateLimit(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 21, 0, 30, 0, time.UTC)
	clock := func() time.Time { return t0 }
	fake, c, _ := enterprise(t, githubfake.Options{Now: clock, SecondaryPerMinute: 2}, github.Config{Now: clock})
	create(t, c, 1)
	create(t, c, 2)
	_, err := c.Apply(context.Background(), connector.Op{Kind: connector.OpCreate, Account: person(3)})
	if !errors.Is(err, connector.ErrRateLimited) || connector.RetryAfter(err) != time.Minute {
		t.Fatalf("third write in a minute with a limit of 2: %v (RetryAfter %v), want ErrRateLimited after 60s", err, connector.RetryAfter(err))
	}
	fake.SecondaryLimit(1, 17*time.Second)
	_, err = c.List(context.Background())
	if !errors.Is(err, connector.ErrRateLimited) || connector.RetryAfter(err) != 17*time.Second {
		t.Fatalf("secondary limit with retry-after 17: %v (RetryAfter %v)", err, connector.RetryAfter(err))
	}
	fake.SecondaryLimit(1, 0)
	_, err = c.List(context.Background())
	if !errors.Is(err, connector.ErrRateLimited) || connector.RetryAfter(err) != time.Minute {
		t.Fatalf("secondary limit without retry-after: %v (RetryAfter %v), want GitHub's minimum of a minute", err, connector.RetryAfter(err))
	}
}

func TestTeamMembershipPendingUntilInvitationAccepted(t *testing.T) {
	fake, c, _ := start(t, githubfake.Options{Orgs: []string{"acme-oss"}}, github.Config{Mode: "org", Org: "acme-oss"})
	a := mustApply(t, c, connector.Op{Kind: connector.OpCreate, Account: connector.Account{ExternalID: "p-1",
		UserName: "monacat", Email: "mona@acme.com", GivenName: "Mona", FamilyName: "Cat", Active: true}})
	if inv := fake.Invitations(); len(inv) != 1 || inv[0].Email != "mona@acme.com" {
		t.Fatalf("org SCIM create sent invitations %v, want one to mona@acme.com", inv)
	}
	mustApply(t, c, connector.Op{Kind: connector.OpAddMember, AccountID: a.ID, Account: a, Entitlement: "team:backend"})
	active, pending := fake.TeamMembers("acme-oss", "backend")
	if len(active) != 0 || !slices.Equal(pending, []string{"monacat"}) {
		t.Fatalf("team before the invitation is accepted: active %v pending %v, want monacat pending", active, pending)
	}
	if l := account(t, c, a.ID); !slices.Contains(l.Memberships, "team:backend") {
		t.Fatalf("List shows %v: a pending membership is still the grant made", l.Memberships)
	}
	if err := fake.AcceptInvitation("acme-oss", "monacat", "monacat"); err != nil {
		t.Fatal(err)
	}
	if active, pending = fake.TeamMembers("acme-oss", "backend"); !slices.Equal(active, []string{"monacat"}) || len(pending) != 0 {
		t.Fatalf("after accepting: active %v pending %v", active, pending)
	}
	// active=false removes the person from the org (and so from its teams).
	mustApply(t, c, connector.Op{Kind: connector.OpDisable, AccountID: a.ID, Account: a})
	if members, _ := fake.OrgMembers("acme-oss"); len(members) != 0 {
		t.Fatalf("org members after disable: %v", members)
	}
}

func TestEnterpriseSuspendAndWipe(t *testing.T) {
	fake, c, _ := enterprise(t, githubfake.Options{}, github.Config{})
	a := create(t, c, 1)
	if u, _ := fake.UserByExternalID("p-1"); u.Login != "mona-cat_acme" {
		t.Fatalf("managed login %q, want mona-cat_acme", u.Login)
	}
	mustApply(t, c, connector.Op{Kind: connector.OpAddMember, AccountID: a.ID, Account: a, Entitlement: "team:backend"})
	if active, _ := fake.TeamMembers("acme-eng", "backend"); !slices.Equal(active, []string{"mona-cat_acme"}) {
		t.Fatalf("managed user not an active team member at once: %v", active)
	}
	mustApply(t, c, connector.Op{Kind: connector.OpDisable, AccountID: a.ID, Account: a})
	u, _ := fake.UserByExternalID("p-1")
	if u.Active || !strings.HasPrefix(u.Login, "ghost-") {
		t.Fatalf("suspended user %+v: want inactive with an obfuscated login", u)
	}
	if active, _ := fake.TeamMembers("acme-eng", "backend"); len(active) != 0 {
		t.Fatalf("suspended user still in the team: %v", active)
	}
	if l := account(t, c, a.ID); l.Active || len(l.Memberships) != 0 {
		t.Fatalf("suspended account listed as %+v", l)
	}
	mustApply(t, c, connector.Op{Kind: connector.OpEnable, AccountID: a.ID, Account: a})
	if u, _ := fake.UserByExternalID("p-1"); !u.Active || u.Login != "mona-cat_acme" {
		t.Fatalf("reinstated user %+v", u)
	}
	mustApply(t, c, connector.Op{Kind: connector.OpDelete, AccountID: a.ID, Account: a})
	if _, ok := fake.UserByExternalID("p-1"); ok || len(fake.Wiped()) != 1 {
		t.Fatalf("after DELETE the SCIM identity remains (%v) or no account was wiped (%v)", ok, fake.Wiped())
	}
}

func TestTeamLinkedToGroup(t *testing.T) {
	fake, c, _ := enterprise(t, githubfake.Options{}, github.Config{TeamLinks: map[string]string{"backend": "Backend Engineers"}})
	a := create(t, c, 1)
	mustApply(t, c, connector.Op{Kind: connector.OpAddMember, AccountID: a.ID, Account: a, Entitlement: "group:Backend Engineers"})
	if links := fake.TeamLinks("acme-eng", "backend"); !slices.Equal(links, []string{"Backend Engineers"}) {
		t.Fatalf("team backend linked to %v", links)
	}
	if active, _ := fake.TeamMembers("acme-eng", "backend"); !slices.Equal(active, []string{"mona-cat_acme"}) {
		t.Fatalf("linked team members %v, want the group's", active)
	}
	if l := account(t, c, a.ID); !slices.Equal(l.Memberships, []string{"group:Backend Engineers"}) {
		t.Fatalf("memberships %v: a linked team is managed through its group and not reported", l.Memberships)
	}
	_, err := c.Apply(context.Background(), connector.Op{Kind: connector.OpAddMember, AccountID: a.ID, Account: a, Entitlement: "team:backend"})
	if !errors.Is(err, connector.ErrInvalid) || !strings.Contains(err.Error(), "group:Backend Engineers") {
		t.Fatalf("team: grant on a linked team: %v, want ErrInvalid pointing at the group", err)
	}
}

func TestTokenNeverInErrorsOrLogs(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fake, c, url := enterprise(t, githubfake.Options{}, github.Config{Logger: logger})
	a := create(t, c, 1)
	fake.ServerError(1)
	_, err1 := c.List(context.Background())
	_, err2 := c.Apply(context.Background(), connector.Op{Kind: connector.OpCreate, Account: person(1)})
	wrong, err := github.New(github.Config{BaseURL: url, Token: testToken + "x", Enterprise: "acme", Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	_, err3 := wrong.List(context.Background())
	if !errors.Is(err3, connector.ErrUnauthorized) {
		t.Fatalf("wrong token: %v, want ErrUnauthorized", err3)
	}
	mustApply(t, c, connector.Op{Kind: connector.OpAddMember, AccountID: a.ID, Account: a, Entitlement: "team:backend"})
	for _, err := range []error{err1, err2, err3} {
		if err != nil && strings.Contains(err.Error(), testToken) {
			t.Fatalf("error shows the token: %v", err)
		}
	}
	if logs.Len() == 0 || strings.Contains(logs.String(), testToken) {
		t.Fatalf("debug logs (%d bytes) show the token or are empty", logs.Len())
	}
}

func TestManagedLogin(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"mona.cat@octo.com", "mona-cat_acme"},
		{"Mona_Cat", "mona-cat_acme"},
		{"j.doe+eng@x", "j-doe-eng_acme"},
		{"plain", "plain_acme"},
	} {
		if got := github.ManagedLogin(tc.in, "acme"); got != tc.want {
			t.Errorf("ManagedLogin(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := githubfake.ManagedLogin(tc.in, "acme"); got != tc.want {
			t.Errorf("githubfake.ManagedLogin(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
