package conformance

import (
	"database/sql"
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/secretbox"
)

// SecretDB is one fresh, migrated database seen two ways: through stores opened with a given
// keyring (nil: none), all on that database, and raw, to check what its columns really hold.
type SecretDB struct {
	Open func(keys *secretbox.Keyring) directory.Store
	Raw  *sql.DB
}

// RunSecretTests checks how a backend keeps second-factor secrets at rest. newDB gives a fresh
// database per subtest.
func RunSecretTests(t *testing.T, newDB func(t *testing.T) SecretDB) {
	t.Helper()
	for _, st := range []struct {
		name string
		run  func(*testing.T, SecretDB)
	}{
		{"MFASecretEncryptedAtRest", testMFASecretEncryptedAtRest},
		{"MFASecretBoundToPerson", testMFASecretBoundToPerson},
		{"MFASecretLegacyPlain", testMFASecretLegacyPlain},
		{"MFASecretRotation", testMFASecretRotation},
	} {
		t.Run(st.name, func(t *testing.T) { st.run(t, newDB(t)) })
	}
}

const plainTOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

func testKey(t *testing.T, seed byte) secretbox.Key {
	t.Helper()
	raw := make([]byte, secretbox.KeySize)
	for i := range raw {
		raw[i] = seed + byte(i)
	}
	k, err := secretbox.NewKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testKeyring(t *testing.T, current secretbox.Key, previous ...secretbox.Key) *secretbox.Keyring {
	t.Helper()
	r, err := secretbox.NewKeyring(current, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func setTOTP(t *testing.T, s directory.Store, personID, secret string) {
	t.Helper()
	if _, err := s.UpdateCredential(testContext(t), personID, "authn.totp.enrol", func(c *directory.Credential) error {
		c.TOTPSecret, c.TOTPConfirmed = secret, true
		return nil
	}); err != nil {
		t.Fatalf("store a TOTP secret: %v", err)
	}
}

// rawSecret reads the column past the store. Person IDs are UUIDs the store made, so they are
// spliced in rather than bound: the two backends spell placeholders differently.
func rawSecret(t *testing.T, db *sql.DB, personID string) string {
	t.Helper()
	var v string
	if err := db.QueryRowContext(testContext(t), "SELECT totp_secret FROM authn_credentials WHERE person_id = '"+personID+"'").Scan(&v); err != nil {
		t.Fatalf("read the raw column: %v", err)
	}
	return v
}

func setRawSecret(t *testing.T, db *sql.DB, personID, v string) {
	t.Helper()
	if _, err := db.ExecContext(testContext(t), "UPDATE authn_credentials SET totp_secret = '"+v+"' WHERE person_id = '"+personID+"'"); err != nil {
		t.Fatalf("write the raw column: %v", err)
	}
}

func wantSecret(t *testing.T, s directory.Store, personID, want, what string) {
	t.Helper()
	c, err := s.GetCredential(testContext(t), personID)
	if err != nil || c.TOTPSecret != want {
		t.Errorf("%s: GetCredential = %q, %v; want %q", what, c.TOTPSecret, err, want)
	}
}

func testMFASecretEncryptedAtRest(t *testing.T, db SecretDB) {
	a := testKey(t, 1)
	s := db.Open(testKeyring(t, a))
	p := mustCreatePerson(t, testContext(t), s, newPerson("E001"))
	setTOTP(t, s, p.ID, plainTOTP)
	raw := rawSecret(t, db.Raw, p.ID)
	if strings.Contains(strings.ToUpper(raw), plainTOTP[:16]) || !strings.HasPrefix(raw, secretbox.KeyPrefix(a.ID())) {
		t.Errorf("raw column = %q, want a value sealed under key %s without the secret in it", raw, a.ID())
	}
	wantSecret(t, s, p.ID, plainTOTP, "sealed secret")
	// Every write seals afresh (new nonce), and a sign-in's update keeps the secret readable.
	if _, err := s.UpdateCredential(testContext(t), p.ID, "authn.totp.use", func(c *directory.Credential) error {
		c.TOTPLastStep++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	wantSecret(t, s, p.ID, plainTOTP, "after another update")
	keys, err := s.MFASecretKeys(testContext(t))
	if err != nil || !maps.Equal(keys, map[string]int{a.ID(): 1}) {
		t.Errorf("MFASecretKeys = %v, %v; want {%s: 1}", keys, err, a.ID())
	}
}

func testMFASecretBoundToPerson(t *testing.T, db SecretDB) {
	s := db.Open(testKeyring(t, testKey(t, 1)))
	ctx := testContext(t)
	alice := mustCreatePerson(t, ctx, s, newPerson("E001"))
	mallory := mustCreatePerson(t, ctx, s, newPerson("E002"))
	setTOTP(t, s, alice.ID, plainTOTP)
	setTOTP(t, s, mallory.ID, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
	setRawSecret(t, db.Raw, mallory.ID, rawSecret(t, db.Raw, alice.ID))
	if _, err := s.GetCredential(ctx, mallory.ID); !errors.Is(err, secretbox.ErrDecrypt) || !strings.Contains(err.Error(), mallory.ID) {
		t.Errorf("GetCredential of a row holding another person's ciphertext: %v, want ErrDecrypt naming the person", err)
	}
	if _, err := s.UpdateCredential(ctx, mallory.ID, "authn.totp.use", func(*directory.Credential) error { return nil }); !errors.Is(err, secretbox.ErrDecrypt) {
		t.Errorf("UpdateCredential (a sign-in) of that row: %v, want ErrDecrypt", err)
	}
	wantSecret(t, s, alice.ID, plainTOTP, "the owner's secret")
}

func testMFASecretLegacyPlain(t *testing.T, db SecretDB) {
	ctx := testContext(t)
	plain := db.Open(nil)
	p := mustCreatePerson(t, ctx, plain, newPerson("E001"))
	q := mustCreatePerson(t, ctx, plain, newPerson("E002"))
	setTOTP(t, plain, p.ID, plainTOTP)
	setTOTP(t, plain, q.ID, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
	if raw := rawSecret(t, db.Raw, p.ID); raw != plainTOTP {
		t.Fatalf("a store without keys stored %q, want the value as given", raw)
	}
	if _, err := plain.RekeyMFASecrets(ctx, directory.MFASecretsRekey{}); err == nil {
		t.Error("RekeyMFASecrets without a keyring succeeded, want an error")
	}
	a := testKey(t, 1)
	s := db.Open(testKeyring(t, a))
	wantSecret(t, s, p.ID, plainTOTP, "legacy plain value with a keyring")
	if keys, err := s.MFASecretKeys(ctx); err != nil || !maps.Equal(keys, map[string]int{"": 2}) {
		t.Errorf("MFASecretKeys = %v, %v; want {\"\": 2}", keys, err)
	}
	seq := lastSeq(t, s)
	n, err := s.RekeyMFASecrets(ctx, directory.MFASecretsRekey{PlainOnly: true, Batch: 1})
	if err != nil || n.Rekeyed != 2 || n.From["plain"] != 2 || n.Key != a.ID() || n.Batches != 2 {
		t.Fatalf("RekeyMFASecrets(plain only) = %+v, %v; want 2 rekeyed from plain in 2 batches", n, err)
	}
	for _, id := range []string{p.ID, q.ID} {
		if raw := rawSecret(t, db.Raw, id); !strings.HasPrefix(raw, secretbox.KeyPrefix(a.ID())) {
			t.Errorf("after migration the raw column holds %q, want a sealed value", raw)
		}
	}
	wantSecret(t, s, p.ID, plainTOTP, "migrated secret")
	wantOneRekeyRecord(t, s, seq)
	if n, err := s.RekeyMFASecrets(ctx, directory.MFASecretsRekey{PlainOnly: true}); err != nil || n.Rekeyed != 0 {
		t.Errorf("second migration = %+v, %v; want nothing to do", n, err)
	}
	if len(auditSince(t, s, seq)) != 1 {
		t.Error("a rekey that changed nothing was audited")
	}
}

func testMFASecretRotation(t *testing.T, db SecretDB) {
	ctx := testContext(t)
	oldKey, newKey := testKey(t, 1), testKey(t, 100)
	sOld := db.Open(testKeyring(t, oldKey))
	var ids []string
	for _, e := range []string{"E001", "E002", "E003"} {
		p := mustCreatePerson(t, ctx, sOld, newPerson(e))
		setTOTP(t, sOld, p.ID, plainTOTP)
		ids = append(ids, p.ID)
	}
	both := db.Open(testKeyring(t, newKey, oldKey))
	wantSecret(t, both, ids[0], plainTOTP, "old-key secret with the old key as previous")
	seq := lastSeq(t, both)
	n, err := both.RekeyMFASecrets(ctx, directory.MFASecretsRekey{Batch: 2})
	if err != nil || n.Rekeyed != 3 || n.From[oldKey.ID()] != 3 || n.Batches != 2 || n.Key != newKey.ID() {
		t.Fatalf("RekeyMFASecrets = %+v, %v; want 3 rekeyed from %s in 2 batches", n, err, oldKey.ID())
	}
	wantOneRekeyRecord(t, both, seq)
	if keys, err := both.MFASecretKeys(ctx); err != nil || !maps.Equal(keys, map[string]int{newKey.ID(): 3}) {
		t.Errorf("MFASecretKeys after rotation = %v, %v; want all under %s", keys, err, newKey.ID())
	}
	onlyNew := db.Open(testKeyring(t, newKey))
	for _, id := range ids {
		wantSecret(t, onlyNew, id, plainTOTP, "rotated secret with the new key alone")
	}
	if _, err := sOld.GetCredential(ctx, ids[0]); !errors.Is(err, secretbox.ErrUnknownKey) || !strings.Contains(err.Error(), newKey.ID()) {
		t.Errorf("GetCredential with only the retired key: %v, want ErrUnknownKey naming key %s", err, newKey.ID())
	}
}

func lastSeq(t *testing.T, s directory.Store) int64 {
	t.Helper()
	recs := auditSince(t, s, 0)
	if len(recs) == 0 {
		return 0
	}
	return recs[len(recs)-1].Seq
}

func wantOneRekeyRecord(t *testing.T, s directory.Store, seq int64) {
	t.Helper()
	var rekeys []identity.AuditRecord
	for _, r := range auditSince(t, s, seq) {
		if r.Action == "authn.mfa_secrets.rekey" {
			rekeys = append(rekeys, r)
		}
		if strings.Contains(string(r.Before)+string(r.After), plainTOTP) {
			t.Errorf("audit record %s holds the secret", r.Action)
		}
	}
	if len(rekeys) != 1 {
		t.Errorf("%d authn.mfa_secrets.rekey records, want one summary for the run", len(rekeys))
	}
}
