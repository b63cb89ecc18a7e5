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
