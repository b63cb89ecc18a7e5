package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

type activationRow struct {
	ID        string    `gorm:"primaryKey;size:36"`
	TokenHash string    `gorm:"size:64;not null;uniqueIndex:ux_authn_activations_token"`
	PersonID  string    `gorm:"size:36;not null;index"`
	ExpiresAt time.Time `gorm:"not null"`
	UsedAt    *time.Time
	CreatedAt time.Time `gorm:"autoCreateTime:false"`
}

func (activationRow) TableName() string { return "authn_activations" }

type throttleRow struct {
	Key         string    `gorm:"column:throttle_key;primaryKey;size:400"`
	Failures    int       `gorm:"not null"`
	LastFailure time.Time `gorm:"not null"`
	LockedUntil time.Time `gorm:"not null"`
}

func (throttleRow) TableName() string { return "authn_throttle" }

func init() { registerModels(&activationRow{}, &throttleRow{}) }

func (r activationRow) activation() directory.Activation {
	return directory.Activation{ID: r.ID, TokenHash: r.TokenHash, PersonID: r.PersonID, ExpiresAt: utc(r.ExpiresAt),
		UsedAt: utcPtr(r.UsedAt), CreatedAt: utc(r.CreatedAt)}
}

// activationAudit leaves the token hash out.
type activationAudit struct {
	ID        string     `json:"id"`
	ExpiresAt time.Time  `json:"expires_at"`
	UsedAt    *time.Time `json:"used_at,omitempty"`
}

// CreateActivation stores a link and retires the person's unused ones; see directory.Authn.
func (s *Store) CreateActivation(ctx context.Context, a directory.Activation) (directory.Activation, error) {
	switch {
	case len(a.TokenHash) != 64:
		return a, &identity.FieldError{Field: "token_hash", Reason: "a SHA-256 hash in hex is required"}
	case a.ExpiresAt.IsZero():
		return a, &identity.FieldError{Field: "expires_at", Reason: "required"}
	}
	err := s.write(ctx, func(tx *Store) error {
		db := tx.db.WithContext(ctx)
		if _, err := tx.getPerson(db, a.PersonID); err != nil {
			return err
		}
		now := tx.now()
		// Earlier links are marked used rather than deleted, so the audit trail and the row agree.
		if err := db.Model(&activationRow{}).Where("person_id = ? AND used_at IS NULL", a.PersonID).
			Update("used_at", now).Error; err != nil {
			return fmt.Errorf("retire activation links: %w", err)
		}
		a.ID, a.CreatedAt, a.ExpiresAt, a.UsedAt = newID(), now, utc(a.ExpiresAt), nil
		row := activationRow{ID: a.ID, TokenHash: a.TokenHash, PersonID: a.PersonID, ExpiresAt: a.ExpiresAt, CreatedAt: a.CreatedAt}
		if err := db.Create(&row).Error; err != nil {
			return conflict(fmt.Errorf("create activation: %w", err), "activation", nil)
		}
		return tx.audit(ctx, "authn.activation.issue", "person:"+a.PersonID, nil, activationAudit{ID: a.ID, ExpiresAt: a.ExpiresAt})
	})
	return a, err
}

// GetActivation finds a link by token hash; see directory.Authn.
func (s *Store) GetActivation(ctx context.Context, tokenHash string) (directory.Activation, error) {
	var row activationRow
	if err := s.read(ctx).Where("token_hash = ?", tokenHash).Take(&row).Error; err != nil {
		return directory.Activation{}, notFound(err, "activation", "(token)")
	}
	return row.activation(), nil
}

// UseActivation marks a link used, once; see directory.Authn.
func (s *Store) UseActivation(ctx context.Context, id string, at time.Time) (directory.Activation, error) {
	var out directory.Activation
	err := s.write(ctx, func(tx *Store) error {
		db := tx.db.WithContext(ctx)
		var row activationRow
		if err := tx.lockRow(db).Where("id = ?", id).Take(&row).Error; err != nil {
			return notFound(err, "activation", id)
		}
		if row.UsedAt != nil {
			return &identity.ConflictError{Kind: "activation", Field: "used_at", Value: row.UsedAt.Format(time.RFC3339)}
		}
		used := utc(at)
		if err := db.Model(&activationRow{}).Where("id = ? AND used_at IS NULL", id).Update("used_at", used).Error; err != nil {
			return fmt.Errorf("use activation: %w", err)
		}
		row.UsedAt = &used
		out = row.activation()
		return tx.audit(ctx, "authn.activation.use", "person:"+row.PersonID, nil,
			activationAudit{ID: row.ID, ExpiresAt: out.ExpiresAt, UsedAt: out.UsedAt})
	})
	return out, err
}

// ThrottleStates reads the counters of keys; see directory.Authn.
func (s *Store) ThrottleStates(ctx context.Context, keys []string) ([]directory.ThrottleState, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var rows []throttleRow
	if err := s.read(ctx).Where("throttle_key IN ?", keys).Order("throttle_key").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("throttle states: %w", err)
	}
	out := make([]directory.ThrottleState, len(rows))
	for i, r := range rows {
		out[i] = directory.ThrottleState{Key: r.Key, Failures: r.Failures, LastFailure: utc(r.LastFailure), LockedUntil: utc(r.LockedUntil)}
	}
	return out, nil
}

// PutThrottleState stores one counter; see directory.Authn.
func (s *Store) PutThrottleState(ctx context.Context, st directory.ThrottleState) error {
	if st.Key == "" {
		return &identity.FieldError{Field: "key", Reason: "required"}
	}
	return s.write(ctx, func(tx *Store) error {
		row := throttleRow{Key: st.Key, Failures: st.Failures, LastFailure: utc(st.LastFailure), LockedUntil: utc(st.LockedUntil)}
		err := tx.db.WithContext(ctx).Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "throttle_key"}},
			DoUpdates: clause.AssignmentColumns([]string{"failures", "last_failure", "locked_until"}),
		}).Create(&row).Error
		if err != nil {
			return fmt.Errorf("store throttle state: %w", err)
		}
		return nil
	})
}

// DeleteThrottleState forgets one counter; see directory.Authn.
func (s *Store) DeleteThrottleState(ctx context.Context, key string) error {
	return s.write(ctx, func(tx *Store) error {
		err := tx.db.WithContext(ctx).Where("throttle_key = ?", key).Delete(&throttleRow{}).Error
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return fmt.Errorf("delete throttle state: %w", err)
		}
		return nil
	})
}
