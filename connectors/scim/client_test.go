package scim_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/connectors/scim"
	"github.com/tenure-id/tenure/connectors/scim/scimtarget"
	"github.com/tenure-id/tenure/pkg/connector"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func person(i int) connector.Account {
	u := fmt.Sprintf("person%02d", i)
	return connector.Account{ExternalID: fmt.Sprintf("P-%02d", i), UserName: u, Email: u + "@example.com",
		GivenName: "Given", FamilyName: fmt.Sprintf("Family%02d", i), DisplayName: "Given Family", Active: true}
}

func mustCreate(t *testing.T, c connector.Connector, a connector.Account) connector.Account {
	t.Helper()
	got, err := c.Apply(ctx(t), connector.Op{Kind: connector.OpCreate, Account: a})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestListPagesThroughEveryPage(t *testing.T) {
	p := scim.Generic()
	p.PageSize = 3
	tg, c := newTarget(t, scimtarget.Options{MaxResults: 3}, p)
	for i := range 10 {
		tg.AddUser(fmt.Sprintf("user%02d", i), "", "", true)
	}
	ids := map[string]bool{}
	for _, u := range tg.Users() {
		ids[u.ID] = true
	}
	gid := tg.AddGroup("engineering")
	_, err := c.Apply(ctx(t), connector.Op{Kind: connector.OpAddMember, AccountID: tg.Users()[4].ID, Entitlement: "group:engineering"})
	if err != nil {
		t.Fatal(err)
	}
	before := len(tg.Requests())
	accs, err := c.List(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(accs) != 10 {
		t.Fatalf("List gave %d accounts, want 10", len(accs))
	}
	for _, a := range accs {
		if !ids[a.ID] {
			t.Fatalf("List gave unknown account %s", a.ID)
		}
		delete(ids, a.ID)
		if want := a.UserName == "user04"; want != slices.Contains(a.Memberships, "group:engineering") {
			t.Fatalf("%s memberships %v", a.UserName, a.Memberships)
		}
	}
	var starts []string
	groupReads := 0
	for _, r := range tg.Requests()[before:] {
		if r.Path == "/Users" {
			starts = append(starts, r.Query)
		}
		if r.Path == "/Groups" {
			groupReads++
		}
	}
	want := []string{"count=3&startIndex=1", "count=3&startIndex=4", "count=3&startIndex=7", "count=3&startIndex=10"}
	if !slices.Equal(starts, want) {
		t.Fatalf("user pages %v, want %v", starts, want)
	}
	if groupReads != 1 {
		t.Fatalf("List read the groups %d times, want once (group %s)", groupReads, gid)
	}
}

// A server that ignores startIndex would make a naive client loop forever or duplicate users.
func TestListRefusesAServerThatDoesNotPage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"totalResults":5,"Resources":[{"id":"a","userName":"a"},{"id":"b","userName":"b"}]}`)
	}))
	t.Cleanup(srv.Close)
	p := scim.Generic()
	p.PageSize = 2
	c, err := scim.New(scim.Config{BaseURL: srv.URL, Token: testToken, Profile: p})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.List(ctx(t))
	if !errors.Is(err, connector.ErrUnavailable) || !strings.Contains(err.Error(), "repeats") {
		t.Fatalf("List = %v, want an error saying the page repeats", err)
	}
}

func TestETagRetriesOnAFreshVersion(t *testing.T) {
	for _, mode := range []scim.UpdateMode{scim.UpdatePatch, scim.UpdatePut} {
		t.Run(string(mode), func(t *testing.T) {
			p := scim.Generic()
			p.Update = mode
			tg, c := newTarget(t, scimtarget.Options{ETag: true}, p)
			a := mustCreate(t, c, person(1))

			tg.ConcurrentEdit(1)
			before := len(tg.Requests())
			got, err := c.Apply(ctx(t), connector.Op{Kind: connector.OpDisable, AccountID: a.ID})
			if err != nil {
				t.Fatal(err)
			}
			if got.Active {
				t.Fatal("disable returned an active account")
			}
			var writes []scimtarget.Request
			for _, r := range tg.Requests()[before:] {
				if r.Method == http.MethodPatch || r.Method == http.MethodPut {
					writes = append(writes, r)
				}
			}
			if len(writes) != 2 || writes[0].Status != 412 || writes[1].Status != 200 ||
				writes[0].IfMatch == "" || writes[1].IfMatch == writes[0].IfMatch {
				t.Fatalf("writes %+v: want a 412 then a success with a fresh If-Match", writes)
			}
			if u, _ := tg.User(a.ID); u.Active {
				t.Fatal("the target still holds the user active")
			}

			tg.ConcurrentEdit(10)
			upd := person(1)
			upd.GivenName = "Changed"
			_, err = c.Apply(ctx(t), connector.Op{Kind: connector.OpUpdate, AccountID: a.ID, Account: upd, Fields: []string{"given_name"}})
			var ce *connector.Error
			if !errors.As(err, &ce) || !errors.Is(err, connector.ErrUnavailable) || ce.Status != 412 ||
				!connector.Retryable(err) || connector.RetryAfter(err) <= 0 || connector.RetryAfter(err) > time.Minute ||
				!strings.Contains(err.Error(), "changed in the app") {
				t.Fatalf("update against a user that keeps changing = %v, want a retryable 412 with a short RetryAfter", err)
			}
			if u, _ := tg.User(a.ID); u.GivenName == "Changed" {
				t.Fatal("the refused update was stored")
			}
		})
	}
}

func TestNoIfMatchWhenTheServerHasNoETags(t *testing.T) {
	tg, c := newTarget(t, scimtarget.Options{}, scim.Generic())
	a := mustCreate(t, c, person(1))
	if _, err := c.Apply(ctx(t), connector.Op{Kind: connector.OpDisable, AccountID: a.ID}); err != nil {
		t.Fatal(err)
	}
	for _, r := range tg.Requests() {
		if r.IfMatch != "" {
			t.Fatalf("%s %s carried If-Match %q to a server without ETags", r.Method, r.Path, r.IfMatch)
		}
	}
	if tg.Count(http.MethodGet, "/ServiceProviderConfig") != 1 {
		t.Fatal("ServiceProviderConfig was not asked exactly once")
	}
}

func TestTokenNeverInErrorsOrLogs(t *testing.T) {
	// A careless app echoes the Authorization header back in its error body.
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"status":"400","detail":"header %s is malformed"}`, r.Header.Get("Authorization"))
	}))
	t.Cleanup(echo.Close)
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := scim.New(scim.Config{App: "echo", BaseURL: echo.URL, Token: testToken, Profile: scim.Generic(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	_, err = c.Apply(ctx(t), connector.Op{Kind: connector.OpCreate, Account: person(1)})
	errs = append(errs, err)
	_, err = c.List(ctx(t))
	errs = append(errs, err)

	// A wrong token against the strict target: refused, not retried, and not shown.
	strict := scimtarget.New(scimtarget.Options{Token: "the-real-token-3b8e"})
	wrongC, err := scim.New(scim.Config{App: "strict", BaseURL: serverURL(t, strict), Token: testToken, Profile: scim.Generic(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	_, err = wrongC.List(ctx(t))
	if !errors.Is(err, connector.ErrUnauthorized) || connector.Retryable(err) {
		t.Fatalf("List with a wrong token = %v, want ErrUnauthorized, not retryable", err)
	}
	errs = append(errs, err)
	for _, err := range errs {
		if err == nil {
			t.Fatal("expected an error")
		}
		if strings.Contains(err.Error(), testToken) || strings.Contains(fmt.Sprintf("%#v", err), testToken) {
			t.Fatalf("error shows the token: %v", err)
		}
	}
	if logs.Len() == 0 {
		t.Fatal("nothing was logged: the check below would prove nothing")
	}
	if strings.Contains(logs.String(), testToken) {
		t.Fatalf("log shows the token:\n%s", logs.String())
	}
}

func serverURL(t *testing.T, tg *scimtarget.Target) string {
	srv := httptest.NewServer(tg.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestEnterpriseExtension(t *testing.T) {
	tg, c := newTarget(t, scimtarget.Options{}, scim.Generic())
	want := person(1)
	want.Attributes = map[string]string{"title": "Engineer", "employee_number": "E-1001", "department": "Platform",
		"cost_center": "CC-42", "organization": "Acme", "division": "R&D", "manager": "user-0001"}
	a := mustCreate(t, c, want)
	u, _ := tg.User(a.ID)
	ext := u.Enterprise
	mgr, _ := ext["manager"].(map[string]any)
	if ext["employeeNumber"] != "E-1001" || ext["department"] != "Platform" || ext["costCenter"] != "CC-42" ||
		ext["organization"] != "Acme" || ext["division"] != "R&D" || mgr["value"] != "user-0001" || u.Attributes["title"] != "Engineer" {
		t.Fatalf("stored enterprise extension %v, title %v", ext, u.Attributes["title"])
	}
	accs, err := c.List(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range want.Attributes {
		if accs[0].Attributes[k] != v {
			t.Errorf("listed attributes.%s = %q, want %q", k, accs[0].Attributes[k], v)
		}
	}
	// Clearing an attribute removes it in the app.
	next := want
	next.Attributes = map[string]string{"department": ""}
	if _, err := c.Apply(ctx(t), connector.Op{Kind: connector.OpUpdate, AccountID: a.ID, Account: next, Fields: []string{"attributes.department"}}); err != nil {
		t.Fatal(err)
	}
	if u, _ := tg.User(a.ID); u.Enterprise["department"] != nil || u.Enterprise["costCenter"] != "CC-42" {
		t.Fatalf("after clearing department: %v", u.Enterprise)
	}
}

func TestCustomMapping(t *testing.T) {
	p, err := scim.Generic().WithOptions(map[string]string{"map.attributes.locale": "locale", "map.attributes.title": "",
		"map.email": "emails.value"})
	if err != nil {
		t.Fatal(err)
	}
	tg, c := newTarget(t, scimtarget.Options{}, p)
	a := person(1)
	a.Attributes = map[string]string{"locale": "de-CH", "title": "Ignored"}
	created := mustCreate(t, c, a)
	u, _ := tg.User(created.ID)
	if u.Attributes["locale"] != "de-CH" || u.Attributes["title"] != nil || u.Email != a.Email {
		t.Fatalf("stored %v", u.Attributes)
	}
}

func TestZapierProfile(t *testing.T) {
	tg, c := newTarget(t, scimtarget.Options{}, scim.Zapier())
	a := person(1)
	a.Attributes = map[string]string{"department": "Sales"}
	created := mustCreate(t, c, a)
	u, _ := tg.User(created.ID)
	emails, _ := u.Attributes["emails"].([]any)
	if len(emails) != 1 {
		t.Fatalf("emails %v", u.Attributes["emails"])
	}
	e := emails[0].(map[string]any)
	if e["type"] != "work" || e["value"] != a.Email || e["primary"] != true {
		t.Fatalf("email element %v, want the work email, primary", e)
	}
	if u.Enterprise != nil || u.DisplayName != "" || u.GivenName != "Given" || u.FamilyName != "Family01" || u.ExternalID != "P-01" {
		t.Fatalf("stored %+v: Zapier holds userName, externalId, names, work email only", u.Attributes)
	}
	if f := c.Traits().Fields; !slices.Equal(f, []string{"user_name", "active", "email", "family_name", "given_name"}) {
		t.Fatalf("zapier fields %v", f)
	}

	// Changing the email patches the work email in place.
	next := a
	next.Email = "renamed@example.com"
	if _, err := c.Apply(ctx(t), connector.Op{Kind: connector.OpUpdate, AccountID: created.ID, Account: next, Fields: []string{"email"}}); err != nil {
		t.Fatal(err)
	}
	if u, _ := tg.User(created.ID); u.Email != "renamed@example.com" || len(u.Attributes["emails"].([]any)) != 1 {
		t.Fatalf("after the email change: %v", u.Attributes["emails"])
	}

	// Zapier needs the names and the work email; nothing is sent without them.
	posts := tg.Count(http.MethodPost, "/Users")
	b := person(2)
	b.Email = ""
	_, err := c.Apply(ctx(t), connector.Op{Kind: connector.OpCreate, Account: b})
	if !errors.Is(err, connector.ErrInvalid) || !strings.Contains(err.Error(), "email is required by zapier") {
		t.Fatalf("create without an email = %v", err)
	}
	if tg.Count(http.MethodPost, "/Users") != posts {
		t.Fatal("an invalid create reached the app")
	}
	for _, r := range tg.Requests() {
		if r.IfMatch != "" || r.Path == "/ServiceProviderConfig" {
			t.Fatalf("zapier profile used ETags: %+v", r)
		}
	}
}

func TestAddMemberWithoutCreateGroups(t *testing.T) {
	p := scim.Generic()
	p.CreateGroups = false
	tg, c := newTarget(t, scimtarget.Options{}, p)
	a := mustCreate(t, c, person(1))
	op := connector.Op{Kind: connector.OpAddMember, AccountID: a.ID, Entitlement: "group:finance"}
	_, err := c.Apply(ctx(t), op)
	if !errors.Is(err, connector.ErrNotFound) || !strings.Contains(err.Error(), `group "finance" does not exist`) {
		t.Fatalf("add to a missing group = %v", err)
	}
	if len(tg.Groups()) != 0 {
		t.Fatal("a group was created with create_groups off")
	}
	tg.AddGroup("finance")
	if _, err := c.Apply(ctx(t), op); err != nil {
		t.Fatal(err)
	}
	if g := tg.Groups(); len(g) != 1 || !slices.Equal(g[0].Members, []string{a.ID}) {
		t.Fatalf("groups %+v", g)
	}
	_, err = c.Apply(ctx(t), connector.Op{Kind: connector.OpAddMember, AccountID: a.ID, Entitlement: "team:finance"})
	if !errors.Is(err, connector.ErrInvalid) {
		t.Fatalf("add to an entitlement of another kind = %v, want ErrInvalid", err)
	}
}

func TestHungRequestIsAbandonedAtTheProfileTimeout(t *testing.T) {
	p := scim.Generic()
	p.Timeout = 200 * time.Millisecond
	tg, c := newTarget(t, scimtarget.Options{}, p)
	tg.HangNext(1)
	start := time.Now()
	_, err := c.List(context.Background())
	if !errors.Is(err, connector.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) || !connector.Retryable(err) {
		t.Fatalf("List on a hung app = %v, want a retryable unavailable deadline error", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the hung request held the caller for %v", took)
	}
	if _, err := c.List(ctx(t)); err != nil {
		t.Fatalf("the next List: %v", err)
	}
}

func TestFindReadsOnlyTheUsersGroupsWithMemberFilter(t *testing.T) {
	p := scim.Generic()
	p.MemberFilter = true
	tg, c := newTarget(t, scimtarget.Options{}, p)
	a := mustCreate(t, c, person(1))
	for _, g := range []string{"eng", "ops", "all"} {
		tg.AddGroup(g)
	}
	for _, g := range []string{"eng", "all"} {
		if _, err := c.Apply(ctx(t), connector.Op{Kind: connector.OpAddMember, AccountID: a.ID, Entitlement: "group:" + g}); err != nil {
			t.Fatal(err)
		}
	}
	before := len(tg.Requests())
	got, err := c.Find(ctx(t), connector.Match{UserName: "PERSON01"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Memberships, []string{"group:all", "group:eng"}) {
		t.Fatalf("Find memberships %v", got.Memberships)
	}
	var groupQueries []string
	for _, r := range tg.Requests()[before:] {
		if r.Path == "/Groups" {
			groupQueries = append(groupQueries, r.Query)
		}
	}
	if len(groupQueries) != 1 || !strings.Contains(groupQueries[0], "members%5Bvalue+eq") {
		t.Fatalf("group reads %v, want one filtered by member", groupQueries)
	}
}

// Membership changes look their group up once; a group deleted (or remade) behind the
// connector's back is found again after the 404 on its cached ID.
func TestGroupLookupIsCached(t *testing.T) {
	tg, c := newTarget(t, scimtarget.Options{}, scim.Generic())
	var ids []string
	for i := range 4 {
		ids = append(ids, mustCreate(t, c, person(i)).ID)
	}
	add := func(id string) {
		t.Helper()
		if _, err := c.Apply(ctx(t), connector.Op{Kind: connector.OpAddMember, AccountID: id, Entitlement: "group:eng"}); err != nil {
			t.Fatal(err)
		}
	}
	lookups := func() int { return tg.Count(http.MethodGet, "/Groups") }
	add(ids[0])
	before := lookups()
	add(ids[1])
	if _, err := c.Apply(ctx(t), connector.Op{Kind: connector.OpRemoveMember, AccountID: ids[0], Entitlement: "group:eng"}); err != nil {
		t.Fatal(err)
	}
	if n := lookups() - before; n != 0 {
		t.Fatalf("two more membership changes looked the group up %d times, want 0", n)
	}
	members := func() []string {
		for _, g := range tg.Groups() {
			if g.DisplayName == "eng" {
				return g.Members
			}
		}
		return nil
	}
	if got := members(); !slices.Equal(got, []string{ids[1]}) {
		t.Fatalf("members %v, want [%s]", got, ids[1])
	}

	// Deleted in the app: the next add finds that out and makes the group again.
	gid := tg.Groups()[0].ID
	if _, err := c.Do(ctx(t), http.MethodDelete, "/Groups/"+gid, nil, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	add(ids[2])
	if got := tg.Groups(); len(got) != 1 || got[0].ID == gid || !slices.Equal(got[0].Members, []string{ids[2]}) {
		t.Fatalf("groups %+v, want eng made again holding %s", got, ids[2])
	}

	// Deleted and remade by an administrator: a removal reaches the new group.
	gid = tg.Groups()[0].ID
	if _, err := c.Do(ctx(t), http.MethodDelete, "/Groups/"+gid, nil, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	remade := tg.AddGroup("eng")
	body := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []any{map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": ids[3]}}}}}
	if _, err := c.Do(ctx(t), http.MethodPatch, "/Groups/"+remade, nil, body, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(ctx(t), connector.Op{Kind: connector.OpRemoveMember, AccountID: ids[3], Entitlement: "group:eng"}); err != nil {
		t.Fatal(err)
	}
	if got := members(); len(got) != 0 {
		t.Fatalf("members of the remade group %v after the removal, want none", got)
	}
}
