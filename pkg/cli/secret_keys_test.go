package cli

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/secretbox"
)

const cliTOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

// giveTOTP stores a TOTP secret for the person as a store without keys does: in plain text,
// as every release before encryption at rest did.
func giveTOTP(t *testing.T, db, login string) string {
	t.Helper()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, db, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.LookupPerson(ctx, login)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateCredential(ctx, p.ID, "authn.totp.enrol", func(c *directory.Credential) error {
		c.TOTPSecret, c.TOTPConfirmed = cliTOTP, true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return p.ID
}

// rawTOTP is what the database column holds.
func rawTOTP(t *testing.T, db, personID string) string {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), db, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	raw, err := s.DB()
	if err != nil {
		t.Fatal(err)
	}
	var v string
	if err := raw.QueryRow("SELECT totp_secret FROM authn_credentials WHERE person_id = ?", personID).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func readKeyID(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := secretbox.ParseKey(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return k.ID()
}

// A database from before encryption at rest: serve refuses to start without a key rather
// than go on writing plain secrets; init makes the SQLite default key (0600) and seals them;
// a wrong configured key is a clear startup error, not a wave of failed sign-ins.
func TestServeKeyErrorsAndInitMigration(t *testing.T) {
	db := tempDB(t)
	seed(t, db)
	id := giveTOTP(t, db, "gilfoyle")
	env := map[string]string{"TENURE_DB": db}
	serve := func(env map[string]string) result { return run(t, env, "serve", "--listen", freePort(t)) }

	if r := serve(env); r.code != ExitError || !strings.Contains(r.stderr, "1 MFA secrets are stored in plain text") ||
		!strings.Contains(r.stderr, "tenure init") {
		t.Fatalf("serve with plain secrets and no key: exit %d, stderr %q; want a refusal pointing to tenure init", r.code, r.stderr)
	}
	if r := run(t, env, "init"); r.code != ExitOK {
		t.Fatalf("init: exit %d, stderr %q", r.code, r.stderr)
	}
	keyFile := strings.TrimPrefix(db, "sqlite://") + ".key"
	fi, err := os.Stat(keyFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("default key file: %v, %v; want it made with mode 0600", fi, err)
	}
	raw := rawTOTP(t, db, id)
	if !strings.HasPrefix(raw, secretbox.KeyPrefix(readKeyID(t, keyFile))) || strings.Contains(raw, cliTOTP[:16]) {
		t.Errorf("after init the column holds %q, want the secret sealed under the new key", raw)
	}
	if r := run(t, env, "init"); r.code != ExitOK || rawTOTP(t, db, id) != raw {
		t.Errorf("init again: exit %d, stderr %q; it must keep the key and leave sealed secrets alone", r.code, r.stderr)
	}

	other, err := secretbox.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "tenure.yaml")
	writeFile(t, cfg, "authn:\n  secret_key_env: TENURE_MFA_KEY\n")
	for name, c := range map[string]struct {
		env  map[string]string
		want string
	}{
		"wrong key": {map[string]string{"TENURE_DB": db, "TENURE_CONFIG": cfg, "TENURE_MFA_KEY": other}, "which the configuration does not hold"},
		"empty env": {map[string]string{"TENURE_DB": db, "TENURE_CONFIG": cfg}, "TENURE_MFA_KEY is empty or unset"},
		"bad key":   {map[string]string{"TENURE_DB": db, "TENURE_CONFIG": cfg, "TENURE_MFA_KEY": "c2hvcnQ="}, "32 random bytes"},
	} {
		if r := serve(c.env); r.code != ExitError || !strings.Contains(r.stderr, c.want) {
			t.Errorf("serve with %s: exit %d, stderr %q; want %q", name, r.code, r.stderr, c.want)
		}
	}
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	if r := serve(env); r.code != ExitError || !strings.Contains(r.stderr, "are sealed under key") || !strings.Contains(r.stderr, "is missing") {
		t.Errorf("serve after the key file was lost: exit %d, stderr %q; want the missing key named", r.code, r.stderr)
	}
}

// Rotation: generate a key, make it current with the old one as previous, rotate; then the new
// key alone opens every secret, and the old one alone is refused at once.
func TestKeyGenerateAndRotate(t *testing.T) {
	db := tempDB(t)
	seed(t, db)
	id := giveTOTP(t, db, "gilfoyle")
	vars := map[string]string{"TENURE_DB": db, "TENURE_ACTOR": "ops"}
	if r := run(t, vars, "init"); r.code != ExitOK {
		t.Fatalf("init: exit %d, stderr %q", r.code, r.stderr)
	}
	oldFile := strings.TrimPrefix(db, "sqlite://") + ".key"
	newFile := filepath.Join(t.TempDir(), "mfa.key")
	r := run(t, vars, "credentials", "key", "generate", "--out", newFile)
	if r.code != ExitOK {
		t.Fatalf("key generate: exit %d, stderr %q", r.code, r.stderr)
	}
	if fi, err := os.Stat(newFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("generated key file: %v, %v; want mode 0600", fi, err)
	}
	if r := run(t, vars, "credentials", "key", "generate", "--out", newFile); r.code != ExitError {
		t.Errorf("key generate over an existing file: exit %d, want a refusal", r.code)
	}
	if r := run(t, vars, "credentials", "key", "generate"); r.code != ExitOK || len(strings.TrimSpace(r.stdout)) != 44 {
		t.Errorf("key generate to stdout: exit %d, stdout %q; want the base64 key alone", r.code, r.stdout)
	}
	newID := readKeyID(t, newFile)

	both := filepath.Join(t.TempDir(), "both.yaml")
	writeFile(t, both, "authn:\n  secret_key_file: "+newFile+"\n  previous_secret_keys:\n    - file: "+oldFile+"\n")
	vars["TENURE_CONFIG"] = both
	oldID := readKeyID(t, oldFile)
	status := func(want ...keyState) {
		t.Helper()
		r := run(t, vars, "-o", "json", "credentials", "key", "status")
		var got []keyState
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || !slices.Equal(got, want) {
			t.Errorf("key status: exit %d, %s (%v); want %+v", r.code, r.stdout, err, want)
		}
	}
	// Mid-rotation: the new key is current and seals nothing yet; the old one still must stay.
	status(keyState{newID, "current", 0}, keyState{oldID, "previous", 1})
	r = run(t, vars, "-o", "json", "credentials", "key", "rotate", "--batch", "1")
	if r.code != ExitOK {
		t.Fatalf("key rotate: exit %d, stderr %q", r.code, r.stderr)
	}
	var got directory.MFASecretsRekeyed
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || got.Rekeyed != 1 || got.Key != newID {
		t.Fatalf("key rotate printed %q (%v); want 1 secret rekeyed to %s", r.stdout, err, newID)
	}
	if raw := rawTOTP(t, db, id); !strings.HasPrefix(raw, secretbox.KeyPrefix(newID)) {
		t.Errorf("after rotation the column holds %q, want it under the new key", raw)
	}
	status(keyState{newID, "current", 1}) // the old key may go

	e := &env{getenv: os.Getenv, logger: slog.New(slog.DiscardHandler)}
	e.cfg.DB, e.cfg.Authn.SecretKeyFile = db, newFile
	keys, err := e.mfaKeyring()
	if err != nil {
		t.Fatal(err)
	}
	s, err := sqlstore.Open(context.Background(), db, sqlstore.Options{Secrets: keys})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if c, err := s.GetCredential(context.Background(), id); err != nil || c.TOTPSecret != cliTOTP {
		t.Errorf("with the new key alone: %q, %v", c.TOTPSecret, err)
	}
	oldOnly := filepath.Join(t.TempDir(), "old.yaml")
	writeFile(t, oldOnly, "authn:\n  secret_key_file: "+oldFile+"\n")
	vars["TENURE_CONFIG"] = oldOnly
	if r := run(t, vars, "credentials", "key", "status"); r.code != ExitError || !strings.Contains(r.stdout, newID+"  unknown") {
		t.Errorf("key status with only the retired key: exit %d\n%s%s; want the new key unknown and exit 1", r.code, r.stdout, r.stderr)
	}
	if r := run(t, vars, "serve", "--listen", freePort(t)); r.code != ExitError || !strings.Contains(r.stderr, newID) {
		t.Errorf("serve with only the retired key: exit %d, stderr %q; want a refusal naming key %s", r.code, r.stderr, newID)
	}
}
