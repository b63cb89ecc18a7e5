package sqlstore

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// samlParkedRow is one parked SP-initiated request, keyed by the hash of its resume key.
type samlParkedRow struct {
	KeyHash   string    `gorm:"primaryKey;size:64"`
	Request   string    `gorm:"type:text;not null"`
	ExpiresAt time.Time `gorm:"not null;index"`
	CreatedAt time.Time `gorm:"autoCreateTime:false"`
}

func (samlParkedRow) TableName() string { return "saml_parked_requests" }

func init() { registerModels(&samlParkedRow{}) }

var _ directory.SAMLParking = (*Store)(nil)

func (r samlParkedRow) parked() directory.ParkedSAMLRequest {
	return directory.ParkedSAMLRequest{KeyHash: r.KeyHash, Request: r.Request, ExpiresAt: utc(r.ExpiresAt), CreatedAt: utc(r.CreatedAt)}
}

func validKeyHash(h string) error {
	if _, err := hex.DecodeString(h); err != nil || len(h) != 64 {
		return &identity.FieldError{Field: "key_hash", Reason: "a SHA-256 hash in hex is required"}
	}
	return nil
}

// ParkSAMLRequest stores a parked request within the limit; see directory.SAMLParking.
func (s *Store) ParkSAMLRequest(ctx context.Context, r directory.ParkedSAMLRequest, now time.Time, limit int) error {
	if err := validKeyHash(r.KeyHash); err != nil {
		return err
	}
	switch {
	case r.Request == "":
		return &identity.FieldError{Field: "request", Reason: "required"}
	case len(r.Request) > directory.MaxParkedSAMLRequest:
		return &identity.FieldError{Field: "request", Reason: fmt.Sprintf("%d bytes is over the limit of %d", len(r.Request), directory.MaxParkedSAMLRequest)}
	case r.ExpiresAt.IsZero():
		return &identity.FieldError{Field: "expires_at", Reason: "required"}
	}
	now = utc(now)
	// Through the common write path although nothing is audited: on SQLite it queues this
	// writer with the others, and on PostgreSQL the writers' lock makes the count and the
	// insert below one step, so the limit holds across replicas.
	return s.write(ctx, func(tx *Store) error {
		db := tx.db.WithContext(ctx)
		if limit > 0 {
			var n int64
			if err := db.Model(&samlParkedRow{}).Count(&n).Error; err != nil {
				return fmt.Errorf("count parked requests: %w", err)
			}
			if n >= int64(limit) {
				res := db.Where("expires_at <= ?", now).Delete(&samlParkedRow{})
				if res.Error != nil {
					return fmt.Errorf("drop expired parked requests: %w", res.Error)
				}
				if n-res.RowsAffected >= int64(limit) {
					return fmt.Errorf("park request: %w", directory.ErrParkingFull)
				}
			}
		}
		row := samlParkedRow{KeyHash: r.KeyHash, Request: r.Request, ExpiresAt: utc(r.ExpiresAt), CreatedAt: tx.now()}
		if err := db.Create(&row).Error; err != nil {
			return conflict(fmt.Errorf("park request: %w", err), "parked request", nil)
		}
		return nil
	})
}

// ParkedSAMLRequest reads a live parked request; see directory.SAMLParking.
func (s *Store) ParkedSAMLRequest(ctx context.Context, keyHash string, now time.Time) (directory.ParkedSAMLRequest, error) {
	var row samlParkedRow
	err := s.read(ctx).Where("key_hash = ? AND expires_at > ?", keyHash, utc(now)).Take(&row).Error
	if err != nil {
		return directory.ParkedSAMLRequest{}, notFound(err, "parked request", "(key)")
	}
	return row.parked(), nil
}

// TakeParkedSAMLRequest returns and deletes a parked request, once; see directory.SAMLParking.
func (s *Store) TakeParkedSAMLRequest(ctx context.Context, keyHash string, now time.Time) (directory.ParkedSAMLRequest, error) {
	var row samlParkedRow
	expired := false
	err := s.write(ctx, func(tx *Store) error {
		db := tx.db.WithContext(ctx)
		if err := tx.lockRow(db).Where("key_hash = ?", keyHash).Take(&row).Error; err != nil {
			return notFound(err, "parked request", "(key)")
		}
		// The delete decides who resumed it: whoever removed the row. The writers' lock already
		// orders takes, but the row count keeps this right on its own.
		res := db.Where("key_hash = ?", keyHash).Delete(&samlParkedRow{})
		if res.Error != nil {
			return fmt.Errorf("take parked request: %w", res.Error)
		}
		if res.RowsAffected != 1 {
			return &identity.NotFoundError{Kind: "parked request", Key: "(key)"}
		}
		expired = !utc(row.ExpiresAt).After(utc(now))
		return nil
	})
	if err != nil {
		return directory.ParkedSAMLRequest{}, err
	}
	if expired {
		return directory.ParkedSAMLRequest{}, &identity.NotFoundError{Kind: "parked request", Key: "(key, expired)"}
	}
	return row.parked(), nil
}
