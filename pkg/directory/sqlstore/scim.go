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

type scimTokenRow struct {
	ID         string `gorm:"primaryKey;size:36"`
	Name       string `gorm:"size:100;not null;uniqueIndex:ux_scim_tokens_name"`
	Hash       string `gorm:"size:64;not null;uniqueIndex:ux_scim_tokens_hash"`
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

func (scimTokenRow) TableName() string { return "scim_tokens" }

func init() {
	registerModels(&scimTokenRow{})
	for k, v := range map[string]string{"ux_scim_tokens_name": "name", "scim_tokens.name": "name",
		"ux_scim_tokens_hash": "hash", "scim_tokens.hash": "hash"} {
		uniqueFields[k] = v
	}
}

var _ directory.SCIMTokens = (*Store)(nil)

func (r scimTokenRow) token() directory.SCIMToken {
	return directory.SCIMToken{ID: r.ID, Name: r.Name, Hash: r.Hash, CreatedAt: utc(r.CreatedAt), LastUsedAt: utcPtr(r.LastUsedAt)}
}

// scimTokenAudit is what the audit log keeps of a token: who it is for, never the hash.
type scimTokenAudit struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func scimTokenTarget(name string) string { return "scim_token:" + name }

// CreateSCIMToken stores a token; see directory.SCIMTokens.
func (s *Store) CreateSCIMToken(ctx context.Context, t directory.SCIMToken) (directory.SCIMToken, error) {
	t.Name, t.Hash = strings.TrimSpace(t.Name), strings.ToLower(t.Hash)
	if err := t.Validate(); err != nil {
		return directory.SCIMToken{}, err
	}
	err := s.write(ctx, func(tx *Store) error {
		t.ID, t.CreatedAt, t.LastUsedAt = newID(), tx.now(), nil
		row := scimTokenRow{ID: t.ID, Name: t.Name, Hash: t.Hash, CreatedAt: t.CreatedAt}
		if err := tx.db.WithContext(ctx).Create(&row).Error; err != nil {
			// The hash is never named: a collision of 32 random bytes is not the caller's to see.
			return conflict(err, "scim token", map[string]string{"name": t.Name})
		}
		return tx.audit(ctx, "scim_token.create", scimTokenTarget(t.Name), nil, scimTokenAudit{ID: t.ID, Name: t.Name})
	})
	if err != nil {
		return directory.SCIMToken{}, err
	}
	return t, nil
}

// ListSCIMTokens returns every token by name; see directory.SCIMTokens.
func (s *Store) ListSCIMTokens(ctx context.Context) ([]directory.SCIMToken, error) {
	var rows []scimTokenRow
	if err := s.read(ctx).Order("name").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list scim tokens: %w", err)
	}
	out := make([]directory.SCIMToken, len(rows))
	for i, r := range rows {
		out[i] = r.token()
	}
	return out, nil
}

// RevokeSCIMToken deletes a token by name; see directory.SCIMTokens.
func (s *Store) RevokeSCIMToken(ctx context.Context, name string) error {
	return s.write(ctx, func(tx *Store) error {
		var row scimTokenRow
		if err := tx.db.WithContext(ctx).Where("name = ?", name).Take(&row).Error; err != nil {
			return notFound(err, "scim token", name)
		}
		if err := deleteOne(tx.db.WithContext(ctx), &scimTokenRow{}, "scim token", name, "id = ?", row.ID); err != nil {
			return err
		}
		return tx.audit(ctx, "scim_token.revoke", scimTokenTarget(name), scimTokenAudit{ID: row.ID, Name: row.Name}, nil)
	})
}

// UseSCIMToken finds a token by hash and records its use; see directory.SCIMTokens.
func (s *Store) UseSCIMToken(ctx context.Context, hash string) (directory.SCIMToken, error) {
	var row scimTokenRow
	err := s.read(ctx).Where("hash = ?", strings.ToLower(hash)).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return directory.SCIMToken{}, &identity.NotFoundError{Kind: "scim token", Key: "(token)"}
	}
	if err != nil {
		return directory.SCIMToken{}, fmt.Errorf("read scim token: %w", err)
	}
	now := s.now()
	if row.LastUsedAt != nil && now.Sub(*row.LastUsedAt) < time.Minute {
		return row.token(), nil
	}
	err = s.write(ctx, func(tx *Store) error {
		// A token revoked meanwhile updates nothing, and the caller is refused.
		res := tx.db.WithContext(ctx).Model(&scimTokenRow{}).Where("id = ?", row.ID).Update("last_used_at", now)
		if res.Error != nil {
			return fmt.Errorf("record scim token use: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return &identity.NotFoundError{Kind: "scim token", Key: "(token)"}
		}
		return nil
	})
	if err != nil {
		return directory.SCIMToken{}, err
	}
	row.LastUsedAt = &now
	return row.token(), nil
}
