package conformance

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

func scimTests() []subTest {
	return []subTest{
		{"SCIMTokenCreateListUse", testSCIMTokenCreateListUse},
		{"SCIMTokenDuplicateAndInvalid", testSCIMTokenDuplicateAndInvalid},
		{"SCIMTokenRevokeAudited", testSCIMTokenRevokeAudited},
		{"TokenKindsAreSeparate", testTokenKindsAreSeparate},
		{"APITokenRoleValidatedAndAudited", testAPITokenRoleValidatedAndAudited},
	}
}

func tokenHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func testSCIMTokenCreateListUse(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	created, err := s.CreateSCIMToken(ctx, directory.SCIMToken{Name: "workday", Hash: tokenHash("a")})
	if err != nil {
		t.Fatalf("CreateSCIMToken: %v", err)
	}
	if created.ID == "" || created.CreatedAt.IsZero() || created.LastUsedAt != nil {
		t.Errorf("CreateSCIMToken = %+v; want ID, CreatedAt and no LastUsedAt", created)
	}
	if _, err := s.CreateSCIMToken(ctx, directory.SCIMToken{Name: "okta", Hash: tokenHash("b")}); err != nil {
		t.Fatalf("CreateSCIMToken(okta): %v", err)
	}
	list, err := s.ListSCIMTokens(ctx)
	if err != nil {
		t.Fatalf("ListSCIMTokens: %v", err)
	}
	if len(list) != 2 || list[0].Name != "okta" || list[1].Name != "workday" || list[1].ID != created.ID {
		t.Fatalf("ListSCIMTokens = %+v; want okta, workday by name", list)
	}
	used, err := s.UseSCIMToken(ctx, tokenHash("a"))
	if err != nil {
		t.Fatalf("UseSCIMToken: %v", err)
	}
	if used.Name != "workday" || used.LastUsedAt == nil {
		t.Fatalf("UseSCIMToken = %+v; want workday with LastUsedAt", used)
	}
	list, _ = s.ListSCIMTokens(ctx)
	if list[1].LastUsedAt == nil || !list[1].LastUsedAt.Equal(*used.LastUsedAt) || list[0].LastUsedAt != nil {
		t.Errorf("after use, list = %+v; want workday's LastUsedAt %v and okta's unset", list, used.LastUsedAt)
	}
	if _, err := s.UseSCIMToken(ctx, tokenHash("unknown")); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("UseSCIMToken(unknown) = %v; want ErrNotFound", err)
	}
}

func testSCIMTokenDuplicateAndInvalid(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	if _, err := s.CreateSCIMToken(ctx, directory.SCIMToken{Name: "workday", Hash: tokenHash("a")}); err != nil {
		t.Fatalf("CreateSCIMToken: %v", err)
	}
	_, err := s.CreateSCIMToken(ctx, directory.SCIMToken{Name: "workday", Hash: tokenHash("b")})
	var ce *identity.ConflictError
	if !errors.As(err, &ce) || ce.Field != "name" {
		t.Errorf("duplicate name: %v; want a ConflictError on name", err)
	}
	for _, tok := range []directory.SCIMToken{{Name: "", Hash: tokenHash("c")}, {Name: "has space", Hash: tokenHash("c")}, {Name: "ok"}} {
		if _, err := s.CreateSCIMToken(ctx, tok); !errors.Is(err, identity.ErrInvalid) {
			t.Errorf("CreateSCIMToken(%+v) = %v; want ErrInvalid", tok, err)
		}
	}
	if list, _ := s.ListSCIMTokens(ctx); len(list) != 1 {
		t.Errorf("after refused creates, %d tokens; want 1", len(list))
	}
}

func testSCIMTokenRevokeAudited(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	created, err := s.CreateSCIMToken(ctx, directory.SCIMToken{Name: "workday", Hash: tokenHash("a")})
	if err != nil {
		t.Fatalf("CreateSCIMToken: %v", err)
	}
	if err := s.RevokeSCIMToken(ctx, "workday"); err != nil {
		t.Fatalf("RevokeSCIMToken: %v", err)
	}
	if _, err := s.UseSCIMToken(ctx, tokenHash("a")); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("UseSCIMToken after revoke = %v; want ErrNotFound", err)
	}
	if err := s.RevokeSCIMToken(ctx, "workday"); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("second RevokeSCIMToken = %v; want ErrNotFound", err)
	}
	// The name is free again: a replacement token can take it.
	if _, err := s.CreateSCIMToken(ctx, directory.SCIMToken{Name: "workday", Hash: tokenHash("b")}); err != nil {
		t.Errorf("CreateSCIMToken after revoke: %v", err)
	}
	var actions []string
	for _, r := range verifyAuditLog(t, ctx, s) {
		if !strings.HasPrefix(r.Action, "scim_token.") {
			continue
		}
		actions = append(actions, r.Action)
		if r.Action == "scim_token.revoke" && !strings.Contains(string(r.Before), created.ID) {
			t.Errorf("revoke record %s does not name the revoked token %s", r.Before, created.ID)
		}
		if r.Target != "scim_token:workday" {
			t.Errorf("%s target %q; want scim_token:workday", r.Action, r.Target)
		}
		if strings.Contains(string(r.Before)+string(r.After), tokenHash("a")) {
			t.Errorf("%s record holds the token hash: %s %s", r.Action, r.Before, r.After)
		}
	}
	if strings.Join(actions, ",") != "scim_token.create,scim_token.revoke,scim_token.create" {
		t.Errorf("audited %v; want create, revoke, create", actions)
	}
}

// A SCIM token must never open the admin API nor an admin token SCIM; names are unique per kind.
func testTokenKindsAreSeparate(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	if _, err := s.CreateSCIMToken(ctx, directory.SCIMToken{Name: "workday", Hash: tokenHash("scim")}); err != nil {
		t.Fatalf("CreateSCIMToken: %v", err)
	}
	api, err := s.CreateToken(ctx, directory.Token{Kind: directory.TokenAPI, Name: "workday", Role: directory.RoleAdmin, Hash: tokenHash("api")})
	if err != nil {
		t.Fatalf("CreateToken(api, same name as a SCIM token): %v", err)
	}
	if api.Kind != directory.TokenAPI || api.Role != directory.RoleAdmin {
		t.Errorf("CreateToken = %+v; want kind api, role admin", api)
	}
	_, err = s.CreateToken(ctx, directory.Token{Kind: directory.TokenAPI, Name: "workday", Role: directory.RoleRead, Hash: tokenHash("api2")})
	var ce *identity.ConflictError
	if !errors.As(err, &ce) || ce.Field != "name" {
		t.Errorf("duplicate API token name: %v; want a ConflictError on name", err)
	}
	for _, c := range []struct {
		kind directory.TokenKind
		hash string
	}{{directory.TokenAPI, tokenHash("scim")}, {directory.TokenSCIM, tokenHash("api")}} {
		if _, err := s.UseToken(ctx, c.kind, c.hash); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("UseToken(%s, a token of the other kind) = %v; want ErrNotFound", c.kind, err)
		}
	}
	if _, err := s.UseSCIMToken(ctx, tokenHash("api")); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("UseSCIMToken(an API token) = %v; want ErrNotFound", err)
	}
	if got, err := s.UseToken(ctx, directory.TokenAPI, tokenHash("api")); err != nil || got.Name != "workday" || got.Role != directory.RoleAdmin || got.LastUsedAt == nil {
		t.Errorf("UseToken(api) = %+v, %v; want workday, admin, used", got, err)
	}
	scim, _ := s.ListSCIMTokens(ctx)
	apis, _ := s.ListTokens(ctx, directory.TokenAPI)
	if len(scim) != 1 || scim[0].Kind != directory.TokenSCIM || len(apis) != 1 || apis[0].ID != api.ID {
		t.Errorf("lists: scim %+v, api %+v; want one of each", scim, apis)
	}
	if err := s.RevokeToken(ctx, directory.TokenAPI, "workday"); err != nil {
		t.Fatalf("RevokeToken(api): %v", err)
	}
	if _, err := s.UseSCIMToken(ctx, tokenHash("scim")); err != nil {
		t.Errorf("the SCIM token of the same name after the API token's revocation: %v", err)
	}
}

func testAPITokenRoleValidatedAndAudited(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	for _, tok := range []directory.Token{
		{Kind: directory.TokenAPI, Name: "grafana", Hash: tokenHash("a")},
		{Kind: directory.TokenAPI, Name: "grafana", Role: "owner", Hash: tokenHash("a")},
		{Kind: directory.TokenSCIM, Name: "grafana", Role: directory.RoleRead, Hash: tokenHash("a")},
		{Kind: "ldap", Name: "grafana", Role: directory.RoleRead, Hash: tokenHash("a")},
	} {
		if _, err := s.CreateToken(ctx, tok); !errors.Is(err, identity.ErrInvalid) {
			t.Errorf("CreateToken(%+v) = %v; want ErrInvalid", tok, err)
		}
	}
	if _, err := s.CreateToken(ctx, directory.Token{Kind: directory.TokenAPI, Name: "grafana", Role: directory.RoleRead, Hash: tokenHash("a")}); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	if err := s.RevokeToken(ctx, directory.TokenAPI, "grafana"); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	if err := s.RevokeToken(ctx, directory.TokenSCIM, "grafana"); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("RevokeToken(scim, an API token's name) = %v; want ErrNotFound", err)
	}
	var got []string
	for _, r := range verifyAuditLog(t, ctx, s) {
		if strings.HasPrefix(r.Action, "api_token.") {
			got = append(got, r.Action+" "+r.Target+" "+string(r.Before)+string(r.After))
			if strings.Contains(string(r.Before)+string(r.After), tokenHash("a")) {
				t.Errorf("%s record holds the token hash", r.Action)
			}
		}
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], "api_token.create api_token:grafana ") || !strings.Contains(got[0], `"role":"read"`) ||
		!strings.HasPrefix(got[1], "api_token.revoke api_token:grafana ") {
		t.Errorf("audited %q; want api_token.create and api_token.revoke of grafana with its role", got)
	}
}
