package idp_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore/sqlstoretest"
	"github.com/tenure-id/tenure/pkg/idp"
)

func TestLoadKeys(t *testing.T) {
	ctx := context.Background()
	store := sqlstoretest.SQLite(t, sqlstore.Options{})
	first, err := idp.LoadKeys(ctx, config.IdP{}, store, "idp.test")
	if err != nil {
		t.Fatal(err)
	}
	again, err := idp.LoadKeys(ctx, config.IdP{}, store, "idp.test")
	if err != nil {
		t.Fatal(err)
	}
	if !first.Generated || !first.Cert.Equal(again.Cert) || !bytes.Equal(first.NameIDKey, again.NameIDKey) {
		t.Fatal("a second start generated new keys; the first ones must be kept")
	}
	if n := len(auditRecords(t, store, "saml_signing_key.create")); n != 1 {
		t.Errorf("key generation audited %d times, want once", n)
	}

	// Operator-supplied files: the current pair signs, the next certificate is staged, and the
	// persistent NameID key stays the generated one so service providers see the same people.
	dir := t.TempDir()
	cur, err := idp.GenerateSigningKey("current", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	next, err := idp.GenerateSigningKey("next", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg := config.IdP{KeyFile: write("key.pem", cur.KeyPEM), CertFile: write("cert.pem", cur.CertPEM), NextCertFile: write("next.pem", next.CertPEM)}
	files, err := idp.LoadKeys(ctx, cfg, store, "idp.test")
	if err != nil {
		t.Fatal(err)
	}
	if files.Generated || files.Cert.Subject.CommonName != "current" || files.NextCert == nil || files.NextCert.Subject.CommonName != "next" {
		t.Errorf("configured keys: generated %v, cert %v, next %v", files.Generated, files.Cert.Subject, files.NextCert)
	}
	if !bytes.Equal(files.NameIDKey, first.NameIDKey) {
		t.Error("configuring key files changed the persistent NameID key")
	}

	for _, tc := range []struct {
		name string
		cfg  config.IdP
		want string
	}{
		{"key and certificate of different pairs", config.IdP{KeyFile: cfg.KeyFile, CertFile: cfg.NextCertFile}, "not for this key"},
		{"next certificate is the current one", config.IdP{KeyFile: cfg.KeyFile, CertFile: cfg.CertFile, NextCertFile: cfg.CertFile}, "is the current certificate"},
		{"missing key file", config.IdP{KeyFile: filepath.Join(dir, "none.pem"), CertFile: cfg.CertFile}, "idp.key_file"},
		{"certificate in the key file", config.IdP{KeyFile: cfg.CertFile, CertFile: cfg.CertFile}, "not a private key"},
	} {
		if _, err := idp.LoadKeys(ctx, tc.cfg, store, "idp.test"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
	// No secret reaches the audit log.
	recs, _ := store.AuditRecords(ctx, 0, 100)
	for _, r := range recs {
		if strings.Contains(string(r.After), "PRIVATE KEY") || strings.Contains(string(r.After), hex.EncodeToString(first.NameIDKey)) {
			t.Errorf("audit record %s holds key material", r.Action)
		}
	}
}
