package idp

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"time"

	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// Keys are what the IdP signs and names people with.
type Keys struct {
	Key       crypto.Signer
	Cert      *x509.Certificate
	NextCert  *x509.Certificate
	NameIDKey []byte
	// Generated says the signing pair is the one Tenure made itself (no key_file configured).
	Generated bool
}

// KeyStore keeps the generated key material.
type KeyStore interface {
	EnsureSAMLSigningKey(ctx context.Context, candidate directory.SAMLSigningKey) (directory.SAMLSigningKey, error)
}

// LoadKeys reads the configured key pair and next certificate, and the generated material from
// the store, generating it on first use.
//
// Generated keys live in the database rather than in a file beside it: replicas sharing one
// PostgreSQL database must all sign with the same key and give the same persistent NameIDs,
// and a PostgreSQL deployment has no "beside the database" directory. The first replica to
// write wins; the others read its key.
func LoadKeys(ctx context.Context, cfg config.IdP, store KeyStore, subject string) (Keys, error) {
	stored, err := store.EnsureSAMLSigningKey(ctx, directory.SAMLSigningKey{})
	if errors.Is(err, identity.ErrNotFound) {
		var cand directory.SAMLSigningKey
		if cand, err = GenerateSigningKey(subject, time.Now()); err != nil {
			return Keys{}, err
		}
		stored, err = store.EnsureSAMLSigningKey(ctx, cand)
	}
	if err != nil {
		return Keys{}, fmt.Errorf("idp keys: %w", err)
	}
	if cfg.KeyFile == "" {
		k, err := LoadKeysFromPEM(stored)
		if err != nil {
			return Keys{}, fmt.Errorf("idp keys: %w", err)
		}
		return k, nil
	}
	k, err := LoadKeysFromPEM(stored) // for the NameID key; the signing pair comes from the files
	if err != nil {
		return Keys{}, fmt.Errorf("idp keys: %w", err)
	}
	k.Generated = false
	keyPEM, err := os.ReadFile(cfg.KeyFile)
	if err != nil {
		return Keys{}, fmt.Errorf("idp.key_file: %w", err)
	}
	certPEM, err := os.ReadFile(cfg.CertFile)
	if err != nil {
		return Keys{}, fmt.Errorf("idp.cert_file: %w", err)
	}
	if k.Key, err = parseKey(keyPEM); err != nil {
		return Keys{}, fmt.Errorf("idp.key_file %s: %w", cfg.KeyFile, err)
	}
	if k.Cert, err = parseCert(certPEM); err != nil {
		return Keys{}, fmt.Errorf("idp.cert_file %s: %w", cfg.CertFile, err)
	}
	if err := samePublicKey(k.Key.Public(), k.Cert.PublicKey); err != nil {
		return Keys{}, fmt.Errorf("idp.key_file and idp.cert_file: %w", err)
	}
	if cfg.NextCertFile != "" {
		b, err := os.ReadFile(cfg.NextCertFile)
		if err != nil {
			return Keys{}, fmt.Errorf("idp.next_cert_file: %w", err)
		}
		if k.NextCert, err = parseCert(b); err != nil {
			return Keys{}, fmt.Errorf("idp.next_cert_file %s: %w", cfg.NextCertFile, err)
		}
		if k.NextCert.Equal(k.Cert) {
			return Keys{}, fmt.Errorf("idp.next_cert_file %s: is the current certificate", cfg.NextCertFile)
		}
	}
	return k, nil
}

// GenerateSigningKey makes a self-signed RSA-2048 pair valid for ten years, and a NameID key.
func GenerateSigningKey(subject string, now time.Time) (directory.SAMLSigningKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return directory.SAMLSigningKey{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return directory.SAMLSigningKey{}, err
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: subject, Organization: []string{"Tenure SAML IdP"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return directory.SAMLSigningKey{}, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return directory.SAMLSigningKey{}, err
	}
	var nameIDKey [32]byte
	if _, err := rand.Read(nameIDKey[:]); err != nil {
		return directory.SAMLSigningKey{}, err
	}
	return directory.SAMLSigningKey{
		KeyPEM:    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})),
		CertPEM:   string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		NameIDKey: hex.EncodeToString(nameIDKey[:]),
	}, nil
}

func parseKey(b []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("a %T key; responses are signed RSA-SHA256, so an RSA key is required", k)
		}
		return rk, nil
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key", block.Type)
	}
}

func parseCert(b []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	return x509.ParseCertificate(block.Bytes)
}

func samePublicKey(a crypto.PublicKey, b any) error {
	ka, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !ka.Equal(b) {
		return errors.New("the certificate is not for this key")
	}
	if _, ok := a.(*rsa.PublicKey); !ok {
		return fmt.Errorf("a %T key; an RSA key is required", a)
	}
	return nil
}

// LoadKeysFromPEM reads stored key material, as LoadKeys does when no key file is configured.
func LoadKeysFromPEM(m directory.SAMLSigningKey) (Keys, error) {
	nameIDKey, err := hex.DecodeString(m.NameIDKey)
	if err != nil || len(nameIDKey) < 16 {
		return Keys{}, errors.New("stored NameID key is not at least 16 hex-encoded bytes")
	}
	key, err := parseKey([]byte(m.KeyPEM))
	if err != nil {
		return Keys{}, fmt.Errorf("stored key: %w", err)
	}
	cert, err := parseCert([]byte(m.CertPEM))
	if err != nil {
		return Keys{}, fmt.Errorf("stored certificate: %w", err)
	}
	if err := samePublicKey(key.Public(), cert.PublicKey); err != nil {
		return Keys{}, err
	}
	return Keys{Key: key, Cert: cert, NameIDKey: nameIDKey, Generated: true}, nil
}
