package conformance

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

func authnTests() []subTest {
	return []subTest{
		{"AuthnCredentialUpdate", testAuthnCredentialUpdate},
		{"AuthnCredentialUpdateAborts", testAuthnCredentialUpdateAborts},
		{"AuthnSessionLifecycle", testAuthnSessionLifecycle},
		{"AuthnActivationSingleUse", testAuthnActivationSingleUse},
		{"AuthnThrottleStates", testAuthnThrottleStates},
		{"AuthnAuditHasNoSecrets", testAuthnAuditHasNoSecrets},
		{"AuthnWebAuthnKeys", testAuthnWebAuthnKeys},
		{"AuthnSessionChallenge", testAuthnSessionChallenge},
	}
}

func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func testAuthnCredentialUpdate(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	p := mustCreatePerson(t, ctx, s, newPerson("E001"))
	if _, err := s.GetCredential(ctx, p.ID); !errors.Is(err, identity.ErrNotFound) {
		t.Fatalf("GetCredential before any: %v, want ErrNotFound", err)
	}
	set := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	c, err := s.UpdateCredential(ctx, p.ID, "authn.password.set", func(c *directory.Credential) error {
		if c.PersonID != p.ID || c.Version != 0 || c.PasswordHash != "" {
			t.Errorf("first update sees %+v, want a zero credential of %s", c, p.ID)
		}
		c.PasswordHash, c.PasswordSetAt = "$argon2id$v=19$m=7168,t=5,p=1$c2FsdA$a2V5", &set
		c.TOTPSecret, c.TOTPConfirmed, c.TOTPLastStep = "JBSWY3DPEHPK3PXP", true, 42
		c.RecoveryCodes = []string{hashOf("a"), hashOf("b")}
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateCredential: %v", err)
	}
	if c.Version != 1 {
		t.Errorf("Version = %d, want 1", c.Version)
	}
	got, err := s.GetCredential(ctx, p.ID)
	if err != nil {
		t.Fatalf("GetCredential: %v", err)
	}
	if got.PasswordHash != c.PasswordHash || got.PasswordSetAt == nil || !got.PasswordSetAt.Equal(set) ||
		got.TOTPSecret != "JBSWY3DPEHPK3PXP" || !got.TOTPConfirmed || got.TOTPLastStep != 42 ||
		!slices.Equal(got.RecoveryCodes, c.RecoveryCodes) || got.Version != 1 {
		t.Errorf("GetCredential = %+v, want what was stored %+v", got, c)
	}
	got, err = s.UpdateCredential(ctx, p.ID, "authn.recovery_code.use", func(c *directory.Credential) error {
		c.RecoveryCodes = c.RecoveryCodes[1:]
		return nil
	})
	if err != nil || got.Version != 2 || len(got.RecoveryCodes) != 1 || got.PasswordHash != c.PasswordHash {
		t.Errorf("second update = %+v, %v; want version 2, one code left, password kept", got, err)
	}
	if _, err := s.UpdateCredential(ctx, "no-such-person", "authn.password.set", func(*directory.Credential) error { return nil }); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("UpdateCredential of an unknown person: %v, want ErrNotFound", err)
	}
}

func testAuthnCredentialUpdateAborts(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	p := mustCreatePerson(t, ctx, s, newPerson("E001"))
	before := len(verifyAuditLog(t, ctx, s))
	_, err := s.UpdateCredential(ctx, p.ID, "authn.password.set", func(c *directory.Credential) error {
		c.PasswordHash = "changed"
		return errSentinel
	})
	if !errors.Is(err, errSentinel) {
		t.Fatalf("UpdateCredential with a failing fn: %v, want the sentinel", err)
	}
	if _, err := s.GetCredential(ctx, p.ID); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("aborted update stored a credential: %v", err)
	}
	if n := len(verifyAuditLog(t, ctx, s)); n != before {
		t.Errorf("aborted update appended %d audit records", n-before)
	}
}

func newAuthSession(personID, token, stage string, at time.Time) directory.AuthSession {
	return directory.AuthSession{TokenHash: hashOf(token), PersonID: personID, Stage: stage, Methods: []string{"pwd", "totp"},
		AuthnAt: at, LastSeen: at, ExpiresAt: at.Add(10 * time.Hour)}
}

func testAuthnSessionLifecycle(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	p := mustCreatePerson(t, ctx, s, newPerson("E001"))
	at := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	pending, err := s.CreateAuthSession(ctx, newAuthSession(p.ID, "t1", directory.StageMFA, at))
	if err != nil || pending.ID == "" {
		t.Fatalf("CreateAuthSession: %+v, %v", pending, err)
	}
	if _, err := s.CreateAuthSession(ctx, newAuthSession(p.ID, "t1", directory.StageMFA, at)); !errors.Is(err, identity.ErrConflict) {
		t.Errorf("second session with the same token: %v, want ErrConflict", err)
	}
	if _, err := s.CreateAuthSession(ctx, newAuthSession(p.ID, "t9", "bogus", at)); !errors.Is(err, identity.ErrInvalid) {
		t.Errorf("session with stage bogus: %v, want ErrInvalid", err)
	}
	signed, err := s.ReplaceAuthSession(ctx, pending.ID, newAuthSession(p.ID, "t2", directory.StageSigned, at))
	if err != nil {
		t.Fatalf("ReplaceAuthSession: %v", err)
	}
	if _, err := s.GetAuthSession(ctx, hashOf("t1")); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("replaced session still found: %v", err)
	}
	if _, err := s.ReplaceAuthSession(ctx, pending.ID, newAuthSession(p.ID, "t3", directory.StageSigned, at)); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("replacing a gone session: %v, want ErrNotFound (one pending sign-in becomes one session)", err)
	}
	got, err := s.GetAuthSession(ctx, hashOf("t2"))
	if err != nil || got.ID != signed.ID || got.Stage != directory.StageSigned || !slices.Equal(got.Methods, []string{"pwd", "totp"}) ||
		!got.AuthnAt.Equal(at) || !got.ExpiresAt.Equal(at.Add(10*time.Hour)) {
		t.Fatalf("GetAuthSession = %+v, %v", got, err)
	}
	later := at.Add(5 * time.Minute)
	if err := s.TouchAuthSession(ctx, signed.ID, later); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchAuthSession(ctx, signed.ID, at); err != nil { // never backwards
		t.Fatal(err)
	}
	if got, _ := s.GetAuthSession(ctx, hashOf("t2")); !got.LastSeen.Equal(later) {
		t.Errorf("LastSeen = %s, want %s", got.LastSeen, later)
	}
	other, err := s.CreateAuthSession(ctx, newAuthSession(p.ID, "t4", directory.StageSigned, at))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAuthSession(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAuthSession(ctx, other.ID); err != nil {
		t.Errorf("deleting a gone session: %v, want no error", err)
	}
	if _, err := s.CreateAuthSession(ctx, newAuthSession(p.ID, "t5", directory.StageSigned, at)); err != nil {
		t.Fatal(err)
	}
	n, err := s.DeletePersonAuthSessions(ctx, p.ID)
	if err != nil || n != 2 {
		t.Errorf("DeletePersonAuthSessions = %d, %v; want 2 (t2 and t5)", n, err)
	}
	if _, err := s.GetAuthSession(ctx, hashOf("t5")); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("session survived DeletePersonAuthSessions: %v", err)
	}
}

func testAuthnActivationSingleUse(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	p := mustCreatePerson(t, ctx, s, newPerson("E001"))
	exp := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	first, err := s.CreateActivation(ctx, directory.Activation{TokenHash: hashOf("a1"), PersonID: p.ID, ExpiresAt: exp})
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.CreateActivation(ctx, directory.Activation{TokenHash: hashOf("a2"), PersonID: p.ID, ExpiresAt: exp})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetActivation(ctx, hashOf("a1")); err != nil || got.UsedAt == nil || got.ID != first.ID {
		t.Errorf("first link after a second was issued = %+v, %v; want it retired (UsedAt set)", got, err)
	}
	got, err := s.GetActivation(ctx, hashOf("a2"))
	if err != nil || got.UsedAt != nil || !got.ExpiresAt.Equal(exp) || got.PersonID != p.ID {
		t.Fatalf("GetActivation = %+v, %v", got, err)
	}
	at := exp.Add(-time.Hour)
	used, err := s.UseActivation(ctx, second.ID, at)
	if err != nil || used.UsedAt == nil || !used.UsedAt.Equal(at) {
		t.Fatalf("UseActivation = %+v, %v", used, err)
	}
	if _, err := s.UseActivation(ctx, second.ID, at); !errors.Is(err, identity.ErrConflict) {
		t.Errorf("using a link twice: %v, want ErrConflict", err)
	}
	if _, err := s.CreateActivation(ctx, directory.Activation{TokenHash: hashOf("a3"), PersonID: "nobody", ExpiresAt: exp}); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("link for an unknown person: %v, want ErrNotFound", err)
	}
	if _, err := s.GetActivation(ctx, hashOf("zz")); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("unknown link: %v, want ErrNotFound", err)
	}
}

func testAuthnThrottleStates(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	at := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	long := "login:" + strings.Repeat("x", 320)
	for _, st := range []directory.ThrottleState{
		{Key: "ip:10.0.0.1", Failures: 1, LastFailure: at, LockedUntil: at},
		{Key: long, Failures: 2, LastFailure: at, LockedUntil: at.Add(time.Minute)},
		{Key: "ip:10.0.0.1", Failures: 3, LastFailure: at, LockedUntil: at.Add(30 * time.Second)},
	} {
		if err := s.PutThrottleState(ctx, st); err != nil {
			t.Fatalf("PutThrottleState(%.20s): %v", st.Key, err)
		}
	}
	got, err := s.ThrottleStates(ctx, []string{"ip:10.0.0.1", long, "account:never"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("ThrottleStates = %+v, want two states", got)
	}
	for _, st := range got {
		if st.Key == "ip:10.0.0.1" && (st.Failures != 3 || !st.LockedUntil.Equal(at.Add(30*time.Second))) {
			t.Errorf("replaced state = %+v, want 3 failures locked until +30s", st)
		}
	}
	if err := s.DeleteThrottleState(ctx, "ip:10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ThrottleStates(ctx, []string{"ip:10.0.0.1"}); len(got) != 0 {
		t.Errorf("deleted state still read: %+v", got)
	}
}

// testAuthnAuditHasNoSecrets writes every kind of authn change and checks the audit records
// name what changed but hold no hash, secret or token.
func testAuthnAuditHasNoSecrets(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	p := mustCreatePerson(t, ctx, s, newPerson("E001"))
	at := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	secrets := []string{"$argon2id$v=19$m=7168,t=5,p=1$c2FsdA$a2V5", "JBSWY3DPEHPK3PXP", hashOf("rc1"), hashOf("tok"), hashOf("act")}
	if _, err := s.UpdateCredential(ctx, p.ID, "authn.totp.enrol", func(c *directory.Credential) error {
		c.PasswordHash, c.TOTPSecret, c.TOTPConfirmed, c.RecoveryCodes = secrets[0], secrets[1], true, []string{secrets[2]}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sess, err := s.CreateAuthSession(ctx, newAuthSession(p.ID, "tok", directory.StageSigned, at))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAuthSession(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	a, err := s.CreateActivation(ctx, directory.Activation{TokenHash: hashOf("act"), PersonID: p.ID, ExpiresAt: at.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UseActivation(ctx, a.ID, at); err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range verifyAuditLog(t, ctx, s) {
		blob, _ := json.Marshal(r)
		for _, sec := range secrets {
			if strings.Contains(string(blob), sec) {
				t.Errorf("audit record %s holds a secret or hash: %s", r.Action, blob)
			}
		}
		if strings.HasPrefix(r.Action, "authn.") {
			actions = append(actions, r.Action)
		}
	}
	want := []string{"authn.totp.enrol", "authn.session.create", "authn.session.end", "authn.activation.issue", "authn.activation.use"}
	if !slices.Equal(actions, want) {
		t.Errorf("audit actions = %v, want %v", actions, want)
	}
}

func testAuthnWebAuthnKeys(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	p := mustCreatePerson(t, ctx, s, newPerson("E001"))
	q := mustCreatePerson(t, ctx, s, newPerson("E002"))
	longID := strings.Repeat("A", 1364) // a 1023-byte credential ID, the most WebAuthn allows
	k1, err := s.AddWebAuthnKey(ctx, directory.WebAuthnKey{PersonID: p.ID, CredentialID: longID, Name: "YubiKey", Data: `{"signCount":1}`})
	if err != nil || k1.ID == "" || k1.CreatedAt.IsZero() {
		t.Fatalf("AddWebAuthnKey = %+v, %v", k1, err)
	}
	if _, err := s.AddWebAuthnKey(ctx, directory.WebAuthnKey{PersonID: q.ID, CredentialID: longID, Data: "{}"}); !errors.Is(err, identity.ErrConflict) {
		t.Errorf("same credential ID for another person: %v, want ErrConflict", err)
	}
	if _, err := s.AddWebAuthnKey(ctx, directory.WebAuthnKey{PersonID: "nobody", CredentialID: "x", Data: "{}"}); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("key of an unknown person: %v, want ErrNotFound", err)
	}
	if _, err := s.AddWebAuthnKey(ctx, directory.WebAuthnKey{PersonID: p.ID, CredentialID: "y"}); !errors.Is(err, identity.ErrInvalid) {
		t.Errorf("key without data: %v, want ErrInvalid", err)
	}
	if _, err := s.AddWebAuthnKey(ctx, directory.WebAuthnKey{PersonID: p.ID, CredentialID: "k2", Name: "Phone", Data: "{}"}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	if err := s.UseWebAuthnKey(ctx, k1.ID, `{"signCount":2}`, at); err != nil {
		t.Fatal(err)
	}
	if err := s.UseWebAuthnKey(ctx, "missing", "{}", at); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("using a missing key: %v, want ErrNotFound", err)
	}
	keys, err := s.WebAuthnKeys(ctx, p.ID)
	if err != nil || len(keys) != 2 || keys[0].ID != k1.ID || keys[0].Data != `{"signCount":2}` ||
		keys[0].LastUsedAt == nil || !keys[0].LastUsedAt.Equal(at) || keys[1].Name != "Phone" {
		t.Fatalf("WebAuthnKeys = %+v, %v", keys, err)
	}
	if n, err := s.DeletePersonWebAuthnKeys(ctx, p.ID); err != nil || n != 2 {
		t.Errorf("DeletePersonWebAuthnKeys = %d, %v; want 2", n, err)
	}
	if keys, _ := s.WebAuthnKeys(ctx, p.ID); len(keys) != 0 {
		t.Errorf("%d keys left", len(keys))
	}
	for _, r := range verifyAuditLog(t, ctx, s) {
		if strings.Contains(string(r.After)+string(r.Before), "signCount") || strings.Contains(string(r.After), longID) {
			t.Errorf("audit record %s holds key data: %s", r.Action, r.After)
		}
	}
}

func testAuthnSessionChallenge(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	p := mustCreatePerson(t, ctx, s, newPerson("E001"))
	sess, err := s.CreateAuthSession(ctx, newAuthSession(p.ID, "t1", directory.StageMFA, time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.TakeAuthSessionChallenge(ctx, sess.ID); err != nil || got != "" {
		t.Errorf("challenge before any = %q, %v; want empty", got, err)
	}
	for _, c := range []string{`{"challenge":"a"}`, `{"challenge":"b"}`} {
		if err := s.PutAuthSessionChallenge(ctx, sess.ID, c); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.TakeAuthSessionChallenge(ctx, sess.ID); err != nil || got != `{"challenge":"b"}` {
		t.Errorf("TakeAuthSessionChallenge = %q, %v; want the latest", got, err)
	}
	if got, _ := s.TakeAuthSessionChallenge(ctx, sess.ID); got != "" {
		t.Errorf("second take = %q, want empty: a challenge is used once", got)
	}
}
