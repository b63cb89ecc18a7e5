package sqlstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
)

// A database whose scim_tokens table predates token kinds keeps its tokens as SCIM tokens,
// and loses the old table-wide unique name so an API token may share a SCIM token's name.
func TestMigrateKeepsOldSCIMTokensAndFreesNamesPerKind(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "t.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, q := range []string{
		`CREATE TABLE scim_tokens (id varchar(36) PRIMARY KEY, name varchar(100) NOT NULL, hash varchar(64) NOT NULL, created_at datetime, last_used_at datetime)`,
		`CREATE UNIQUE INDEX ux_scim_tokens_name ON scim_tokens(name)`,
		`CREATE UNIQUE INDEX ux_scim_tokens_hash ON scim_tokens(hash)`,
	} {
		if err := s.db.Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
	old := sha("old")
	if err := s.db.Exec(`INSERT INTO scim_tokens (id, name, hash, created_at) VALUES ('t1', 'workday', ?, ?)`, old, time.Now()).Error; err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if tok, err := s.UseSCIMToken(ctx, old); err != nil || tok.Name != "workday" || tok.Kind != directory.TokenSCIM {
		t.Fatalf("the old token after migration: %+v, %v", tok, err)
	}
	if _, err := s.CreateToken(ctx, directory.Token{Kind: directory.TokenAPI, Name: "workday", Role: directory.RoleRead, Hash: sha("new")}); err != nil {
		t.Fatalf("an API token named like the old SCIM token: %v", err)
	}
	if _, err := s.CreateSCIMToken(ctx, directory.SCIMToken{Name: "workday", Hash: sha("dup")}); err == nil {
		t.Fatal("a second SCIM token named workday was accepted")
	}
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
