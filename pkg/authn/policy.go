package authn

import (
	_ "embed"
	"errors"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/tenure-id/tenure/pkg/identity"
)

//go:generate go run ./internal/gencommon

// commonPasswords are the passwords people pick most (see internal/gencommon), one a line,
// lowercase.
//
//go:embed common_passwords.txt
var commonPasswords string

var (
	commonOnce sync.Once
	commonSet  map[string]struct{}
)

func isCommon(lower string) bool {
	commonOnce.Do(func() {
		lines := strings.Split(commonPasswords, "\n")
		commonSet = make(map[string]struct{}, len(lines))
		for _, l := range lines {
			if l = strings.TrimSpace(l); l != "" {
				commonSet[l] = struct{}{}
			}
		}
	})
	_, ok := commonSet[lower]
	return ok
}

// Password length limits (NIST SP 800-63B: at least 8, Tenure asks 12; at least 64 allowed).
const (
	MinPasswordLen = 12
	MaxPasswordLen = 128
)

// PolicyError says why a new password was refused. ID is a message catalogue key, so the page
// shows it in the reader's language; the error text is English.
type PolicyError struct {
	ID string
}

func (e *PolicyError) Error() string { return "password refused: " + catalogue[e.ID] }

// ErrPolicy matches every *PolicyError.
var ErrPolicy = errors.New("password refused")

// Is makes errors.Is(err, ErrPolicy) true.
func (e *PolicyError) Is(target error) bool { return target == ErrPolicy }

// CheckPassword applies NIST SP 800-63B: a length range, no common or breached passwords, no
// passwords made of the person's own names; and deliberately no composition rules, which only
// push people to "Password1!".
func CheckPassword(password string, p identity.Person) error {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return &PolicyError{ID: "pw.invalid"}
	case n < MinPasswordLen:
		return &PolicyError{ID: "pw.short"}
	case n > MaxPasswordLen:
		return &PolicyError{ID: "pw.long"}
	}
	lower := strings.ToLower(password)
	if isCommon(lower) || isCommon(strings.TrimRightFunc(lower, notLetter)) || repetitive(lower) {
		return &PolicyError{ID: "pw.common"}
	}
	for _, part := range personalParts(p) {
		if strings.Contains(lower, part) {
			return &PolicyError{ID: "pw.personal"}
		}
	}
	return nil
}

func notLetter(r rune) bool { return !unicode.IsLetter(r) }

// repetitive catches one or two characters repeated ("abababababab") and counting runs the list
// does not hold at every length.
func repetitive(s string) bool {
	rs := []rune(s)
	distinct := map[rune]bool{}
	for _, r := range rs {
		distinct[r] = true
	}
	if len(distinct) <= 2 {
		return true
	}
	step := rs[1] - rs[0]
	if step != 1 && step != -1 {
		return false
	}
	for i := 2; i < len(rs); i++ {
		if rs[i]-rs[i-1] != step {
			return false
		}
	}
	return true
}

// personalParts are the person's identifiers a password must not contain: username, the
// email's local part and names, lowercased. Parts shorter than four letters are left out, or
// "Ann" would forbid "planning".
func personalParts(p identity.Person) []string {
	local, _, _ := strings.Cut(p.WorkEmail, "@")
	plocal, _, _ := strings.Cut(p.PersonalEmail, "@")
	var out []string
	for _, s := range []string{p.Username, local, plocal, p.LegalFirstName, p.LegalLastName, p.PreferredName, p.EmployeeID} {
		s = strings.ToLower(strings.TrimSpace(s))
		if utf8.RuneCountInString(s) >= 4 {
			out = append(out, s)
		}
		// "richard.hendricks" also hides as "richard" or "hendricks".
		for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == '_' || r == '-' || r == ' ' }) {
			if f != s && utf8.RuneCountInString(f) >= 4 {
				out = append(out, f)
			}
		}
	}
	return out
}
