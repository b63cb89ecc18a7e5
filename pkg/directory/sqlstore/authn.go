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

type credentialRow struct {
	PersonID      string `gorm:"primaryKey;size:36"`
	PasswordHash  string `gorm:"size:300"`
	PasswordSetAt *time.Time
	TOTPSecret    string    `gorm:"column:totp_secret;size:200"` // sealed (see authn_secrets.go)
	TOTPConfirmed bool      `gorm:"column:totp_confirmed;not null"`
	TOTPLastStep  int64     `gorm:"column:totp_last_step;not null"`
	RecoveryCodes string    `gorm:"type:text"` // JSON array of SHA-256 hex
	Version       int64     `gorm:"not null"`
	UpdatedAt     time.Time `gorm:"autoUpdateTime:false"`
}

func (credentialRow) TableName() string { return "authn_credentials" }

type authSessionRow struct {
	ID        string    `gorm:"primaryKey;size:36"`
	TokenHash string    `gorm:"size:64;not null;uniqueIndex:ux_authn_sessions_token"`
	PersonID  string    `gorm:"size:36;not null;index"`
	Stage     string    `gorm:"size:16;not null"`
	Methods   string    `gorm:"size:200"` // JSON array
	AuthnAt   time.Time `gorm:"not null"`
	LastSeen  time.Time `gorm:"not null"`
	ExpiresAt time.Time `gorm:"not null;index"`
	CreatedAt time.Time `gorm:"autoCreateTime:false"`
}

func (authSessionRow) TableName() string { return "authn_sessions" }

func init() { registerModels(&credentialRow{}, &authSessionRow{}) }

var _ directory.Authn = (*Store)(nil)

func (s *Store) credential(r credentialRow) (directory.Credential, error) {
	codes, err := fromJSON[[]string](r.RecoveryCodes)
	if err != nil {
		return directory.Credential{}, fmt.Errorf("credential of %s: recovery codes: %w", r.PersonID, err)
	}
	secret, err := s.openSecret(r.PersonID, factorTOTP, r.TOTPSecret)
	if err != nil {
		return directory.Credential{}, err
	}
	return directory.Credential{PersonID: r.PersonID, PasswordHash: r.PasswordHash, PasswordSetAt: utcPtr(r.PasswordSetAt),
		TOTPSecret: secret, TOTPConfirmed: r.TOTPConfirmed, TOTPLastStep: r.TOTPLastStep, RecoveryCodes: codes,
		Version: r.Version, UpdatedAt: utc(r.UpdatedAt)}, nil
}

// credentialAudit is what the audit log says about a credential: which factors exist, never
// their values or hashes.
type credentialAudit struct {
	Password          bool       `json:"password"`
	PasswordSetAt     *time.Time `json:"password_set_at,omitempty"`
	TOTP              string     `json:"totp"` // none|enrolling|enrolled
	RecoveryCodesLeft int        `json:"recovery_codes_left"`
	Version           int64      `json:"version"`
}

func auditCredential(c directory.Credential) credentialAudit {
	a := credentialAudit{Password: c.PasswordHash != "", PasswordSetAt: c.PasswordSetAt, TOTP: "none",
		RecoveryCodesLeft: len(c.RecoveryCodes), Version: c.Version}
	switch {
	case c.TOTPConfirmed:
		a.TOTP = "enrolled"
	case c.TOTPSecret != "":
		a.TOTP = "enrolling"
	}
	return a
}

// GetCredential reads the person's credential; see directory.Authn.
func (s *Store) GetCredential(ctx context.Context, personID string) (directory.Credential, error) {
	var row credentialRow
	if err := s.read(ctx).Where("person_id = ?", personID).Take(&row).Error; err != nil {
		return directory.Credential{}, notFound(err, "credential", personID)
	}
	return s.credential(row)
}

// UpdateCredential changes the person's credential in one transaction; see directory.Authn.
func (s *Store) UpdateCredential(ctx context.Context, personID, action string, fn func(*directory.Credential) error) (directory.Credential, error) {
	var out directory.Credential
	err := s.write(ctx, func(tx *Store) error {
		if _, err := tx.getPerson(tx.db.WithContext(ctx), personID); err != nil {
			return err
		}
		var row credentialRow
		err := tx.lockRow(tx.db.WithContext(ctx)).Where("person_id = ?", personID).Take(&row).Error
		exists := err == nil
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return fmt.Errorf("read credential: %w", err)
		}
		before := directory.Credential{PersonID: personID}
		if exists {
			if before, err = tx.credential(row); err != nil {
				return err
			}
		}
		next := before
		next.RecoveryCodes = append([]string(nil), before.RecoveryCodes...)
		if err := fn(&next); err != nil {
			return err
		}
		next.PersonID, next.Version, next.UpdatedAt = personID, before.Version+1, tx.now()
		sealed, err := tx.sealSecret(personID, factorTOTP, next.TOTPSecret)
		if err != nil {
			return err
		}
		nrow := credentialRow{PersonID: personID, PasswordHash: next.PasswordHash, PasswordSetAt: utcPtr(next.PasswordSetAt),
			TOTPSecret: sealed, TOTPConfirmed: next.TOTPConfirmed, TOTPLastStep: next.TOTPLastStep,
			RecoveryCodes: toJSON(next.RecoveryCodes), Version: next.Version, UpdatedAt: next.UpdatedAt}
		db := tx.db.WithContext(ctx)
		if exists {
			err = db.Where("person_id = ? AND version = ?", personID, before.Version).Select("*").Updates(&nrow).Error
		} else {
			err = db.Create(&nrow).Error
		}
		if err != nil {
			return fmt.Errorf("store credential: %w", err)
		}
		var prev any
		if exists {
			prev = auditCredential(before)
		}
		out = next
		return tx.audit(ctx, action, "person:"+personID, prev, auditCredential(next))
	})
	return out, err
}

func (r authSessionRow) session() (directory.AuthSession, error) {
	methods, err := fromJSON[[]string](r.Methods)
	if err != nil {
		return directory.AuthSession{}, fmt.Errorf("session %s: methods: %w", r.ID, err)
	}
	return directory.AuthSession{ID: r.ID, TokenHash: r.TokenHash, PersonID: r.PersonID, Stage: r.Stage, Methods: methods,
		AuthnAt: utc(r.AuthnAt), LastSeen: utc(r.LastSeen), ExpiresAt: utc(r.ExpiresAt), CreatedAt: utc(r.CreatedAt)}, nil
}

// sessionAudit leaves the token hash out.
type sessionAudit struct {
	ID        string    `json:"id"`
	PersonID  string    `json:"person_id"`
	Methods   []string  `json:"methods"`
	AuthnAt   time.Time `json:"authn_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

func validSession(as directory.AuthSession) error {
	switch {
	case len(as.TokenHash) != 64:
		return &identity.FieldError{Field: "token_hash", Reason: "a SHA-256 hash in hex is required"}
	case as.PersonID == "":
		return &identity.FieldError{Field: "person_id", Reason: "required"}
	case as.Stage != directory.StageMFA && as.Stage != directory.StageEnrol && as.Stage != directory.StageSigned:
		return &identity.FieldError{Field: "stage", Reason: fmt.Sprintf("%q is not one of mfa|enrol|signed", as.Stage)}
	case as.ExpiresAt.IsZero():
		return &identity.FieldError{Field: "expires_at", Reason: "required"}
	}
	return nil
}

func (s *Store) createSession(ctx context.Context, as directory.AuthSession) (directory.AuthSession, error) {
	if err := validSession(as); err != nil {
		return as, err
	}
	if _, err := s.getPerson(s.db.WithContext(ctx), as.PersonID); err != nil {
		return as, err
	}
	as.ID, as.CreatedAt = newID(), s.now()
	as.AuthnAt, as.LastSeen, as.ExpiresAt = utc(as.AuthnAt), utc(as.LastSeen), utc(as.ExpiresAt)
	row := authSessionRow{ID: as.ID, TokenHash: as.TokenHash, PersonID: as.PersonID, Stage: as.Stage, Methods: toJSON(as.Methods),
		AuthnAt: as.AuthnAt, LastSeen: as.LastSeen, ExpiresAt: as.ExpiresAt, CreatedAt: as.CreatedAt}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return as, conflict(fmt.Errorf("create session: %w", err), "session", nil)
	}
	if as.Stage != directory.StageSigned {
		return as, nil
	}
	return as, s.audit(ctx, "authn.session.create", "person:"+as.PersonID, nil,
		sessionAudit{ID: as.ID, PersonID: as.PersonID, Methods: as.Methods, AuthnAt: as.AuthnAt, ExpiresAt: as.ExpiresAt})
}

// CreateAuthSession stores a session; see directory.Authn.
func (s *Store) CreateAuthSession(ctx context.Context, as directory.AuthSession) (directory.AuthSession, error) {
	var out directory.AuthSession
	err := s.write(ctx, func(tx *Store) error {
		var err error
		out, err = tx.createSession(ctx, as)
		return err
	})
	return out, err
}

// ReplaceAuthSession swaps a session for a new one; see directory.Authn.
func (s *Store) ReplaceAuthSession(ctx context.Context, oldID string, as directory.AuthSession) (directory.AuthSession, error) {
	var out directory.AuthSession
	err := s.write(ctx, func(tx *Store) error {
		if _, err := tx.deleteSessionParticipants(ctx, tx.sessionIDs("id = ?", oldID)); err != nil {
			return err
		}
		res := tx.db.WithContext(ctx).Where("id = ?", oldID).Delete(&authSessionRow{})
		if res.Error != nil {
			return fmt.Errorf("delete session: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return &identity.NotFoundError{Kind: "session", Key: oldID}
		}
		var err error
		out, err = tx.createSession(ctx, as)
		return err
	})
	return out, err
}

// GetAuthSession finds a session by token hash; see directory.Authn.
func (s *Store) GetAuthSession(ctx context.Context, tokenHash string) (directory.AuthSession, error) {
	var row authSessionRow
	if err := s.read(ctx).Where("token_hash = ?", tokenHash).Take(&row).Error; err != nil {
		return directory.AuthSession{}, notFound(err, "session", "(token)")
	}
	return row.session()
}

// TouchAuthSession records activity; see directory.Authn.
func (s *Store) TouchAuthSession(ctx context.Context, id string, lastSeen time.Time) error {
	return s.write(ctx, func(tx *Store) error {
		err := tx.db.WithContext(ctx).Model(&authSessionRow{}).Where("id = ? AND last_seen < ?", id, utc(lastSeen)).
			Update("last_seen", utc(lastSeen)).Error
		if err != nil {
			return fmt.Errorf("touch session: %w", err)
		}
		return nil
	})
}

// DeleteAuthSession ends one session; see directory.Authn.
func (s *Store) DeleteAuthSession(ctx context.Context, id string) error {
	return s.write(ctx, func(tx *Store) error {
		var row authSessionRow
		err := tx.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read session: %w", err)
		}
		if _, err := tx.deleteSessionParticipants(ctx, tx.sessionIDs("id = ?", id)); err != nil {
			return err
		}
		if err := tx.db.WithContext(ctx).Where("id = ?", id).Delete(&authSessionRow{}).Error; err != nil {
			return fmt.Errorf("delete session: %w", err)
		}
		if row.Stage != directory.StageSigned {
			return nil
		}
		return tx.audit(ctx, "authn.session.end", "person:"+row.PersonID, map[string]string{"id": id}, nil)
	})
}

// DeletePersonAuthSessions ends every session of a person; see directory.Authn.
func (s *Store) DeletePersonAuthSessions(ctx context.Context, personID string) (int, error) {
	return s.deletePersonRows(ctx, personID, &authSessionRow{}, "sessions", "authn.session.end_all", func(tx *Store) error {
		_, err := tx.deleteSessionParticipants(ctx, tx.sessionIDs("person_id = ?", personID))
		return err
	})
}

// deletePersonRows deletes every row of model's table that belongs to the person and, when
// there were any, audits how many went under action. before, when set, runs first in the same
// transaction (rows that hang off those being deleted).
func (s *Store) deletePersonRows(ctx context.Context, personID string, model any, what, action string, before ...func(tx *Store) error) (int, error) {
	var n int
	err := s.write(ctx, func(tx *Store) error {
		for _, fn := range before {
			if err := fn(tx); err != nil {
				return err
			}
		}
		res := tx.db.WithContext(ctx).Where("person_id = ?", personID).Delete(model)
		if res.Error != nil {
			return fmt.Errorf("delete %s: %w", what, res.Error)
		}
		n = int(res.RowsAffected)
		if n == 0 {
			return nil
		}
		return tx.audit(ctx, action, "person:"+personID, map[string]int{what: n}, nil)
	})
	return n, err
}
