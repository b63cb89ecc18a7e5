package hubspot_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/connectors/hubspot"
	"github.com/tenure-id/tenure/connectors/hubspot/hubspotfake"
	"github.com/tenure-id/tenure/pkg/connector"
)

const token = "pat-na1-SECRET-11aa22bb33cc"

type env struct {
	fake *hubspotfake.Fake
	url  string
	conn *hubspot.Connector
	// errs collects every error a test saw, to check none shows the token.
	errs []error
}

func setup(t *testing.T, fo hubspotfake.Options, opts map[string]string) *env {
	t.Helper()
	fo.Token = token
	fake := hubspotfake.New(fo)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	e := &env{fake: fake, url: srv.URL}
	e.conn = e.open(t, token, opts)
	t.Cleanup(func() {
		for _, err := range e.errs {
			if strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, err), token) {
				t.Errorf("an error shows the token: %v", err)
			}
		}
	})
	return e
}

func (e *env) open(t *testing.T, tok string, opts map[string]string) *hubspot.Connector {
	t.Helper()
	all := map[string]string{"domain": "piedpiper.example"}
	for k, v := range opts {
		all[k] = v
	}
	cfg, err := hubspot.FromOptions(e.url, tok, all)
	if err != nil {
		t.Fatal(err)
	}
	c, err := hubspot.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func (e *env) apply(t *testing.T, op connector.Op) (connector.Account, error) {
	acc, err := e.conn.Apply(ctx(t), op)
	if err != nil {
		e.errs = append(e.errs, err)
	}
	return acc, err
}

func (e *env) must(t *testing.T, op connector.Op) connector.Account {
	t.Helper()
	acc, err := e.apply(t, op)
	if err != nil {
		t.Fatalf("%s: %v", op.Kind, err)
	}
	return acc
}

func expect(t *testing.T, err, kind error, retryable bool) *connector.Error {
	t.Helper()
	var ce *connector.Error
	if !errors.Is(err, kind) || !errors.As(err, &ce) || connector.Retryable(err) != retryable {
		t.Fatalf("error %v, want a *connector.Error of kind %q, retryable %v", err, kind, retryable)
	}
	return ce
}

func account(i int) connector.Account {
	u := fmt.Sprintf("hsuser%03d", i)
	return connector.Account{ExternalID: fmt.Sprintf("p-%03d", i), UserName: u, Email: u + "@piedpiper.example",
		GivenName: fmt.Sprintf("Given%03d", i), FamilyName: "Hub", Active: true, Role: "marketer"}
}

func (e *env) list(t *testing.T) map[string]connector.Account {
	t.Helper()
	accs, err := e.conn.List(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]connector.Account{}
	for _, a := range accs {
		if _, dup := out[a.ID]; dup {
			t.Fatalf("List repeats %s", a.ID)
		}
		out[a.ID] = a
	}
	return out
}

func TestLifecycle(t *testing.T) {
	e := setup(t, hubspotfake.Options{}, nil)
	marketer := e.fake.AddRole("Marketer")
	e.fake.AddRole("Viewer")
	want := account(1)
	got := e.must(t, connector.Op{Kind: connector.OpCreate, Account: want})
	u, ok := e.fake.User(got.ID)
	if !ok || u.Email != "hsuser001@piedpiper.example" || u.RoleID != marketer || u.FirstName != "Given001" {
		t.Fatalf("fake holds %+v", u)
	}
	if got.Role != "marketer" || got.UserName != "hsuser001" || !got.Active || got.ExternalID != "" {
		t.Fatalf("created %+v (HubSpot keeps no external id)", got)
	}
	// A retried create adopts the user holding the email.
	again := e.must(t, connector.Op{Kind: connector.OpCreate, Account: want})
	if again.ID != got.ID || len(e.fake.Users()) != 1 {
		t.Fatalf("retried create made %s; users %v", again.ID, e.fake.Users())
	}
	for _, m := range []connector.Match{{UserName: "hsuser001"}, {Email: "HSUser001@piedpiper.example"}, {ExternalID: "p-001", Email: want.Email}} {
		f, err := e.conn.Find(ctx(t), m)
		if err != nil || f.ID != got.ID {
			t.Fatalf("Find(%+v) = %+v, %v", m, f, err)
		}
	}
	_, err := e.conn.Find(ctx(t), connector.Match{ExternalID: "p-001"})
	expect(t, err, connector.ErrNotFound, false)

	want.Role, want.FamilyName = "viewer", "Renamed"
	upd := e.must(t, connector.Op{Kind: connector.OpUpdate, AccountID: got.ID, Account: want, Fields: []string{"role", "family_name"}})
	if l := e.list(t)[got.ID]; upd.Role != "viewer" || l.Role != "viewer" || l.FamilyName != "Renamed" {
		t.Fatalf("after update: returned %+v, listed %+v", upd, l)
	}
	// No suspended state: disable is refused (the planner deletes instead), delete removes.
	if tr := e.conn.Traits(); tr.CanDisable || !tr.NoExternalID {
		t.Fatalf("Traits %+v: HubSpot can neither suspend nor hold an external id", tr)
	}
	_, err = e.apply(t, connector.Op{Kind: connector.OpDisable, AccountID: got.ID})
	expect(t, err, connector.ErrInvalid, false)
	for range 2 {
		e.must(t, connector.Op{Kind: connector.OpDelete, AccountID: got.ID})
	}
	if _, ok := e.list(t)[got.ID]; ok {
		t.Fatal("deleted user still listed")
	}
}

func TestUnknownUser(t *testing.T) {
	e := setup(t, hubspotfake.Options{}, nil)
	e.fake.AddRole("Marketer")
	e.fake.AddTeam("Growth")
	for _, k := range []connector.OpKind{connector.OpUpdate, connector.OpEnable, connector.OpDisable, connector.OpAddMember} {
		_, err := e.apply(t, connector.Op{Kind: k, AccountID: "999999", Account: account(9), Entitlement: "team:growth"})
		expect(t, err, connector.ErrNotFound, false)
	}
	e.must(t, connector.Op{Kind: connector.OpRemoveMember, AccountID: "999999", Entitlement: "team:growth"})
}

func TestRefusals(t *testing.T) {
	e := setup(t, hubspotfake.Options{}, nil)
	e.fake.AddRole("Marketer")
	for name, a := range map[string]connector.Account{
		"unknown role": func() connector.Account { a := account(1); a.Role = "wizard"; return a }(),
		"no user name": func() connector.Account { a := account(1); a.UserName = ""; return a }(),
	} {
		_, err := e.apply(t, connector.Op{Kind: connector.OpCreate, Account: a})
		if ce := expect(t, err, connector.ErrInvalid, false); ce.Detail == "" {
			t.Fatalf("%s: no detail", name)
		}
	}
	if n := len(e.fake.Users()); n != 0 {
		t.Fatalf("%d users after refused creates", n)
	}
}

func TestDuplicateEmailAdoptsWhateverTheStatus(t *testing.T) {
	for _, status := range []int{http.StatusConflict, http.StatusBadRequest} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			e := setup(t, hubspotfake.Options{DuplicateStatus: status}, nil)
			e.fake.AddRole("Marketer")
			id := e.fake.PutUser(hubspotfake.User{Email: "hsuser001@piedpiper.example", FirstName: "Made", LastName: "ByHand"})
			got := e.must(t, connector.Op{Kind: connector.OpCreate, Account: account(1)})
			if got.ID != id || got.GivenName != "Given001" || got.Role != "marketer" {
				t.Fatalf("adopted %+v, want %s renamed", got, id)
			}
		})
	}
}

func TestTeams(t *testing.T) {
	e := setup(t, hubspotfake.Options{Roles: []string{"Marketer"}, Teams: []string{"Growth", "Content Marketing"}}, nil)
	growth, content := teamID(e, "Growth"), teamID(e, "Content Marketing")
	a := e.must(t, connector.Op{Kind: connector.OpCreate, Account: account(1)})
	b := e.must(t, connector.Op{Kind: connector.OpCreate, Account: account(2)})
	for _, ent := range []string{"team:growth", "team:content-marketing", "team:growth"} {
		e.must(t, connector.Op{Kind: connector.OpAddMember, AccountID: a.ID, Entitlement: ent})
	}
	u, _ := e.fake.User(a.ID)
	if u.PrimaryTeamID != growth || !slices.Equal(u.SecondaryTeamIDs, []string{content}) {
		t.Fatalf("teams %s + %v", u.PrimaryTeamID, u.SecondaryTeamIDs)
	}
	l := e.list(t)
	if got := fmt.Sprint(l[a.ID].Memberships); got != "[team:growth team:content-marketing]" || len(l[b.ID].Memberships) != 0 {
		t.Fatalf("memberships %s / %v", got, l[b.ID].Memberships)
	}
	// Removing the primary team promotes the secondary one.
	for range 2 {
		e.must(t, connector.Op{Kind: connector.OpRemoveMember, AccountID: a.ID, Entitlement: "team:growth"})
	}
	if u, _ := e.fake.User(a.ID); u.PrimaryTeamID != content || len(u.SecondaryTeamIDs) != 0 {
		t.Fatalf("after removing the primary team: %s + %v", u.PrimaryTeamID, u.SecondaryTeamIDs)
	}
	// A team made after the connector read the teams is found on a second look.
	e.fake.AddTeam("Partnerships")
	if got := e.must(t, connector.Op{Kind: connector.OpAddMember, AccountID: b.ID, Entitlement: "team:partnerships"}); fmt.Sprint(got.Memberships) != "[team:partnerships]" {
		t.Fatalf("add to a new team returned %+v", got)
	}
	_, err := e.apply(t, connector.Op{Kind: connector.OpAddMember, AccountID: a.ID, Entitlement: "team:nowhere"})
	expect(t, err, connector.ErrNotFound, false)
	_, err = e.apply(t, connector.Op{Kind: connector.OpAddMember, AccountID: a.ID, Entitlement: "licence:marketing-hub"})
	expect(t, err, connector.ErrInvalid, false)
}

// teamID finds a team's id through the fake's HTTP API, as the connector does.
func teamID(e *env, name string) string {
	req, _ := http.NewRequest(http.MethodGet, e.url+"/settings/v3/users/teams", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var out struct {
		Results []struct{ ID, Name string } `json:"results"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	for _, t := range out.Results {
		if t.Name == name {
			return t.ID
		}
	}
	return ""
}

func TestBurstLimit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		retry bool
	}{{"without Retry-After", false}, {"with Retry-After", true}} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
			e := setup(t, hubspotfake.Options{Burst: 3, RetryAfter: tc.retry, Now: func() time.Time { return now }}, nil)
			for range 3 {
				if _, err := e.conn.List(ctx(t)); err != nil {
					t.Fatal(err)
				}
			}
			now = now.Add(4 * time.Second)
			_, err := e.conn.List(ctx(t))
			e.errs = append(e.errs, err)
			ce := expect(t, err, connector.ErrRateLimited, true)
			// Retry-After counts down to the window's end; without it the window's length
			// from the rate headers is the wait.
			want := 10 * time.Second
			if tc.retry {
				want = 7 * time.Second
			}
			if ce.Status != 429 || ce.RetryAfter != want || !strings.Contains(ce.Detail, "RATE_LIMIT") {
				t.Fatalf("%+v, want 429 waiting %v", ce, want)
			}
			now = now.Add(6 * time.Second)
			if _, err := e.conn.List(ctx(t)); err != nil {
				t.Fatalf("next window: %v", err)
			}
		})
	}
}

func TestFaults(t *testing.T) {
	e := setup(t, hubspotfake.Options{}, nil)
	e.fake.AddRole("Marketer")
	e.fake.ServerError(1)
	_, err := e.apply(t, connector.Op{Kind: connector.OpCreate, Account: account(1)})
	expect(t, err, connector.ErrUnavailable, true)
	if n := len(e.fake.Users()); n != 0 {
		t.Fatalf("%d users after a failed create", n)
	}
	e.fake.Stall(3 * time.Second)
	c, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	start := time.Now()
	_, err = e.conn.Apply(c, connector.Op{Kind: connector.OpCreate, Account: account(1)})
	cancel()
	if err == nil || !connector.Retryable(err) || time.Since(start) > 2*time.Second {
		t.Fatalf("stalled create: %v after %v", err, time.Since(start))
	}
	e.fake.Reset()
	e.must(t, connector.Op{Kind: connector.OpCreate, Account: account(1)})
	if n := len(e.fake.Users()); n != 1 {
		t.Fatalf("%d users after a stalled and a retried create, want 1", n)
	}
}

func TestPagesAndErrorBody(t *testing.T) {
	body := func(status int, category, message, id string) any {
		return map[string]any{"status": "error", "message": message, "correlationId": id, "category": category,
			"errors": []map[string]string{{"message": message}}, "context": map[string][]string{}}
	}
	e := setup(t, hubspotfake.Options{ErrorBody: body}, map[string]string{"page_size": "2"})
	e.fake.AddRole("Marketer")
	for i := range 5 {
		e.must(t, connector.Op{Kind: connector.OpCreate, Account: account(i + 1)})
	}
	if n := len(e.list(t)); n != 5 {
		t.Fatalf("listed %d over pages of 2, want 5", n)
	}
	_, err := e.apply(t, connector.Op{Kind: connector.OpUpdate, AccountID: "424242", Account: account(1)})
	if ce := expect(t, err, connector.ErrNotFound, false); !strings.Contains(ce.Detail, "OBJECT_NOT_FOUND") || !strings.Contains(ce.Detail, "correlation id") {
		t.Fatalf("detail %q", ce.Detail)
	}
}

func TestWrongToken(t *testing.T) {
	e := setup(t, hubspotfake.Options{}, nil)
	_, err := e.open(t, "pat-na1-WRONG", nil).List(ctx(t))
	ce := expect(t, err, connector.ErrUnauthorized, false)
	if ce.Status != 401 || strings.Contains(err.Error(), "WRONG") {
		t.Fatalf("%+v", ce)
	}
}

func TestFromOptions(t *testing.T) {
	for _, tc := range []struct{ opts map[string]string }{
		{map[string]string{"send_welcome_email": "sometimes"}},
		{map[string]string{"page_size": "0"}},
		{map[string]string{"portal": "1"}},
	} {
		if _, err := hubspot.FromOptions("", token, tc.opts); err == nil || !strings.Contains(err.Error(), "options.") {
			t.Errorf("%v: %v", tc.opts, err)
		}
	}
	if _, err := hubspot.New(hubspot.Config{}); err == nil {
		t.Fatal("no token accepted")
	}
}

// Many workers share one connector and its role and team lookups.
func TestConcurrentWorkers(t *testing.T) {
	e := setup(t, hubspotfake.Options{Roles: []string{"Marketer"}, Teams: []string{"Growth"}}, nil)
	errs := make(chan error, 12)
	for i := range 12 {
		go func() {
			a, err := e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpCreate, Account: account(i + 1)})
			if err == nil {
				_, err = e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpAddMember, AccountID: a.ID, Entitlement: "team:growth"})
			}
			errs <- err
		}()
	}
	for range 12 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range e.fake.Users() {
		if u.PrimaryTeamID == "" || u.RoleID == "" {
			t.Fatalf("user %+v lacks its team or role", u)
		}
	}
	if n := len(e.fake.Users()); n != 12 {
		t.Fatalf("%d users, want 12", n)
	}
}

// A create the client gave up on while HubSpot stalled never takes effect, even once the stall
// ends.
func TestAbandonedWriteHasNoEffect(t *testing.T) {
	e := setup(t, hubspotfake.Options{Roles: []string{"Marketer"}}, nil)
	if _, err := e.conn.Find(ctx(t), connector.Match{Email: "x@piedpiper.example"}); !errors.Is(err, connector.ErrNotFound) {
		t.Fatal(err)
	}
	a := account(1)
	a.Role = "" // no role lookup: straight to the POST
	e.fake.Stall(600 * time.Millisecond)
	c, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := e.conn.Apply(c, connector.Op{Kind: connector.OpCreate, Account: a}); err == nil {
		t.Fatal("a stalled create succeeded")
	}
	time.Sleep(900 * time.Millisecond) // past the stall
	e.fake.Reset()
	if n := len(e.fake.Users()); n != 0 {
		t.Fatalf("the abandoned create made %d users", n)
	}
}
