package authn

import (
	"errors"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/tenure-id/tenure/pkg/directory"
)

const testSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

func code(t *testing.T, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(testSecret, at, totpOpts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTOTPSingleUse(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 9, 0, 10, 0, time.UTC)
	c := directory.Credential{TOTPSecret: testSecret, TOTPConfirmed: true}
	if err := useTOTP(&c, code(t, t0), t0); err != nil {
		t.Fatalf("fresh code refused: %v", err)
	}
	// The same code again, even seconds later in the same window: a replay.
	if err := useTOTP(&c, code(t, t0), t0.Add(5*time.Second)); !errors.Is(err, ErrReplay) {
		t.Errorf("same code again: %v, want ErrReplay", err)
	}
	// The previous step's code is inside the skew but older than the used one: also refused.
	if err := useTOTP(&c, code(t, t0.Add(-30*time.Second)), t0); !errors.Is(err, ErrReplay) {
		t.Errorf("older step's code: %v, want ErrReplay", err)
	}
	// The next step's code works once.
	t1 := t0.Add(30 * time.Second)
	if err := useTOTP(&c, code(t, t1), t1); err != nil {
		t.Errorf("next step's code refused: %v", err)
	}
	if c.TOTPLastStep != t1.Unix()/30 {
		t.Errorf("last step = %d, want %d", c.TOTPLastStep, t1.Unix()/30)
	}
}

func TestTOTPWindow(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 9, 0, 10, 0, time.UTC)
	tests := []struct {
		name  string
		codeT time.Time
		ok    bool
	}{
		{"now", t0, true},
		{"one step early (phone behind)", t0.Add(-30 * time.Second), true},
		{"one step late (phone ahead)", t0.Add(30 * time.Second), true},
		{"two steps early", t0.Add(-60 * time.Second), false},
		{"two steps late", t0.Add(60 * time.Second), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := directory.Credential{TOTPSecret: testSecret}
			err := useTOTP(&c, code(t, tt.codeT), t0)
			if (err == nil) != tt.ok {
				t.Errorf("useTOTP = %v, want ok=%v", err, tt.ok)
			}
		})
	}
	c := directory.Credential{TOTPSecret: testSecret}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if err := useTOTP(&c, bad, t0); !errors.Is(err, ErrWrongCode) {
			t.Errorf("code %q: %v, want ErrWrongCode", bad, err)
		}
	}
}

func TestRecoveryCodes(t *testing.T) {
	codes, hashes := newRecoveryCodes()
	if len(codes) != RecoveryCodeCount || len(hashes) != RecoveryCodeCount {
		t.Fatalf("%d codes, %d hashes; want %d", len(codes), len(hashes), RecoveryCodeCount)
	}
	seen := map[string]bool{}
	for i, c := range codes {
		if len(c) != 19 || !looksLikeRecoveryCode(c) || seen[c] {
			t.Errorf("code %q is malformed or repeated", c)
		}
		seen[c] = true
		if hashes[i] == c || recoveryHash(c) != hashes[i] {
			t.Errorf("hash %d is not the SHA-256 of code %d", i, i)
		}
	}
	cred := directory.Credential{RecoveryCodes: hashes}
	// Typed in capitals and without dashes still counts, once.
	typed := codes[3][0:4] + codes[3][5:9] + codes[3][10:14] + codes[3][15:19]
	if err := useRecoveryCode(&cred, typed); err != nil {
		t.Fatalf("recovery code refused: %v", err)
	}
	if err := useRecoveryCode(&cred, codes[3]); !errors.Is(err, ErrWrongCode) {
		t.Errorf("used recovery code accepted again: %v", err)
	}
	if len(cred.RecoveryCodes) != RecoveryCodeCount-1 {
		t.Errorf("%d codes left, want %d", len(cred.RecoveryCodes), RecoveryCodeCount-1)
	}
	if looksLikeRecoveryCode("123456") {
		t.Error("a TOTP code was taken for a recovery code")
	}
}

func TestSafeNext(t *testing.T) {
	tests := map[string]string{
		"/saml/sso?SAMLRequest=abc": "/saml/sso?SAMLRequest=abc",
		"/":                         "/",
		"":                          "/",
		"//evil.example/x":          "/",
		"/\\evil.example":           "/",
		"https://evil.example/":     "/",
		"javascript:alert(1)":       "/",
		"evil.example":              "/",
		"/ok\r\nSet-Cookie: x=y":    "/",
		"/%2F%2Fevil.example":       "/%2F%2Fevil.example",
	}
	for in, want := range tests {
		if got := SafeNext(in); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", in, got, want)
		}
	}
	if got := LoginURL("https://evil.example"); got != "/login?next=%2F" {
		t.Errorf("LoginURL(external) = %q, want /login?next=%%2F", got)
	}
	if got := LoginURL("/saml/sso?a=1&b=2"); got != "/login?next=%2Fsaml%2Fsso%3Fa%3D1%26b%3D2" {
		t.Errorf("LoginURL(local) = %q", got)
	}
}
