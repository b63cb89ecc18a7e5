package lifecycle

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Naming generates usernames and work emails.
type Naming struct {
	// Pattern builds the username from {first} {last} {f} {l} (initials) and literal text,
	// e.g. "{first}.{last}" (the default) or "{f}{last}".
	Pattern string
	// Domain of work emails (username@Domain); no email is generated when empty.
	Domain string
}

// Taken reports whether a username or work email is already used or reserved.
type Taken func(candidate string) (bool, error)

// letters without a decomposition into base letter + mark, spelled as people type them.
var special = strings.NewReplacer("ß", "ss", "æ", "ae", "Æ", "ae", "ø", "o", "Ø", "o", "œ", "oe", "Œ", "oe",
	"ł", "l", "Ł", "l", "đ", "d", "Đ", "d", "ð", "d", "þ", "th", "ı", "i")

// Fold reduces a name to the lowercase ASCII letters and digits usernames are made of:
// "José Ñúñez" gives "josenunez"; apostrophes, spaces and hyphens disappear.
func Fold(s string) string {
	s = special.Replace(s)
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	folded, _, err := transform.String(t, s)
	if err != nil {
		folded = s
	}
	var b strings.Builder
	for _, r := range strings.ToLower(folded) {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Base is the username the pattern gives for a name, before collision handling.
func (n Naming) Base(first, last string) string {
	pattern := n.Pattern
	if pattern == "" {
		pattern = "{first}.{last}"
	}
	f, l := Fold(first), Fold(last)
	initial := func(s string) string {
		if s == "" {
			return ""
		}
		return s[:1]
	}
	u := strings.NewReplacer("{first}", f, "{last}", l, "{f}", initial(f), "{l}", initial(l)).Replace(pattern)
	// A missing name part leaves a dangling separator: ".lovelace" → "lovelace".
	return strings.Trim(u, ".-_")
}

// Generate picks the first free username from the pattern, adding 2, 3, ... on a collision,
// and the work email that goes with it. Both must be free.
func (n Naming) Generate(first, last string, taken Taken) (username, email string, err error) {
	username, email, _, err = n.generate(first, last, taken, nil)
	return username, email, err
}

// generate is Generate remembering, per base name, the last suffix it handed out: in a large
// import the thousandth John Smith then costs one lookup, not a thousand.
func (n Naming) generate(first, last string, taken Taken, next map[string]int) (username, email string, i int, err error) {
	base := n.Base(first, last)
	if base == "" {
		return "", "", 0, fmt.Errorf("cannot make a username from the name %q %q", first, last)
	}
	for i = max(next[base], 1); i < 100_000; i++ {
		u := base
		if i > 1 {
			u = fmt.Sprintf("%s%d", base, i)
		}
		e := ""
		if n.Domain != "" {
			e = u + "@" + strings.ToLower(n.Domain)
		}
		busy, err := taken(u)
		if err != nil {
			return "", "", 0, err
		}
		if !busy && e != "" {
			if busy, err = taken(e); err != nil {
				return "", "", 0, err
			}
		}
		if !busy {
			if next != nil {
				next[base] = i + 1
			}
			return u, e, i, nil
		}
	}
	return "", "", 0, fmt.Errorf("no free username from %q", base)
}
