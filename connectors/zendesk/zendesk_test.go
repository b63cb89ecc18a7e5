package zendesk_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/connectors/zendesk"
	"github.com/tenure-id/tenure/connectors/zendesk/zendeskfake"
	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/connector/connectortest"
)

const (
	apiEmail = "ops@piedpiper.example"
	apiToken = "zd-SECRET-6a1f0c29e3"
)

type env struct {
	fake *zendeskfake.Fake
	url  string
	conn *zendesk.Connector
}

func setup(t *testing.T, fo zendeskfake.Options, opts map[string]string) *env {
	t.Helper()
	fo.Email, fo.Token = apiEmail, apiToken
	fake := zendeskfake.New(fo)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	e := &env{fake: fake, url: srv.URL}
	e.conn = e.open(t, apiToken, opts)
	return e
}

func (e *env) open(t *testing.T, token string, opts map[string]string) *zendesk.Connector {
	t.Helper()
	all := map[string]string{"email": apiEmail, "domain": "example.com"}
	for k, v := range opts {
		all[k] = v
	}
	cfg, err := zendesk.FromOptions(e.url, token, all)
	if err != nil {
		t.Fatal(err)
	}
	c, err := zendesk.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newAccount(i int) connector.Account {
	a := connectortest.DefaultAccount(i)
	a.Role = "agent"
	if i%2 == 0 {
		a.Role = "light-agent"
	}
	return a
}

func TestConformance(t *testing.T) {
	connectortest.Run(t, func(t *testing.T) connectortest.Target {
		e := setup(t, zendeskfake.Options{Groups: []string{"Tier 1", "Tier 2"}}, map[string]string{"page_size": "2"})
		return connectortest.Target{Connector: e.conn, Faults: e.fake, Entitlements: []string{"group:tier-1", "group:tier-2"},
			PageSize: 2, Secret: apiToken, NewAccount: newAccount, MissingID: "999999999999"}
	})
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func expect(t *testing.T, err, kind error) *connector.Error {
	t.Helper()
	var ce *connector.Error
	if !errors.Is(err, kind) || !errors.As(err, &ce) {
		t.Fatalf("error %v, want a *connector.Error of kind %q", err, kind)
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, ce), apiToken) {
		t.Fatal("the error shows the API token")
	}
	return ce
}

func TestDuplicateEmailCorrelates(t *testing.T) {
	for _, tc := range []struct {
		name, holder string
		adopt        bool
	}{
		{"made by hand", "", true},
		{"another person's", "p-other", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t, zendeskfake.Options{}, nil)
			pre := zendeskfake.User{Name: "Old Name", Email: "ctuser001@example.com"}
			if tc.holder != "" {
				pre.ExternalID = &tc.holder
			}
			id := e.fake.PutUser(pre)
			got, err := e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpCreate, Account: newAccount(1)})
			if !tc.adopt {
				ce := expect(t, err, connector.ErrConflict)
				if u, _ := e.fake.User(id); u.Name != "Old Name" || ce.Status != 422 {
					t.Fatalf("refused adoption: %+v, user %+v", ce, u)
				}
				return
			}
			if err != nil || got.ID != fmt.Sprint(id) || got.ExternalID != "ct-person-001" || got.Role != "agent" {
				t.Fatalf("adopt = %+v, %v; want user %d with the Tenure id", got, err, id)
			}
			if n := len(e.fake.Users()); n != 1 {
				t.Fatalf("%d users, want 1", n)
			}
		})
	}
}

func TestRateLimitForms(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts zendeskfake.Options
		wait time.Duration
	}{
		{"retry-after", zendeskfake.Options{}, 51 * time.Second},
		{"no retry-after", zendeskfake.Options{OmitRetryAfter: true}, 0},
		{"text body", zendeskfake.Options{PlainText429: true}, 51 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Date(2026, 11, 28, 12, 0, 10, 0, time.UTC)
			tc.opts.RatePerMinute, tc.opts.Now = 3, func() time.Time { return now }
			e := setup(t, tc.opts, nil)
			for range 3 {
				if _, err := e.conn.Find(ctx(t), connector.Match{ExternalID: "x"}); !errors.Is(err, connector.ErrNotFound) {
					t.Fatal(err)
				}
			}
			_, err := e.conn.Find(ctx(t), connector.Match{ExternalID: "x"})
			ce := expect(t, err, connector.ErrRateLimited)
			if ce.Status != 429 || ce.RetryAfter != tc.wait || !connector.Retryable(err) {
				t.Fatalf("%+v: want 429, RetryAfter %v, retryable", ce, tc.wait)
			}
			if strings.Contains(ce.Detail, "\n") {
				t.Fatalf("detail %q repeats a raw body", ce.Detail)
			}
			now = now.Add(time.Minute)
			if _, err := e.conn.Find(ctx(t), connector.Match{ExternalID: "x"}); !errors.Is(err, connector.ErrNotFound) {
				t.Fatalf("next minute: %v", err)
			}
		})
	}
}

func TestRoles(t *testing.T) {
	e := setup(t, zendeskfake.Options{}, nil)
	tier1 := e.fake.AddGroup("Tier 1")
	a := newAccount(1)
	a.Role = "light-agent"
	got, err := e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpCreate, Account: a})
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	fmt.Sscan(got.ID, &id)
	if u, _ := e.fake.User(id); got.Role != "light-agent" || u.Role != "agent" || u.RoleType == nil || *u.RoleType != 1 {
		t.Fatalf("light agent: returned %q, fake holds %+v", got.Role, u)
	}
	for _, role := range []string{"admin", "agent", "end-user"} {
		a.Role = role
		got, err := e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpUpdate, AccountID: got.ID, Account: a})
		if err != nil || got.Role != role {
			t.Fatalf("update to %s: %q, %v", role, got.Role, err)
		}
	}
	// End users belong to no group: Zendesk refuses, and the refusal is final.
	_, err = e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpAddMember, AccountID: got.ID, Account: a, Entitlement: "group:tier-1"})
	expect(t, err, connector.ErrInvalid)
	if m := e.fake.GroupMembers("Tier 1"); len(m) != 0 || tier1 == 0 {
		t.Fatalf("members %v", m)
	}
	a.Role = "owner"
	_, err = e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpUpdate, AccountID: got.ID, Account: a})
	expect(t, err, connector.ErrInvalid)
}

func TestNoLightAgentRole(t *testing.T) {
	e := setup(t, zendeskfake.Options{NoLightAgent: true}, nil)
	a := newAccount(2)
	_, err := e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpCreate, Account: a})
	ce := expect(t, err, connector.ErrInvalid)
	if !strings.Contains(ce.Detail, "light_agent_role") || len(e.fake.Users()) != 0 {
		t.Fatalf("%v; users %v", ce, e.fake.Users())
	}
	// A named custom role serves instead.
	c := e.open(t, apiToken, map[string]string{"light_agent_role": "staff"})
	if _, err := c.Apply(ctx(t), connector.Op{Kind: connector.OpCreate, Account: a}); err != nil {
		t.Fatal(err)
	}
}

func TestWrongToken(t *testing.T) {
	e := setup(t, zendeskfake.Options{}, nil)
	const wrong = "zd-WRONG-0000000000"
	_, err := e.open(t, wrong, nil).List(ctx(t))
	ce := expect(t, err, connector.ErrUnauthorized)
	if ce.Status != 401 || connector.Retryable(err) || strings.Contains(err.Error(), wrong) {
		t.Fatalf("%+v", ce)
	}
}

func TestSuspendAndSoftDelete(t *testing.T) {
	e := setup(t, zendeskfake.Options{}, nil)
	a, err := e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpCreate, Account: newAccount(1)})
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	fmt.Sscan(a.ID, &id)
	if _, err := e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpDisable, AccountID: a.ID}); err != nil {
		t.Fatal(err)
	}
	if u, _ := e.fake.User(id); !u.Suspended || !u.Active {
		t.Fatalf("after disable: %+v, want suspended and still active", u)
	}
	if _, err := e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpDelete, AccountID: a.ID}); err != nil {
		t.Fatal(err)
	}
	if u, ok := e.fake.User(id); !ok || u.Active {
		t.Fatalf("after delete: %+v (found %v), want kept but inactive (soft delete)", u, ok)
	}
	// The email is free again: a rehire gets a new user.
	b, err := e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpCreate, Account: newAccount(1)})
	if err != nil || b.ID == a.ID {
		t.Fatalf("rehire: %+v, %v", b, err)
	}
}

func TestFromOptions(t *testing.T) {
	cfg, err := zendesk.FromOptions("", "t", map[string]string{"subdomain": "piedpiper", "email": apiEmail})
	if err != nil || cfg.BaseURL != "https://piedpiper.zendesk.com" {
		t.Fatalf("%+v, %v", cfg.BaseURL, err)
	}
	for opts, want := range map[string]map[string]string{
		"options.subdomain": {"subdomain": "evil.example/x"},
		"options.page_size": {"page_size": "101"},
		"options.emial":     {"emial": "x"},
	} {
		if _, err := zendesk.FromOptions("", "t", want); err == nil || !strings.Contains(err.Error(), opts) {
			t.Errorf("%v: %v, want an error naming %s", want, err, opts)
		}
	}
	if _, err := zendesk.New(zendesk.Config{BaseURL: "http://x", Email: apiEmail}); err == nil {
		t.Fatal("no token accepted")
	}
}

// Many workers share one connector and its role and group lookups.
func TestConcurrentWorkers(t *testing.T) {
	e := setup(t, zendeskfake.Options{Groups: []string{"Tier 1"}}, nil)
	errs := make(chan error, 12)
	for i := range 12 {
		go func() {
			a, err := e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpCreate, Account: newAccount(i + 1)})
			if err == nil {
				var got connector.Account
				got, err = e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpAddMember, AccountID: a.ID, Entitlement: "group:tier-1"})
				if err == nil && (fmt.Sprint(got.Memberships) != "[group:tier-1]" || got.UserName != a.UserName) {
					err = fmt.Errorf("add_member returned %+v, want the user as Zendesk holds it", got)
				}
			}
			errs <- err
		}()
	}
	for range 12 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n, m := len(e.fake.Users()), len(e.fake.GroupMembers("Tier 1")); n != 12 || m != 12 {
		t.Fatalf("%d users, %d members; want 12 each", n, m)
	}
}

// An update of an account Tenure holds no person for keeps Zendesk's external_id.
func TestUpdateWithoutExternalIDKeepsIt(t *testing.T) {
	e := setup(t, zendeskfake.Options{}, nil)
	ext := "hr-77"
	id := e.fake.PutUser(zendeskfake.User{Name: "Erlich Bachman", Email: "erlich@example.com", ExternalID: &ext})
	a := connector.Account{UserName: "erlich", Email: "erlich@example.com", DisplayName: "Erlich Bachman (Aviato)", Role: "end-user"}
	if _, err := e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpUpdate, AccountID: fmt.Sprint(id), Account: a}); err != nil {
		t.Fatal(err)
	}
	if u, _ := e.fake.User(id); u.ExternalID == nil || *u.ExternalID != ext || u.Name != a.DisplayName {
		t.Fatalf("after update: %+v", u)
	}
}

// A rename reaches the primary email through the identities endpoints, whether the new address
// is already one of the user's identities or not.
func TestRenameChangesPrimaryEmail(t *testing.T) {
	e := setup(t, zendeskfake.Options{}, nil)
	a, err := e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpCreate, Account: newAccount(1)})
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	fmt.Sscan(a.ID, &id)
	want := newAccount(1)
	// Someone added a further address in Zendesk: a PUT with an email adds an identity.
	req, _ := http.NewRequest(http.MethodPut, e.url+"/api/v2/users/"+a.ID, strings.NewReader(`{"user":{"email":"dinesh@example.com"}}`))
	req.SetBasicAuth(apiEmail+"/token", apiToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if u, _ := e.fake.User(id); u.Email != "ctuser001@example.com" || len(e.fake.Identities(id)) != 2 {
		t.Fatalf("a PUT with an email changed the primary address: %+v", e.fake.Identities(id))
	}
	for _, name := range []string{"gilfoyle", "bertram", "dinesh"} { // dinesh is a held identity
		want.UserName, want.Email = name, name+"@example.com"
		got, err := e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpUpdate, AccountID: a.ID, Account: want, Fields: []string{"user_name"}})
		if err != nil || got.UserName != name {
			t.Fatalf("rename to %s: %+v, %v", name, got, err)
		}
		if u, _ := e.fake.User(id); u.Email != want.Email {
			t.Fatalf("Zendesk's primary email is %s, want %s", u.Email, want.Email)
		}
	}
	primaries := 0
	for _, i := range e.fake.Identities(id) {
		if i.Primary {
			primaries++
		}
	}
	if primaries != 1 {
		t.Fatalf("identities %+v: want exactly one primary", e.fake.Identities(id))
	}
}

// A create the client gave up on while Zendesk stalled never takes effect, even once the stall
// ends: the retry that follows must not meet a twin.
func TestAbandonedWriteHasNoEffect(t *testing.T) {
	e := setup(t, zendeskfake.Options{}, nil)
	e.fake.Stall(600 * time.Millisecond)
	c, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	a := newAccount(1)
	a.ExternalID = "" // straight to the POST
	if _, err := e.conn.Apply(c, connector.Op{Kind: connector.OpCreate, Account: a}); err == nil {
		t.Fatal("a stalled create succeeded")
	}
	time.Sleep(900 * time.Millisecond) // past the stall
	e.fake.Reset()
	if n := len(e.fake.Users()); n != 0 {
		t.Fatalf("the abandoned create made %d users", n)
	}
}
