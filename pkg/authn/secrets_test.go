package authn_test

import (
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/authn"
	"github.com/tenure-id/tenure/pkg/authn/authntest"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/secretbox"
	"github.com/tenure-id/tenure/pkg/testenv"
)

func newKeyring(t *testing.T, keys ...secretbox.Key) *secretbox.Keyring {
	t.Helper()
	r, err := secretbox.NewKeyring(keys[0], keys[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newSecretKey(t *testing.T) secretbox.Key {
	t.Helper()
	text, err := secretbox.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	k, err := secretbox.ParseKey(text)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// keyedEnv is a sign-in server on the database at url whose store seals with keys (none when
// nil), its clock at, and its error log in logs.
func keyedEnv(t *testing.T, url string, keys *secretbox.Keyring, at time.Time, logs *testenv.SyncBuffer) *env {
	t.Helper()
	opt := sqlstore.Options{}
	if keys != nil {
		opt.Secrets = keys
	}
	e := newEnvStore(t, url, opt, func(o *authn.Options) {
		if logs != nil {
			o.Logger = slog.New(slog.NewTextHandler(logs, nil))
		}
	})
	e.clock.Add(at.Sub(day1))
	return e
}

func rawColumn(t *testing.T, s *sqlstore.Store, personID string) string {
	t.Helper()
	db, err := s.DB()
	if err != nil {
		t.Fatal(err)
	}
	var v string
	if err := db.QueryRow("SELECT totp_secret FROM authn_credentials WHERE person_id = ?", personID).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func setRawColumn(t *testing.T, s *sqlstore.Store, personID, v string) {
	t.Helper()
	db, err := s.DB()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE authn_credentials SET totp_secret = ? WHERE person_id = ?", v, personID); err != nil {
		t.Fatal(err)
	}
}

// signInWith signs in a new browser at e with the TOTP secret and says whether it got a session.
func signInWith(t *testing.T, e *env, p identity.Person, secret string) (authntest.Page, bool) {
	t.Helper()
	c := authntest.NewClient()
	pg, err := authntest.SignIn(e.ctx, c, e.srv.URL, p.Username, goodPassword, secret, e.clock.Now(), protectedPath)
	if err != nil {
		return pg, false
	}
	return pg, pg.URL.Path == protectedPath && strings.Contains(pg.Body, "signed in as "+p.ID)
}

// Enrolment and sign-in work on a sealed secret, and the column never holds the secret.
func TestTOTPSignInWithSealedSecret(t *testing.T) {
	url := "sqlite://" + filepath.Join(t.TempDir(), "t.db")
	k := newSecretKey(t)
	e := keyedEnv(t, url, newKeyring(t, k), day1, nil)
	p := e.hire("PP001", "Richard", "Hendricks")
	_, act := e.activate(p, goodPassword)
	raw := rawColumn(t, e.store, p.ID)
	if !strings.HasPrefix(raw, secretbox.KeyPrefix(k.ID())) || strings.Contains(raw, act.Secret) {
		t.Fatalf("the column holds %q after enrolment, want the secret sealed under %s", raw, k.ID())
	}
	e.clock.Add(time.Minute)
	if pg, ok := signInWith(t, e, p, act.Secret); !ok {
		t.Fatalf("sign-in with a sealed secret: at %s HTTP %d", pg.URL.Path, pg.Status)
	}
}

// A ciphertext copied into another person's row opens for nobody: the other person cannot sign
// in with the owner's authenticator, and the log says why.
func TestSealedSecretMovedToAnotherPersonRefused(t *testing.T) {
	url := "sqlite://" + filepath.Join(t.TempDir(), "t.db")
	logs := &testenv.SyncBuffer{}
	e := keyedEnv(t, url, newKeyring(t, newSecretKey(t)), day1, logs)
	alice := e.hire("PP001", "Alice", "Liddell")
	bob := e.hire("PP002", "Bob", "Builder")
	_, aliceAct := e.activate(alice, goodPassword)
	e.clock.Add(time.Minute)
	_, _ = e.activate(bob, goodPassword)
	setRawColumn(t, e.store, bob.ID, rawColumn(t, e.store, alice.ID))
	e.clock.Add(time.Minute)
	pg, ok := signInWith(t, e, bob, aliceAct.Secret)
	if ok {
		t.Fatal("Bob signed in with Alice's authenticator copied into his row")
	}
	if pg.Status < http.StatusInternalServerError || !strings.Contains(logs.String(), "does not decrypt") || !strings.Contains(logs.String(), bob.ID) {
		t.Errorf("sign-in on a moved secret: HTTP %d, log %q; want a 5xx and a log naming the row that does not decrypt", pg.Status, logs.String())
	}
	if _, ok := signInWith(t, e, alice, aliceAct.Secret); !ok {
		t.Error("Alice can no longer sign in with her own secret")
	}
}

// Rotation: the new key current with the old as previous reads old secrets; a rekey seals them
// under the new key; then the new key alone serves every sign-in, and the old alone none.
func TestKeyRotationKeepsSignIn(t *testing.T) {
	url := "sqlite://" + filepath.Join(t.TempDir(), "t.db")
	oldKey, newKey := newSecretKey(t), newSecretKey(t)
	e := keyedEnv(t, url, newKeyring(t, oldKey), day1, nil)
	// p signs in during the rotation (each sign-in seals the secret afresh, under the current
	// key); q does not, and only the rekey moves q's secret.
	p := e.hire("PP001", "Richard", "Hendricks")
	_, pAct := e.activate(p, goodPassword)
	q := e.hire("PP002", "Monica", "Hall")
	e.clock.Add(time.Minute)
	_, qAct := e.activate(q, goodPassword)

	both := keyedEnv(t, url, newKeyring(t, newKey, oldKey), day1.Add(2*time.Minute), nil)
	if pg, ok := signInWith(t, both, p, pAct.Secret); !ok {
		t.Fatalf("sign-in with the new key current and the old previous: at %s HTTP %d", pg.URL.Path, pg.Status)
	}
	n, err := both.store.RekeyMFASecrets(both.ctx, directory.MFASecretsRekey{})
	if err != nil || n.Rekeyed != 1 || n.From[oldKey.ID()] != 1 {
		t.Fatalf("rekey: %+v, %v; want q's secret moved from the old key", n, err)
	}
	for _, id := range []string{p.ID, q.ID} {
		if raw := rawColumn(t, both.store, id); !strings.HasPrefix(raw, secretbox.KeyPrefix(newKey.ID())) {
			t.Fatalf("after rekey the column holds %q, want it under the new key", raw)
		}
	}
	onlyNew := keyedEnv(t, url, newKeyring(t, newKey), day1.Add(3*time.Minute), nil)
	for _, c := range []struct {
		p      identity.Person
		secret string
	}{{p, pAct.Secret}, {q, qAct.Secret}} {
		if pg, ok := signInWith(t, onlyNew, c.p, c.secret); !ok {
			t.Fatalf("sign-in of %s with the new key alone after rotation: at %s HTTP %d", c.p.EmployeeID, pg.URL.Path, pg.Status)
		}
	}
	onlyOld := keyedEnv(t, url, newKeyring(t, oldKey), day1.Add(4*time.Minute), nil)
	if _, ok := signInWith(t, onlyOld, q, qAct.Secret); ok {
		t.Error("sign-in with only the retired key succeeded")
	}
}

// Secrets enrolled before encryption at rest keep working with a key configured, before and
// after their migration.
func TestLegacyPlainSecretMigrated(t *testing.T) {
	url := "sqlite://" + filepath.Join(t.TempDir(), "t.db")
	legacy := keyedEnv(t, url, nil, day1, nil)
	p := legacy.hire("PP001", "Richard", "Hendricks")
	_, pAct := legacy.activate(p, goodPassword)
	q := legacy.hire("PP002", "Monica", "Hall")
	legacy.clock.Add(time.Minute)
	_, qAct := legacy.activate(q, goodPassword)
	if raw := rawColumn(t, legacy.store, p.ID); raw != pAct.Secret {
		t.Fatalf("without keys the column holds %q, want the plain secret (as before encryption at rest)", raw)
	}
	k := newSecretKey(t)
	keyed := keyedEnv(t, url, newKeyring(t, k), day1.Add(2*time.Minute), nil)
	// Before any migration: the legacy value is read as it is.
	if pg, ok := signInWith(t, keyed, p, pAct.Secret); !ok {
		t.Fatalf("sign-in on a legacy plain secret with a key configured: at %s HTTP %d", pg.URL.Path, pg.Status)
	}
	if n, err := keyed.store.RekeyMFASecrets(keyed.ctx, directory.MFASecretsRekey{PlainOnly: true}); err != nil || n.From["plain"] != 1 {
		t.Fatalf("migration: %+v, %v; want q's plain secret sealed (p's was at sign-in)", n, err)
	}
	for _, id := range []string{p.ID, q.ID} {
		if raw := rawColumn(t, keyed.store, id); !strings.HasPrefix(raw, secretbox.KeyPrefix(k.ID())) {
			t.Fatalf("after migration the column holds %q", raw)
		}
	}
	keyed.clock.Add(time.Minute)
	if pg, ok := signInWith(t, keyed, q, qAct.Secret); !ok {
		t.Fatalf("sign-in after migration: at %s HTTP %d", pg.URL.Path, pg.Status)
	}
}
