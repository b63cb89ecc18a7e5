package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

type webAuthnKeyRow struct {
	ID           string    `gorm:"primaryKey;size:36"`
	PersonID     string    `gorm:"size:36;not null;index"`
	CredentialID string    `gorm:"size:1400;not null;uniqueIndex:ux_authn_webauthn_credential"`
	Name         string    `gorm:"size:200"`
	Data         string    `gorm:"type:text;not null"`
	CreatedAt    time.Time `gorm:"autoCreateTime:false"`
	LastUsedAt   *time.Time
}

func (webAuthnKeyRow) TableName() string { return "authn_webauthn_keys" }

// authSessionChallengeRow keeps a ceremony's state beside its session; the session's deletion
// makes it unreachable, and the next ceremony of the session replaces it.
type authSessionChallengeRow struct {
	SessionID string `gorm:"primaryKey;size:36"`
	Data      string `gorm:"type:text;not null"`
}

func (authSessionChallengeRow) TableName() string { return "authn_session_challenges" }

func init() { registerModels(&webAuthnKeyRow{}, &authSessionChallengeRow{}) }

func (r webAuthnKeyRow) key() directory.WebAuthnKey {
	return directory.WebAuthnKey{ID: r.ID, PersonID: r.PersonID, CredentialID: r.CredentialID, Name: r.Name, Data: r.Data,
		CreatedAt: utc(r.CreatedAt), LastUsedAt: utcPtr(r.LastUsedAt)}
}

// keyAudit names a key without its public key or counter.
type keyAudit struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// PutAuthSessionChallenge keeps a ceremony's state; see directory.Authn.
func (s *Store) PutAuthSessionChallenge(ctx context.Context, id, data string) error {
	return s.write(ctx, func(tx *Store) error {
		db := tx.db.WithContext(ctx)
		if err := db.Where("session_id = ?", id).Delete(&authSessionChallengeRow{}).Error; err != nil {
			return fmt.Errorf("replace challenge: %w", err)
		}
		if err := db.Create(&authSessionChallengeRow{SessionID: id, Data: data}).Error; err != nil {
			return fmt.Errorf("store challenge: %w", err)
		}
		return nil
	})
}

// TakeAuthSessionChallenge returns and clears a ceremony's state; see directory.Authn.
func (s *Store) TakeAuthSessionChallenge(ctx context.Context, id string) (string, error) {
	var out string
	err := s.write(ctx, func(tx *Store) error {
		db := tx.db.WithContext(ctx)
		var row authSessionChallengeRow
		err := tx.lockRow(db).Where("session_id = ?", id).Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read challenge: %w", err)
		}
		out = row.Data
		if err := db.Where("session_id = ?", id).Delete(&authSessionChallengeRow{}).Error; err != nil {
			return fmt.Errorf("clear challenge: %w", err)
		}
		return nil
	})
	return out, err
}

// AddWebAuthnKey stores a key; see directory.Authn.
func (s *Store) AddWebAuthnKey(ctx context.Context, k directory.WebAuthnKey) (directory.WebAuthnKey, error) {
	switch {
	case k.CredentialID == "":
		return k, &identity.FieldError{Field: "credential_id", Reason: "required"}
	case k.Data == "":
		return k, &identity.FieldError{Field: "data", Reason: "required"}
	}
	err := s.write(ctx, func(tx *Store) error {
		db := tx.db.WithContext(ctx)
		if _, err := tx.getPerson(db, k.PersonID); err != nil {
			return err
		}
		k.ID, k.CreatedAt, k.LastUsedAt = newID(), tx.now(), nil
		row := webAuthnKeyRow{ID: k.ID, PersonID: k.PersonID, CredentialID: k.CredentialID, Name: k.Name, Data: k.Data, CreatedAt: k.CreatedAt}
		if err := db.Create(&row).Error; err != nil {
			return conflict(fmt.Errorf("add webauthn key: %w", err), "webauthn key", nil)
		}
		return tx.audit(ctx, "authn.webauthn.add", "person:"+k.PersonID, nil, keyAudit{ID: k.ID, Name: k.Name})
	})
	return k, err
}

// WebAuthnKeys lists a person's keys; see directory.Authn.
func (s *Store) WebAuthnKeys(ctx context.Context, personID string) ([]directory.WebAuthnKey, error) {
	var rows []webAuthnKeyRow
	if err := s.read(ctx).Where("person_id = ?", personID).Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("webauthn keys: %w", err)
	}
	out := make([]directory.WebAuthnKey, len(rows))
	for i, r := range rows {
		out[i] = r.key()
	}
	return out, nil
}

// UseWebAuthnKey records a key's use; see directory.Authn.
func (s *Store) UseWebAuthnKey(ctx context.Context, id, data string, at time.Time) error {
	return s.write(ctx, func(tx *Store) error {
		used := utc(at)
		res := tx.db.WithContext(ctx).Model(&webAuthnKeyRow{}).Where("id = ?", id).
			Updates(map[string]any{"data": data, "last_used_at": used})
		if res.Error != nil {
			return fmt.Errorf("use webauthn key: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return &identity.NotFoundError{Kind: "webauthn key", Key: id}
		}
		return nil
	})
}

// DeletePersonWebAuthnKeys removes a person's keys; see directory.Authn.
func (s *Store) DeletePersonWebAuthnKeys(ctx context.Context, personID string) (int, error) {
	return s.deletePersonRows(ctx, personID, &webAuthnKeyRow{}, "keys", "authn.webauthn.remove_all")
}
