package sqlstore

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

type samlServiceProviderRow struct {
	ID           string `gorm:"primaryKey;size:36"`
	EntityID     string `gorm:"size:1024;not null;uniqueIndex:ux_saml_sps_entity_id"`
	App          string `gorm:"size:100;not null;index"`
	NameIDFormat string `gorm:"column:nameid_format;size:16;not null"`
	Attributes   string `gorm:"type:text"` // JSON array
	Metadata     string `gorm:"type:text;not null"`
	Version      int64  `gorm:"not null"`
	CreatedAt    time.Time
	UpdatedAt    time.Time `gorm:"autoUpdateTime:false"`
}

func (samlServiceProviderRow) TableName() string { return "saml_service_providers" }

// samlSigningKeyRow holds at most one row (ID 1): the IdP key Tenure generated itself.
type samlSigningKeyRow struct {
	ID        int    `gorm:"primaryKey;autoIncrement:false"`
	KeyPEM    string `gorm:"type:text;not null"`
	CertPEM   string `gorm:"type:text;not null"`
	NameIDKey string `gorm:"column:nameid_key;size:128;not null"`
	CreatedAt time.Time
}

func (samlSigningKeyRow) TableName() string { return "saml_signing_keys" }

func init() { registerModels(&samlServiceProviderRow{}, &samlSigningKeyRow{}) }

var _ directory.SAMLRegistry = (*Store)(nil)

func (r samlServiceProviderRow) serviceProvider() (directory.SAMLServiceProvider, error) {
	attrs, err := fromJSON[[]string](r.Attributes)
	if err != nil {
		return directory.SAMLServiceProvider{}, fmt.Errorf("saml service provider %s: attributes: %w", r.EntityID, err)
	}
	return directory.SAMLServiceProvider{ID: r.ID, EntityID: r.EntityID, App: r.App,
		NameIDFormat: directory.NameIDFormat(r.NameIDFormat), Attributes: attrs, Metadata: r.Metadata,
		Version: r.Version, CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt)}, nil
}

func spTarget(entityID string) string { return "saml_sp:" + entityID }

// spAudit is what the audit log keeps of a service provider: the metadata is large and
// replaced wholesale, so the record holds its digest.
type spAudit struct {
	EntityID       string   `json:"entity_id"`
	App            string   `json:"app"`
	NameIDFormat   string   `json:"nameid_format"`
	Attributes     []string `json:"attributes"`
	MetadataSHA256 string   `json:"metadata_sha256"`
	Version        int64    `json:"version"`
}

func auditSP(sp *directory.SAMLServiceProvider) any {
	if sp == nil {
		return nil
	}
	sum := sha256.Sum256([]byte(sp.Metadata))
	return spAudit{EntityID: sp.EntityID, App: sp.App, NameIDFormat: string(sp.NameIDFormat), Attributes: sp.Attributes,
		MetadataSHA256: hex.EncodeToString(sum[:]), Version: sp.Version}
}

// PutSAMLServiceProvider creates or replaces by entity ID; see directory.SAMLRegistry.
func (s *Store) PutSAMLServiceProvider(ctx context.Context, sp directory.SAMLServiceProvider) (directory.SAMLServiceProvider, error) {
	sp.EntityID, sp.App = strings.TrimSpace(sp.EntityID), strings.TrimSpace(sp.App)
	if err := sp.Validate(); err != nil {
		return directory.SAMLServiceProvider{}, err
	}
	err := s.write(ctx, func(tx *Store) error {
		db := tx.db.WithContext(ctx)
		now := tx.now()
		before, err := tx.GetSAMLServiceProvider(ctx, sp.EntityID)
		switch {
		case errors.Is(err, identity.ErrNotFound):
			sp.ID, sp.Version, sp.CreatedAt, sp.UpdatedAt = newID(), 1, now, now
			row := samlServiceProviderRow{ID: sp.ID, EntityID: sp.EntityID, App: sp.App, NameIDFormat: string(sp.NameIDFormat),
				Attributes: toJSON(sp.Attributes), Metadata: sp.Metadata, Version: 1, CreatedAt: now, UpdatedAt: now}
			if err := db.Create(&row).Error; err != nil {
				return conflict(err, "saml service provider", map[string]string{"entity_id": sp.EntityID})
			}
			return tx.audit(ctx, "saml_sp.create", spTarget(sp.EntityID), nil, auditSP(&sp))
		case err != nil:
			return err
		}
		sp.ID, sp.Version, sp.CreatedAt, sp.UpdatedAt = before.ID, before.Version+1, before.CreatedAt, now
		res := db.Model(&samlServiceProviderRow{}).Where("id = ? AND version = ?", sp.ID, before.Version).
			Updates(map[string]any{"app": sp.App, "nameid_format": string(sp.NameIDFormat), "attributes": toJSON(sp.Attributes),
				"metadata": sp.Metadata, "version": sp.Version, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("saml service provider %s: %w", sp.EntityID, identity.ErrStale)
		}
		return tx.audit(ctx, "saml_sp.update", spTarget(sp.EntityID), auditSP(&before), auditSP(&sp))
	})
	if err != nil {
		return directory.SAMLServiceProvider{}, err
	}
	return sp, nil
}

// GetSAMLServiceProvider reads a service provider by entity ID.
func (s *Store) GetSAMLServiceProvider(ctx context.Context, entityID string) (directory.SAMLServiceProvider, error) {
	var row samlServiceProviderRow
	if err := s.read(ctx).Where("entity_id = ?", entityID).Take(&row).Error; err != nil {
		return directory.SAMLServiceProvider{}, notFound(err, "saml service provider", entityID)
	}
	return row.serviceProvider()
}

// ListSAMLServiceProviders returns every service provider by entity ID.
func (s *Store) ListSAMLServiceProviders(ctx context.Context) ([]directory.SAMLServiceProvider, error) {
	var rows []samlServiceProviderRow
	if err := s.read(ctx).Order("entity_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list saml service providers: %w", err)
	}
	out := make([]directory.SAMLServiceProvider, len(rows))
	for i, r := range rows {
		sp, err := r.serviceProvider()
		if err != nil {
			return nil, err
		}
		out[i] = sp
	}
	return out, nil
}

// DeleteSAMLServiceProvider removes a service provider; ErrNotFound when there is none.
func (s *Store) DeleteSAMLServiceProvider(ctx context.Context, entityID string) error {
	return s.write(ctx, func(tx *Store) error {
		before, err := tx.GetSAMLServiceProvider(ctx, entityID)
		if err != nil {
			return err
		}
		if err := deleteOne(tx.db.WithContext(ctx), &samlServiceProviderRow{}, "saml service provider", entityID, "id = ?", before.ID); err != nil {
			return err
		}
		return tx.audit(ctx, "saml_sp.delete", spTarget(entityID), auditSP(&before), nil)
	})
}

// EnsureSAMLSigningKey stores candidate unless a key exists; see directory.SAMLRegistry.
func (s *Store) EnsureSAMLSigningKey(ctx context.Context, candidate directory.SAMLSigningKey) (directory.SAMLSigningKey, error) {
	var out directory.SAMLSigningKey
	err := s.write(ctx, func(tx *Store) error {
		db := tx.db.WithContext(ctx)
		var rows []samlSigningKeyRow
		if err := db.Where("id = 1").Limit(1).Find(&rows).Error; err != nil {
			return fmt.Errorf("read saml signing key: %w", err)
		}
		if len(rows) == 1 {
			out = directory.SAMLSigningKey{KeyPEM: rows[0].KeyPEM, CertPEM: rows[0].CertPEM, NameIDKey: rows[0].NameIDKey, CreatedAt: utc(rows[0].CreatedAt)}
			return nil
		}
		if candidate.KeyPEM == "" {
			return &identity.NotFoundError{Kind: "saml signing key", Key: "generated"}
		}
		if candidate.NameIDKey == "" {
			return &identity.FieldError{Field: "nameid_key", Reason: "required"}
		}
		fingerprint, err := certFingerprint(candidate.CertPEM)
		if err != nil {
			return err
		}
		now := tx.now()
		row := samlSigningKeyRow{ID: 1, KeyPEM: candidate.KeyPEM, CertPEM: candidate.CertPEM, NameIDKey: candidate.NameIDKey, CreatedAt: now}
		if err := db.Create(&row).Error; err != nil {
			return fmt.Errorf("store saml signing key: %w", err)
		}
		out = candidate
		out.CreatedAt = now
		return tx.audit(ctx, "saml_signing_key.create", "saml_signing_key", nil,
			map[string]string{"certificate_sha256": fingerprint})
	})
	return out, err
}

// certFingerprint is the SHA-256 of the certificate's DER, the form auditors compare with
// what the metadata publishes.
func certFingerprint(certPEM string) (string, error) {
	block, _ := pem.Decode([]byte(certPEM))
	if block == nil || block.Type != "CERTIFICATE" {
		return "", &identity.FieldError{Field: "cert_pem", Reason: "not a PEM CERTIFICATE block"}
	}
	if _, err := x509.ParseCertificate(block.Bytes); err != nil {
		return "", &identity.FieldError{Field: "cert_pem", Reason: err.Error()}
	}
	sum := sha256.Sum256(block.Bytes)
	return hex.EncodeToString(sum[:]), nil
}
