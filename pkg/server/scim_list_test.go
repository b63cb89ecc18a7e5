package server

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"testing"

	"github.com/tenure-id/tenure/connectors/scim"
	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/identity"
)

func userNames(body map[string]any) []string {
	var out []string
	list, _ := body["Resources"].([]any)
	for _, r := range list {
		m, _ := r.(map[string]any)
		out = append(out, fmt.Sprint(m["userName"]))
	}
	return out
}

func TestSCIMUserFiltersAndPaging(t *testing.T) {
	e := newSCIMEnv(t)
	for i, dept := range []string{"Engineering", "Engineering", "Sales", "Engineering", "Sales"} {
		e.create(t, fmt.Sprintf("E%03d", i+1), fmt.Sprintf("user%d", i+1), "User", fmt.Sprint(i+1), fmt.Sprintf("u%d@piedpiper.test", i+1), dept)
	}
	for _, tt := range []struct {
		filter string
		want   []string
	}{
		{`userName eq "USER2"`, []string{"user2"}},
		{`externalId eq "E003"`, []string{"user3"}},
		{`externalId eq "e003"`, nil}, // externalId is case-exact
		{`emails.value eq "u4@piedpiper.test"`, []string{"user4"}},
		{`emails[type eq "work"].value eq "u5@piedpiper.test"`, []string{"user5"}},
		{`emails[type eq "work" and value eq "u1@piedpiper.test"]`, []string{"user1"}},
		{`emails[type eq "home" and value eq "u1@piedpiper.test"]`, nil},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Sales"`, []string{"user3", "user5"}},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "E002"`, []string{"user2"}},
		{`userName sw "user" and not (active eq false)`, []string{"user1", "user2", "user3", "user4", "user5"}},
		{`userName eq "user1" or userName eq "user4"`, []string{"user1", "user4"}},
		{`userName eq "nobody"`, nil},
	} {
		code, body := e.do(t, scimReq{method: "GET", path: "/Users?filter=" + url.QueryEscape(tt.filter)})
		if code != 200 || !slices.Equal(userNames(body), tt.want) || body["totalResults"] != float64(len(tt.want)) {
			t.Errorf("filter %s: %d %v %v; want %v", tt.filter, code, body["totalResults"], userNames(body), tt.want)
		}
	}
	for _, tt := range []struct {
		query string
		total int
		want  []string
	}{
		{"startIndex=1&count=2", 5, []string{"user1", "user2"}},
		{"startIndex=4&count=2", 5, []string{"user4", "user5"}},
		{"startIndex=6&count=2", 5, nil},
		{"count=0", 5, nil},
		{"startIndex=2&count=1&filter=" + url.QueryEscape(`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Engineering"`), 3, []string{"user2"}},
	} {
		code, body := e.do(t, scimReq{method: "GET", path: "/Users?" + tt.query})
		if code != 200 || body["totalResults"] != float64(tt.total) || !slices.Equal(userNames(body), tt.want) {
			t.Errorf("%s: %d total %v %v; want %d %v", tt.query, code, body["totalResults"], userNames(body), tt.total, tt.want)
		}
	}
}

func TestSCIMGroupsAreReadOnlyWithMembers(t *testing.T) {
	e := newSCIMEnv(t)
	ctx := audit.WithActor(context.Background(), "test")
	u := e.create(t, "E001", "gilfoyle", "Bertram", "Gilfoyle", "gilfoyle@piedpiper.test", "Engineering")
	g, err := e.store.CreateGroup(ctx, identity.Group{Name: "engineering", Source: "local"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.CreateGroup(ctx, identity.Group{Name: "sales", Source: "local"}); err != nil {
		t.Fatal(err)
	}
	if err := e.store.AddGroupMember(ctx, g.ID, u["id"].(string)); err != nil {
		t.Fatal(err)
	}
	code, body := e.do(t, scimReq{method: "GET", path: "/Groups?filter=" + url.QueryEscape(`displayName eq "Engineering"`)})
	list, _ := body["Resources"].([]any)
	if code != 200 || len(list) != 1 {
		t.Fatalf("groups filter: %d %v", code, body)
	}
	members, _ := list[0].(map[string]any)["members"].([]any)
	if len(members) != 1 || members[0].(map[string]any)["value"] != u["id"] {
		t.Errorf("members %v; want %s", members, u["id"])
	}
	if code, body := e.do(t, scimReq{method: "GET", path: "/Groups"}); code != 200 || body["totalResults"] != float64(2) {
		t.Errorf("all groups: %d %v", code, body)
	}
	code, body = e.do(t, scimReq{method: "PATCH", path: "/Groups/" + g.ID, body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members"}]}`})
	checkError(t, "group patch", code, body, 403, "mutability", "read-only")
	if m, _ := e.store.GroupMembers(ctx, g.ID); len(m) != 1 {
		t.Errorf("group members after a refused PATCH: %d", len(m))
	}
}

// Tenure's own SCIM client connector, an independent consumer of the protocol, provisions into
// Tenure's SCIM service provider: create (a hire), find, update, disable (a termination),
// enable (a rehire), list and delete.
func TestSCIMConnectorDrivesProvider(t *testing.T) {
	e := newSCIMEnv(t)
	ctx := context.Background()
	c, err := scim.New(scim.Config{App: "tenure", BaseURL: e.url, Token: scimToken, Profile: scim.Generic()})
	if err != nil {
		t.Fatal(err)
	}
	acct := connector.Account{ExternalID: "E500", UserName: "monica.hall", Email: "monica@piedpiper.test", GivenName: "Monica",
		FamilyName: "Hall", Active: true, Attributes: map[string]string{"title": "Partner", "organization": "Raviga", "department": "Investments"}}
	got, err := c.Apply(ctx, connector.Op{Kind: connector.OpCreate, App: "tenure", Account: acct})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	p := person(t, e.store, "E500")
	if got.ID != p.ID || p.Username != "monica.hall" || p.JobTitle != "Partner" || p.Status != identity.Active {
		t.Fatalf("created %+v; person %+v", got, p)
	}
	found, err := c.Find(ctx, connector.Match{UserName: "monica.hall"})
	if err != nil || found.ID != p.ID || found.Email != "monica@piedpiper.test" || found.Attributes["department"] != "Investments" {
		t.Fatalf("find: %+v, %v", found, err)
	}
	acct.Attributes["title"] = "Managing Partner"
	if _, err := c.Apply(ctx, connector.Op{Kind: connector.OpUpdate, App: "tenure", AccountID: p.ID, Account: acct, Fields: []string{"attributes.title"}}); err != nil {
		t.Fatalf("update: %v", err)
	}
	if p := person(t, e.store, "E500"); p.JobTitle != "Managing Partner" {
		t.Fatalf("after update: %+v", p)
	}
	for _, step := range []struct {
		kind connector.OpKind
		want identity.Status
	}{{connector.OpDisable, identity.Terminated}, {connector.OpEnable, identity.Active}, {connector.OpDelete, identity.Terminated}} {
		if _, err := c.Apply(ctx, connector.Op{Kind: step.kind, App: "tenure", AccountID: p.ID, Account: acct}); err != nil {
			t.Fatalf("%s: %v", step.kind, err)
		}
		if got := person(t, e.store, "E500").Status; got != step.want {
			t.Fatalf("after %s: status %s; want %s", step.kind, got, step.want)
		}
	}
	all, err := c.List(ctx)
	if err != nil || len(all) != 1 || all[0].Active || all[0].UserName != "monica.hall" {
		t.Fatalf("list: %+v, %v; want the terminated person, inactive", all, err)
	}
}
