package slack

import (
	"hash/fnv"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// MaxUserName is Slack's limit: a userName must be under 21 characters.
const MaxUserName = 20

var validUserName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// ValidUserName says whether Slack accepts s as a userName as it is.
func ValidUserName(s string) bool { return len(s) <= MaxUserName && validUserName.MatchString(s) }

// letters Slack's alphabet lacks that decomposition does not reduce to ASCII.
var spelled = map[rune]string{'ß': "ss", 'æ': "ae", 'ø': "o", 'œ': "oe", 'đ': "d", 'ð': "d", 'ł': "l", 'þ': "th", 'ı': "i"}

var separators = regexp.MustCompile(`[._-]{2,}`)

// normalize spells a username in Slack's alphabet: lower case, an email's domain dropped,
// accents stripped (ö → o), a few letters spelled out (ß → ss), spaces as dots, anything else
// dropped, runs of separators shortened to the first and none at either end.
func normalize(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.IndexByte(s, '@'); i > 0 {
		s = s[:i]
	}
	var b strings.Builder
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		case spelled[r] != "":
			b.WriteString(spelled[r])
		case unicode.IsSpace(r):
			b.WriteByte('.')
		}
	}
	out := separators.ReplaceAllStringFunc(b.String(), func(run string) string { return run[:1] })
	return strings.Trim(out, "._-")
}

// clip cuts s to n bytes (s is ASCII here) without leaving a separator at the end.
func clip(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.TrimRight(s, "._-")
}

// UserNames returns the userNames the connector tries, best first: the username itself when
// Slack accepts it, else its normalised form cut to 20 characters; then, for when another
// account holds that derived name, the normalised form cut shorter with a suffix hashed from
// seed (the person's Tenure ID), so the same person always derives the same names and two
// people whose names agree in the first characters still differ.
func UserNames(username, seed string) []string {
	if seed == "" {
		seed = username
	}
	base := normalize(username)
	first := username
	if !ValidUserName(username) {
		first = clip(base, MaxUserName)
	}
	var out []string
	if first != "" {
		out = append(out, first)
	}
	stem := clip(base, MaxUserName-6)
	if stem == "" {
		stem = "user"
	}
	for k := range 3 {
		h := fnv.New64a()
		h.Write([]byte(seed))
		h.Write([]byte{byte(k)})
		suffix := strconv.FormatUint(h.Sum64(), 36)
		for len(suffix) < 5 {
			suffix = "0" + suffix
		}
		out = append(out, stem+"-"+suffix[:5])
	}
	return out
}
