package sqlstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// samlReplayRow marks one signed SAML message as used, keyed by the hash of its replay key.
type samlReplayRow struct {
	KeyHash   string    `gorm:"primaryKey;size:64"`
	ExpiresAt time.Time `gorm:"not null;index"`
	CreatedAt time.Time `gorm:"autoCreateTime:false"`
}

func (samlReplayRow) TableName() string { return "saml_replay_marks" }

func init() { registerModels(&samlReplayRow{}) }

var _ directory.SAMLReplay = (*Store)(nil)

// MarkSAMLRequest records a signed message as used, once; see directory.SAMLReplay.
func (s *Store) MarkSAMLRequest(ctx context.Context, keyHash string, expiresAt, now time.Time) error {
	if err := validKeyHash(keyHash); err != nil {
		return err
	}
	if expiresAt.IsZero() {
		return &identity.FieldError{Field: "expires_at", Reason: "required"}
	}
	return s.write(ctx, func(tx *Store) error {
		db := tx.db.WithContext(ctx)
		// An expired mark no longer protects anything (the message itself is refused as
		// expired by then); dropping it here keeps the insert below the only decision.
		if err := db.Where("key_hash = ? AND expires_at <= ?", keyHash, utc(now)).Delete(&samlReplayRow{}).Error; err != nil {
			return fmt.Errorf("drop expired replay mark: %w", err)
		}
		// Insert-if-absent decides who answers: the writers' lock already orders marks, but
		// the primary key alone keeps this right across replicas.
		row := samlReplayRow{KeyHash: keyHash, ExpiresAt: utc(expiresAt), CreatedAt: tx.now()}
		res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
		if res.Error != nil {
			return fmt.Errorf("mark saml request: %w", res.Error)
		}
		if res.RowsAffected != 1 {
			return &identity.ConflictError{Kind: "answered SAML request", Field: "replay key"}
		}
		return nil
	})
}
