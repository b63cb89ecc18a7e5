package google_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenure-id/tenure/connectors/google"
	"github.com/tenure-id/tenure/connectors/google/googlefake"
	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/connector/connectortest"
)

const (
	domain = "example.com"
	admin  = "admin@example.com"
	robot  = "tenure@tenure-fake.iam.gserviceaccount.com"
)

var (
	keyOnce sync.Once
	sa      *googlefake.ServiceAccount
	keyErr  error
)

// serviceAccount is generated once per test binary: RSA key generation is slow.
func serviceAccount(t *testing.T) *googlefake.ServiceAccount {
	t.Helper()
	keyOnce.Do(func() { sa, keyErr = googlefake.NewServiceAccount(robot) })
	if keyErr != nil {
		t.Fatal(keyErr)
	}
	return sa
}

type env struct {
	fake *googlefake.Fake
	url  string
	key  []byte // the key file's contents
	conn *google.Connector
}

// setup starts a fake on 127.0.0.1 that trusts the service account, and a connector to it.
func setup(t *testing.T, fo googlefake.Options, opts map[string]string) *env {
	t.Helper()
	if fo.Domain == "" {
		fo.Domain = domain
	}
	fake := googlefake.New(fo)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	s := serviceAccount(t)
	fake.Delegate(robot, &s.Key.PublicKey, googlefake.ScopeUser, googlefake.ScopeGroupMember)
	fake.AddAdmin(admin)
	e := &env{fake: fake, url: srv.URL, key: s.KeyFile(srv.URL + "/token")}
	e.conn = e.open(t, opts)
	return e
}

func (e *env) open(t *testing.T, opts map[string]string) *google.Connector {
	t.Helper()
	all := map[string]string{"domain": domain, "admin_email": admin}
	for k, v := range opts {
		all[k] = v
	}
	path := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(path, e.key, 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := google.FromOptions(e.url, b, all)
	if err != nil {
		t.Fatal(err)
	}
	c, err := google.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// secret is a piece of the private key that must never surface.
func secret(key []byte) string {
	s := string(key)
	i := strings.Index(s, "-----BEGIN PRIVATE KEY-----")
	return s[i+40 : i+80]
}

func newAccount(i int) connector.Account {
	a := connectortest.DefaultAccount(i)
	a.Role = "user"
	if i%2 == 0 {
		a.Role = "admin"
	}
	a.DisplayName = ""
	return a
}

func TestConformance(t *testing.T) {
	connectortest.Run(t, func(t *testing.T) connectortest.Target {
		e := setup(t, googlefake.Options{Groups: []string{"everyone@example.com", "engineering@example.com"},
			OrgUnits: []string{"/v1-org_unit_path", "/v2-org_unit_path"}}, map[string]string{"page_size": "2", "groups": "everyone,engineering"})
		return connectortest.Target{
			Connector: e.conn, Faults: e.fake, Entitlements: []string{"group:everyone", "group:engineering"},
			PageSize: 2, Secret: secret(e.key), NewAccount: newAccount, MissingID: "100000000000000999",
		}
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
	return ce
}

func TestCreateWritesGoogleFields(t *testing.T) {
	e := setup(t, googlefake.Options{}, nil)
	e.fake.AddOrgUnit("/Engineering/Web")
	want := connector.Account{ExternalID: "p-1", UserName: "dinesh", Email: "dinesh@example.com", GivenName: "Dinesh",
		FamilyName: "Chugtai", Active: true, Role: "admin", Attributes: map[string]string{
			"org_path": "Pied Piper/Engineering/Web", "title": "Head of Platform", "department": "Platform", "employee_id": "PP004"}}
	got, err := e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpCreate, Account: want})
	if err != nil {
		t.Fatal(err)
	}
	u, ok := e.fake.User("dinesh@example.com")
	switch {
	case !ok:
		t.Fatal("no user dinesh@example.com in the fake")
	case u.ID != got.ID || u.OrgUnitPath != "/Engineering/Web" || !u.IsAdmin || u.Suspended:
		t.Fatalf("fake holds %+v", u)
	case !e.fake.HasPassword(u.ID):
		t.Fatal("created without a password, which Google requires")
	case len(u.Organizations) != 1 || u.Organizations[0].Title != "Head of Platform" || u.Organizations[0].Department != "Platform":
		t.Fatalf("organizations %+v", u.Organizations)
	}
	ids := fmt.Sprint(u.ExternalIDs)
	if !strings.Contains(ids, "{p-1 custom tenure}") || !strings.Contains(ids, "{PP004 organization }") {
		t.Fatalf("externalIds %s", ids)
	}
	if got.Attributes["org_unit_path"] != "Engineering/Web" || got.Role != "admin" || got.UserName != "dinesh" {
		t.Fatalf("returned %+v", got)
	}
}

func TestCreateRefusals(t *testing.T) {
	long := strings.Repeat("x", 61)
	for _, tc := range []struct {
		name string
		edit func(*connector.Account)
		kind error
	}{
		{"unknown org unit", func(a *connector.Account) { a.Attributes = map[string]string{"org_unit_path": "Nowhere"} }, connector.ErrInvalid},
		{"given name over 60", func(a *connector.Account) { a.GivenName = long }, connector.ErrInvalid},
		{"no family name", func(a *connector.Account) { a.FamilyName = "" }, connector.ErrInvalid},
		{"foreign domain", func(a *connector.Account) { a.Email = "gavin@hooli.example" }, connector.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t, googlefake.Options{}, nil)
			a := newAccount(1)
			tc.edit(&a)
			_, err := e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpCreate, Account: a})
			expect(t, err, tc.kind)
			if n := len(e.fake.Users()); n != 0 {
				t.Fatalf("%d users after a refused create", n)
			}
		})
	}
}

func TestCreateCorrelatesByPrimaryEmail(t *testing.T) {
	for _, tc := range []struct {
		name, holder string
		adopt        bool
	}{
		{"made by hand", "", true},
		{"same person", "ct-person-001", true},
		{"another person", "p-other", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t, googlefake.Options{}, nil)
			pre := googlefake.User{PrimaryEmail: "ctuser001@example.com", Name: googlefake.Name{GivenName: "Old", FamilyName: "Name"}}
			if tc.holder != "" {
				pre.ExternalIDs = []googlefake.ExternalID{{Value: tc.holder, Type: "custom", CustomType: "tenure"}}
			}
			id := e.fake.PutUser(pre)
			got, err := e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpCreate, Account: newAccount(1)})
			if !tc.adopt {
				expect(t, err, connector.ErrConflict)
				if u, _ := e.fake.User(id); u.Name.GivenName != "Old" {
					t.Fatalf("refused adoption still changed the user: %+v", u)
				}
				return
			}
			if err != nil || got.ID != id || got.ExternalID != "ct-person-001" || got.GivenName != "Given001" {
				t.Fatalf("adopt = %+v, %v; want %s with the Tenure id and new names", got, err, id)
			}
		})
	}
}

func TestQuotaIs403(t *testing.T) {
	for _, reason := range []string{"userRateLimitExceeded", "quotaExceeded"} {
		t.Run(reason, func(t *testing.T) {
			now := time.Now() // the connector signs its assertion with the real clock
			e := setup(t, googlefake.Options{QuotaPerMinute: 4, RateLimitReason: reason, Now: func() time.Time { return now }}, nil)
			for range 2 { // a List is two requests: users, then groups
				if _, err := e.conn.List(ctx(t)); err != nil {
					t.Fatal(err)
				}
			}
			_, err := e.conn.List(ctx(t))
			ce := expect(t, err, connector.ErrRateLimited)
			if ce.Status != 403 || ce.RetryAfter != 0 || !connector.Retryable(err) {
				t.Fatalf("over quota: %+v, want 403, no RetryAfter, retryable", ce)
			}
			now = now.Add(time.Minute) // next quota window
			if _, err := e.conn.List(ctx(t)); err != nil {
				t.Fatalf("next minute: %v", err)
			}
		})
	}
}

func TestForbiddenIsUnauthorized(t *testing.T) {
	e := setup(t, googlefake.Options{}, nil)
	if _, err := e.conn.List(ctx(t)); err != nil {
		t.Fatal(err)
	}
	e.fake.RemoveAdmin(admin) // the token stays valid; the admin behind it may no longer act
	_, err := e.conn.List(ctx(t))
	ce := expect(t, err, connector.ErrUnauthorized)
	if ce.Status != 403 || connector.Retryable(err) {
		t.Fatalf("%+v: want a final 403", ce)
	}
}

// Tokens are renewed before they expire, and once more when the API refuses a cached one.
func TestTokenRenewal(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	e := setup(t, googlefake.Options{Now: clock}, nil)
	cfg, err := google.FromOptions(e.url, e.key, map[string]string{"domain": domain, "admin_email": admin})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Now = clock
	c, err := google.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	list := func() {
		t.Helper()
		if _, err := c.List(ctx(t)); err != nil {
			t.Fatal(err)
		}
	}
	list()
	list()
	if n := e.fake.TokensIssued(); n != 1 {
		t.Fatalf("%d tokens for two lists, want 1", n)
	}
	now = now.Add(59*time.Minute + 30*time.Second) // inside the last minute of the token's hour
	list()
	if n := e.fake.TokensIssued(); n != 2 {
		t.Fatalf("%d tokens after the first expired, want 2", n)
	}
	e.fake.RevokeTokens()
	list()
	if n := e.fake.TokensIssued(); n != 3 {
		t.Fatalf("%d tokens after a revocation, want 3", n)
	}
}

func TestTokenRefusals(t *testing.T) {
	other, err := googlefake.NewServiceAccount(robot)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		setup func(e *env)
		opts  map[string]string
	}{
		{"key not trusted", func(e *env) { e.key = other.KeyFile(e.url + "/token") }, nil},
		{"impersonating a non-admin", func(*env) {}, map[string]string{"admin_email": "jared@example.com"}},
		{"scopes not delegated", func(e *env) { e.fake.Delegate(robot, &serviceAccount(t).Key.PublicKey) }, nil},
		{"wrong audience", func(*env) {}, map[string]string{"token_url": "REPLACE/token/"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t, googlefake.Options{}, nil)
			tc.setup(e)
			opts := map[string]string{}
			for k, v := range tc.opts {
				opts[k] = strings.ReplaceAll(v, "REPLACE", e.url)
			}
			_, err := e.open(t, opts).List(ctx(t))
			ce := expect(t, err, connector.ErrUnauthorized)
			if strings.Contains(fmt.Sprintf("%+v %#v", err, ce), secret(e.key)) {
				t.Fatal("the error shows the private key")
			}
			if e.fake.TokensIssued() != 0 {
				t.Fatal("a token was issued")
			}
		})
	}
}

func TestDuplicateMemberEitherWay(t *testing.T) {
	for _, ok := range []bool{false, true} {
		t.Run(fmt.Sprint("DuplicateMemberOK=", ok), func(t *testing.T) {
			e := setup(t, googlefake.Options{DuplicateMemberOK: ok}, nil) // no groups option: discovered
			e.fake.AddGroup("staff@example.com", "Staff")
			a, err := e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpCreate, Account: newAccount(1)})
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				got, err := e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpAddMember, AccountID: a.ID, Account: a, Entitlement: "group:staff"})
				if err != nil || fmt.Sprint(got.Memberships) != "[group:staff]" || got.Email != a.Email {
					t.Fatalf("add_member returned %+v, %v; want the account as Google holds it", got, err)
				}
			}
			list, err := e.conn.List(ctx(t))
			if err != nil || len(list) != 1 || fmt.Sprint(list[0].Memberships) != "[group:staff]" {
				t.Fatalf("List = %+v, %v", list, err)
			}
		})
	}
}

func TestRehireUndeletes(t *testing.T) {
	e := setup(t, googlefake.Options{}, nil)
	a, err := e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpCreate, Account: newAccount(1)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpDelete, AccountID: a.ID}); err != nil {
		t.Fatal(err)
	}
	back, err := e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpCreate, Account: newAccount(1)})
	if err != nil || back.ID != a.ID || !back.Active || e.fake.Deleted(a.ID) {
		t.Fatalf("rehire = %+v, %v; want %s undeleted and active", back, err, a.ID)
	}
	// Someone else took the address meanwhile: the person gets a new user, the other keeps it.
	if _, err := e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpDelete, AccountID: a.ID}); err != nil {
		t.Fatal(err)
	}
	other := e.fake.PutUser(googlefake.User{PrimaryEmail: "ctuser001@example.com", Name: googlefake.Name{GivenName: "Other", FamilyName: "Person"},
		ExternalIDs: []googlefake.ExternalID{{Value: "p-other", Type: "custom", CustomType: "tenure"}}})
	_, err = e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpCreate, Account: newAccount(1)})
	expect(t, err, connector.ErrConflict)
	if u, _ := e.fake.User(other); u.Name.GivenName != "Other" || !e.fake.Deleted(a.ID) {
		t.Fatalf("the other user changed (%+v) or the deleted one came back", u)
	}
}

func TestDeletedUserIsNotFound(t *testing.T) {
	e := setup(t, googlefake.Options{}, nil)
	a, err := e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpCreate, Account: newAccount(1)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpDelete, AccountID: a.ID}); err != nil {
		t.Fatal(err)
	}
	if !e.fake.Deleted(a.ID) {
		t.Fatal("not deleted")
	}
	if _, err := e.conn.Find(ctx(t), connector.Match{Email: a.Email}); !errors.Is(err, connector.ErrNotFound) {
		t.Fatalf("Find of a deleted user: %v", err)
	}
}

// A configured group Google does not have fails the listing with an error naming it.
func TestMissingGroupIsNamed(t *testing.T) {
	e := setup(t, googlefake.Options{Groups: []string{"everyone@example.com"}}, map[string]string{"groups": "everyone,enginering"})
	_, err := e.conn.List(ctx(t))
	if !errors.Is(err, connector.ErrNotFound) || !strings.Contains(err.Error(), "enginering@example.com") {
		t.Fatalf("List = %v, want not found naming enginering@example.com", err)
	}
}

func TestFromOptions(t *testing.T) {
	for _, tc := range []struct {
		opts map[string]string
		want string
	}{
		{map[string]string{"domian": "x"}, "options.domian"},
		{map[string]string{"page_size": "501"}, "options.page_size"},
		{map[string]string{"groups": "=x@y"}, "options.groups"},
	} {
		if _, err := google.FromOptions("", nil, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("FromOptions(%v) = %v, want an error naming %s", tc.opts, err, tc.want)
		}
	}
	cfg, err := google.FromOptions("", nil, map[string]string{"domain": "piedpiper.example", "groups": "everyone, eng=engineering@piedpiper.example"})
	if err != nil || cfg.Groups["everyone"] != "everyone@piedpiper.example" || cfg.Groups["eng"] != "engineering@piedpiper.example" {
		t.Fatalf("groups %v, %v", cfg.Groups, err)
	}
	if _, err := google.New(google.Config{KeyFile: []byte(`{"client_email":"x","private_key":"nope"}`), AdminEmail: admin, Domain: domain}); err == nil || strings.Contains(err.Error(), "nope") {
		t.Fatalf("bad key: %v", err)
	}
}

// An update carries fields only: suspension is disable's and enable's, and an account without
// a role keeps the admin flag it has.
func TestUpdateLeavesSuspensionAndAdmin(t *testing.T) {
	e := setup(t, googlefake.Options{}, nil)
	a := newAccount(2) // an admin
	got, err := e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpCreate, Account: a})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpDisable, AccountID: got.ID}); err != nil {
		t.Fatal(err)
	}
	a.Active, a.Role, a.FamilyName = true, "", "Renamed"
	if _, err := e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpUpdate, AccountID: got.ID, Account: a}); err != nil {
		t.Fatal(err)
	}
	if u, _ := e.fake.User(got.ID); !u.Suspended || !u.IsAdmin || u.Name.FamilyName != "Renamed" {
		t.Fatalf("after update: %+v, want still suspended and admin, renamed", u)
	}
}

// Many workers share one connector: one token serves them all.
func TestConcurrentWorkers(t *testing.T) {
	e := setup(t, googlefake.Options{Groups: []string{"everyone@example.com"}}, map[string]string{"groups": "everyone"})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpCreate, Account: newAccount(i + 1)})
			if err == nil {
				_, err = e.conn.Apply(ctx(t), connector.Op{Kind: connector.OpAddMember, AccountID: a.ID, Account: a, Entitlement: "group:everyone"})
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n, m, tok := len(e.fake.Users()), len(e.fake.Members("everyone@example.com")), e.fake.TokensIssued(); n != 16 || m != 16 || tok != 1 {
		t.Fatalf("%d users, %d members, %d tokens; want 16, 16, 1", n, m, tok)
	}
}

// A create the client gave up on while Google stalled never takes effect, even once the stall
// ends.
func TestAbandonedWriteHasNoEffect(t *testing.T) {
	e := setup(t, googlefake.Options{}, nil)
	if _, err := e.conn.List(ctx(t)); err != nil { // the token, fetched before the stall
		t.Fatal(err)
	}
	e.fake.Stall(600 * time.Millisecond)
	c, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	a := newAccount(1)
	a.ExternalID = "" // straight to the insert
	if _, err := e.conn.Apply(c, connector.Op{Kind: connector.OpCreate, Account: a}); err == nil {
		t.Fatal("a stalled create succeeded")
	}
	time.Sleep(900 * time.Millisecond) // past the stall
	e.fake.Reset()
	if n := len(e.fake.Users()); n != 0 {
		t.Fatalf("the abandoned create made %d users", n)
	}
}

// Mounted under a path prefix (as the sandbox serves every app on one server), the fake still
// checks assertions against the token URL clients use.
func TestFakeUnderPathPrefix(t *testing.T) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	base := srv.URL + "/google-workspace"
	fake := googlefake.New(googlefake.Options{Domain: domain, Admins: []string{admin}, TokenURL: base + "/token"})
	mux.Handle("/google-workspace/", http.StripPrefix("/google-workspace", fake))
	s := serviceAccount(t)
	fake.Delegate(robot, &s.Key.PublicKey, googlefake.ScopeUser, googlefake.ScopeGroupMember)
	cfg, err := google.FromOptions(base, s.KeyFile(base+"/token"), map[string]string{"domain": domain, "admin_email": admin})
	if err != nil {
		t.Fatal(err)
	}
	c, err := google.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(ctx(t), connector.Op{Kind: connector.OpCreate, Account: newAccount(1)}); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.Users()); n != 1 {
		t.Fatalf("%d users", n)
	}
}
