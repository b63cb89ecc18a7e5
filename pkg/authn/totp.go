package authn

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/skip2/go-qrcode"

	"github.com/tenure-id/tenure/pkg/directory"
)

// TOTP parameters every authenticator app understands (RFC 6238 defaults).
const (
	totpPeriod = 30
	totpDigits = otp.DigitsSix
	// totpSkew accepts the codes of one step before and after now: phone clocks drift.
	totpSkew = 1
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1}

// ErrReplay is a TOTP code of a time step already used: someone may have watched it typed.
var ErrReplay = errors.New("authn: code already used")

// ErrWrongCode is a second-factor code that matches nothing.
var ErrWrongCode = errors.New("authn: wrong code")

// newTOTPKey makes a fresh 160-bit secret for account.
func newTOTPKey(issuer, account string) (*otp.Key, error) {
	k, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, Period: totpPeriod,
		SecretSize: 20, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, fmt.Errorf("authn: totp secret: %w", err)
	}
	return k, nil
}

// totpURL is the otpauth:// URL an authenticator scans (the form totp.Generate builds).
func totpURL(issuer, account, secret string) string {
	v := url.Values{}
	v.Set("secret", secret)
	v.Set("issuer", issuer)
	v.Set("period", strconv.Itoa(totpPeriod))
	v.Set("algorithm", "SHA1")
	v.Set("digits", "6")
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + account, RawQuery: v.Encode()}
	return u.String()
}

// qrDataURI renders text as a PNG QR code inline, so the page needs neither script nor a second
// request that would have to carry the secret.
func qrDataURI(text string) (template.URL, error) {
	png, err := qrcode.Encode(text, qrcode.Medium, 240)
	if err != nil {
		return "", fmt.Errorf("authn: qr code: %w", err)
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)), nil
}

// matchTOTP finds the time step whose code is code, within the skew; ok false when none.
func matchTOTP(secret, code string, now time.Time) (step int64, ok bool) {
	code = strings.TrimSpace(strings.ReplaceAll(code, " ", ""))
	if len(code) != 6 {
		return 0, false
	}
	for off := -totpSkew; off <= totpSkew; off++ {
		at := now.Add(time.Duration(off*totpPeriod) * time.Second)
		want, err := totp.GenerateCodeCustom(secret, at, totpOpts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return at.Unix() / totpPeriod, true
		}
	}
	return 0, false
}

// useTOTP accepts code for cred if it matches a step later than the last one used, and records
// that step: each code works once.
func useTOTP(c *directory.Credential, code string, now time.Time) error {
	if c.TOTPSecret == "" {
		return ErrWrongCode
	}
	step, ok := matchTOTP(c.TOTPSecret, code, now)
	switch {
	case !ok:
		return ErrWrongCode
	case step <= c.TOTPLastStep:
		return ErrReplay
	}
	c.TOTPLastStep = step
	return nil
}

// RecoveryCodeCount is how many recovery codes an enrolment hands out.
const RecoveryCodeCount = 10

var recoveryEnc = base32.NewEncoding("abcdefghijkmnpqrstuvwxyz23456789").WithPadding(base32.NoPadding)

// newRecoveryCodes returns codes to show once and their hashes to store. Each has 80 random
// bits, so a plain SHA-256 is enough: nobody can enumerate them from a stolen database.
func newRecoveryCodes() (codes, hashes []string) {
	for range RecoveryCodeCount {
		b := make([]byte, 10)
		if _, err := rand.Read(b); err != nil {
			panic("authn: no randomness: " + err.Error())
		}
		s := recoveryEnc.EncodeToString(b) // 16 characters
		codes = append(codes, s[0:4]+"-"+s[4:8]+"-"+s[8:12]+"-"+s[12:16])
		hashes = append(hashes, recoveryHash(s))
	}
	return codes, hashes
}

func recoveryHash(code string) string {
	norm := strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(code))
	sum := sha256.Sum256([]byte(norm))
	return hex.EncodeToString(sum[:])
}

// looksLikeRecoveryCode tells the two kinds of code apart: TOTP codes are six digits.
func looksLikeRecoveryCode(code string) bool {
	norm := strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(code))
	return len(norm) == 16
}

// useRecoveryCode removes code from cred; ErrWrongCode when it is not one of the unused codes.
func useRecoveryCode(c *directory.Credential, code string) error {
	h := recoveryHash(code)
	i := slices.IndexFunc(c.RecoveryCodes, func(s string) bool { return subtle.ConstantTimeCompare([]byte(s), []byte(h)) == 1 })
	if i < 0 {
		return ErrWrongCode
	}
	c.RecoveryCodes = slices.Delete(c.RecoveryCodes, i, i+1)
	return nil
}
