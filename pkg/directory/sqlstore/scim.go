package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// tokenRow keeps bearer tokens of every kind. The table kept its first name, scim_tokens, so
// databases from before admin API tokens need no copy; rows from then have the default kind.
type tokenRow struct {
	ID         string `gorm:"primaryKey;size:36"`
	Kind       string `gorm:"size:10;not null;default:scim;uniqueIndex:ux_tokens_name_kind,priority:2"`
	Name       string `gorm:"size:100;not null;uniqueIndex:ux_tokens_name_kind,priority:1"`
	Role       string `gorm:"size:10;not null;default:''"`
	Hash       string `gorm:"size:64;not null;uniqueIndex:ux_scim_tokens_hash"`
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

func (tokenRow) TableName() string { return "scim_tokens" }

func init() {
	registerModels(&tokenRow{})
	for k, v := range map[string]string{"ux_tokens_name_kind": "name", "scim_tokens.name": "name",
		"ux_scim_tokens_hash": "hash", "scim_tokens.hash": "hash"} {
		uniqueFields[k] = v
	}
	// Names were unique across the table when it held SCIM tokens only; now per kind.
	registerAfterMigrate(func(db *gorm.DB) error {
		if m := db.Migrator(); m.HasIndex(&tokenRow{}, "ux_scim_tokens_name") {
			if err := m.DropIndex(&tokenRow{}, "ux_scim_tokens_name"); err != nil {
				return fmt.Errorf("drop index ux_scim_tokens_name: %w", err)
			}
		}
		return nil
	})
}

var (
	_ directory.Tokens     = (*Store)(nil)
	_ directory.SCIMTokens = (*Store)(nil)
)

func (r tokenRow) token() directory.Token {
	return directory.Token{ID: r.ID, Kind: directory.TokenKind(r.Kind), Name: r.Name, Role: directory.TokenRole(r.Role), Hash: r.Hash,
		CreatedAt: utc(r.CreatedAt), LastUsedAt: utcPtr(r.LastUsedAt)}
}

// tokenAudit is what the audit log keeps of a token: who it is for, never the hash.
type tokenAudit struct {
	ID   string              `json:"id"`
	Name string              `json:"name"`
	Role directory.TokenRole `json:"role,omitempty"`
}

// tokenTarget and the actions keep the names SCIM tokens were audited under before kinds.
func tokenTarget(kind directory.TokenKind, name string) string {
	return string(kind) + "_token:" + name
}

func tokenNoun(kind directory.TokenKind) string { return string(kind) + " token" }

// CreateToken stores a token; see directory.Tokens.
func (s *Store) CreateToken(ctx context.Context, t directory.Token) (directory.Token, error) {
	t.Name, t.Hash = strings.TrimSpace(t.Name), strings.ToLower(t.Hash)
	if err := t.Validate(); err != nil {
		return directory.Token{}, err
	}
	err := s.write(ctx, func(tx *Store) error {
		t.ID, t.CreatedAt, t.LastUsedAt = newID(), tx.now(), nil
		row := tokenRow{ID: t.ID, Kind: string(t.Kind), Name: t.Name, Role: string(t.Role), Hash: t.Hash, CreatedAt: t.CreatedAt}
		if err := tx.db.WithContext(ctx).Create(&row).Error; err != nil {
			// The hash is never named: a collision of 32 random bytes is not the caller's to see.
			return conflict(err, tokenNoun(t.Kind), map[string]string{"name": t.Name})
		}
		return tx.audit(ctx, string(t.Kind)+"_token.create", tokenTarget(t.Kind, t.Name), nil, tokenAudit{ID: t.ID, Name: t.Name, Role: t.Role})
	})
	if err != nil {
		return directory.Token{}, err
	}
	return t, nil
}

// ListTokens returns every token of the kind by name; see directory.Tokens.
func (s *Store) ListTokens(ctx context.Context, kind directory.TokenKind) ([]directory.Token, error) {
	var rows []tokenRow
	if err := s.read(ctx).Where("kind = ?", string(kind)).Order("name").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list %ss: %w", tokenNoun(kind), err)
	}
	out := make([]directory.Token, len(rows))
	for i, r := range rows {
		out[i] = r.token()
	}
	return out, nil
}

// RevokeToken deletes a token by kind and name; see directory.Tokens.
func (s *Store) RevokeToken(ctx context.Context, kind directory.TokenKind, name string) error {
	return s.write(ctx, func(tx *Store) error {
		var row tokenRow
		if err := tx.db.WithContext(ctx).Where("kind = ? AND name = ?", string(kind), name).Take(&row).Error; err != nil {
			return notFound(err, tokenNoun(kind), name)
		}
		if err := deleteOne(tx.db.WithContext(ctx), &tokenRow{}, tokenNoun(kind), name, "id = ?", row.ID); err != nil {
			return err
		}
		return tx.audit(ctx, string(kind)+"_token.revoke", tokenTarget(kind, name),
			tokenAudit{ID: row.ID, Name: row.Name, Role: directory.TokenRole(row.Role)}, nil)
	})
}

// UseToken finds a token by kind and hash and records its use; see directory.Tokens.
func (s *Store) UseToken(ctx context.Context, kind directory.TokenKind, hash string) (directory.Token, error) {
	var row tokenRow
	err := s.read(ctx).Where("kind = ? AND hash = ?", string(kind), strings.ToLower(hash)).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return directory.Token{}, &identity.NotFoundError{Kind: tokenNoun(kind), Key: "(token)"}
	}
	if err != nil {
		return directory.Token{}, fmt.Errorf("read %s: %w", tokenNoun(kind), err)
	}
	now := s.now()
	if row.LastUsedAt != nil && now.Sub(*row.LastUsedAt) < time.Minute {
		return row.token(), nil
	}
	err = s.write(ctx, func(tx *Store) error {
		// A token revoked meanwhile updates nothing, and the caller is refused.
		res := tx.db.WithContext(ctx).Model(&tokenRow{}).Where("id = ?", row.ID).Update("last_used_at", now)
		if res.Error != nil {
			return fmt.Errorf("record %s use: %w", tokenNoun(kind), res.Error)
		}
		if res.RowsAffected == 0 {
			return &identity.NotFoundError{Kind: tokenNoun(kind), Key: "(token)"}
		}
		return nil
	})
	if err != nil {
		return directory.Token{}, err
	}
	row.LastUsedAt = &now
	return row.token(), nil
}

// CreateSCIMToken stores a SCIM token; see directory.SCIMTokens.
func (s *Store) CreateSCIMToken(ctx context.Context, t directory.SCIMToken) (directory.SCIMToken, error) {
	t.Kind = directory.TokenSCIM
	return s.CreateToken(ctx, t)
}

// ListSCIMTokens returns every SCIM token by name; see directory.SCIMTokens.
func (s *Store) ListSCIMTokens(ctx context.Context) ([]directory.SCIMToken, error) {
	return s.ListTokens(ctx, directory.TokenSCIM)
}

// RevokeSCIMToken deletes a SCIM token by name; see directory.SCIMTokens.
func (s *Store) RevokeSCIMToken(ctx context.Context, name string) error {
	return s.RevokeToken(ctx, directory.TokenSCIM, name)
}

// UseSCIMToken finds a SCIM token by hash and records its use; see directory.SCIMTokens.
func (s *Store) UseSCIMToken(ctx context.Context, hash string) (directory.SCIMToken, error) {
	return s.UseToken(ctx, directory.TokenSCIM, hash)
}
