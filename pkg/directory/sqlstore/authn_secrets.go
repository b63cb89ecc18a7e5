package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/secretbox"
)

// Sealer encrypts second-factor secrets at rest; *secretbox.Keyring is one. Values it did not
// seal (legacy plain text) must come back from Open unchanged.
type Sealer interface {
	Seal(plain string, ad []byte) (string, error)
	Open(stored string, ad []byte) (string, error)
	CurrentID() string
}

// factorTOTP names the authenticator slot of a credential in the associated data.
const factorTOTP = "totp"

// ErrNoSecretKey is a rekey asked of a store that has no keyring.
var ErrNoSecretKey = errors.New("no key for MFA secrets is configured")

var _ directory.MFASecrets = (*Store)(nil)

// secretAD binds a sealed value to its record: the same secret sealed for one person (or for
// another factor) does not open in another row, so copying ciphertexts between rows in a
// database lends nobody someone else's authenticator.
func secretAD(personID, factor string) []byte {
	return []byte("tenure mfa secret v1\x00person=" + personID + "\x00factor=" + factor)
}

func (s *Store) sealSecret(personID, factor, plain string) (string, error) {
	if s.secrets == nil || plain == "" {
		return plain, nil
	}
	sealed, err := s.secrets.Seal(plain, secretAD(personID, factor))
	if err != nil {
		return "", fmt.Errorf("credential of %s: seal %s secret: %w", personID, factor, err)
	}
	return sealed, nil
}

func (s *Store) openSecret(personID, factor, stored string) (string, error) {
	if s.secrets == nil || stored == "" {
		return stored, nil
	}
	plain, err := s.secrets.Open(stored, secretAD(personID, factor))
	if err != nil {
		return "", fmt.Errorf("credential of %s: %s secret: %w", personID, factor, err)
	}
	return plain, nil
}

// DB is the store's database handle, for checks that must look past the store (tests reading
// what a column really holds).
func (s *Store) DB() (*sql.DB, error) { return s.db.DB() }

// MFASecretKeys counts stored secrets by sealing key; see directory.MFASecrets.
func (s *Store) MFASecretKeys(ctx context.Context) (map[string]int, error) {
	// The head of a value is enough to name its key; reading whole values would move every
	// ciphertext over the wire for a count.
	var heads []string
	err := s.read(ctx).Model(&credentialRow{}).Where("totp_secret <> ''").
		Pluck("SUBSTR(totp_secret, 1, 40)", &heads).Error
	if err != nil {
		return nil, fmt.Errorf("count mfa secrets: %w", err)
	}
	out := map[string]int{}
	for _, h := range heads {
		id, _ := secretbox.KeyID(h) // the ID is whole within the head; the rest may be cut
		out[id]++
	}
	return out, nil
}

// RekeyMFASecrets seals stale secrets again under the current key; see directory.MFASecrets.
func (s *Store) RekeyMFASecrets(ctx context.Context, opt directory.MFASecretsRekey) (directory.MFASecretsRekeyed, error) {
	out := directory.MFASecretsRekeyed{From: map[string]int{}}
	if s.secrets == nil {
		return out, fmt.Errorf("rekey mfa secrets: %w", ErrNoSecretKey)
	}
	batch := opt.Batch
	if batch <= 0 {
		batch = 500
	}
	out.Key = s.secrets.CurrentID()
	stale := "totp_secret NOT LIKE ?"
	pattern := secretbox.KeyPrefix(out.Key) + "%"
	if opt.PlainOnly {
		pattern = secretbox.SealedPrefix + "%"
	}
	after := ""
	for {
		var rows []credentialRow
		last := false
		err := s.write(ctx, func(tx *Store) error {
			db := tx.db.WithContext(ctx)
			err := tx.lockRow(db).Select("person_id", "totp_secret").
				Where("totp_secret <> '' AND "+stale+" AND person_id > ?", pattern, after).
				Order("person_id").Limit(batch).Find(&rows).Error
			if err != nil {
				return fmt.Errorf("read mfa secrets: %w", err)
			}
			for _, r := range rows {
				plain, err := tx.openSecret(r.PersonID, factorTOTP, r.TOTPSecret)
				if err != nil {
					return err
				}
				sealed, err := tx.sealSecret(r.PersonID, factorTOTP, plain)
				if err != nil {
					return err
				}
				if err := db.Model(&credentialRow{}).Where("person_id = ?", r.PersonID).
					Update("totp_secret", sealed).Error; err != nil {
					return fmt.Errorf("rekey mfa secret of %s: %w", r.PersonID, err)
				}
				from, sealedBefore := secretbox.KeyID(r.TOTPSecret)
				if !sealedBefore {
					from = "plain"
				}
				out.From[from]++
				out.Rekeyed++
			}
			if len(rows) > 0 {
				out.Batches++
				after = rows[len(rows)-1].PersonID
			}
			last = len(rows) < batch
			// One record for the whole run, in the last batch's transaction: the batches
			// change no credential's meaning, so one account of them is enough.
			if !last || out.Rekeyed == 0 {
				return nil
			}
			return tx.audit(ctx, "authn.mfa_secrets.rekey", "authn:mfa_secrets", nil, out)
		})
		if err != nil {
			return out, fmt.Errorf("rekey mfa secrets: %w", err)
		}
		if last {
			return out, nil
		}
	}
}

// WithSecrets returns the store sealing MFA secrets with x, on the same connection pool (close
// only one of the two).
func (s *Store) WithSecrets(x Sealer) *Store {
	c := *s
	c.secrets = x
	return &c
}
