// Package secretbox keeps secrets that must be read back (TOTP shared secrets) encrypted at
// rest with AES-256-GCM from the standard library, under a keyring: one current key that seals,
// and previous keys that still open what they sealed, so a key can be rotated without locking
// anyone out.
//
// A sealed value is text: "enc:v1:KEYID:BASE64(nonce || ciphertext || tag)". The key ID is
// derived from the key, so a wrong key file is told apart from a damaged value by its ID alone.
// Values without the prefix are legacy plain text, written before encryption at rest; Open
// returns them as they are so nobody is locked out until they are migrated.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of a key in bytes (AES-256).
const KeySize = 32

// SealedPrefix starts every sealed value; anything else is legacy plain text.
const SealedPrefix = "enc:v1:"

var (
	// ErrUnknownKey is a value sealed under a key the keyring does not hold.
	ErrUnknownKey = errors.New("secretbox: sealed under a key that is not configured")
	// ErrDecrypt is a value that does not authenticate: it was altered, or it belongs to
	// another record (the associated data differs).
	ErrDecrypt = errors.New("secretbox: value does not decrypt for this record (altered, or copied from another record)")
	// ErrMalformed is a value with the sealed prefix that cannot be parsed.
	ErrMalformed = errors.New("secretbox: malformed sealed value")
	// ErrBadKey is key material that is not 32 bytes of base64.
	ErrBadKey = errors.New("secretbox: a key is 32 random bytes in base64")
)

// Key is one AES-256-GCM key and its ID.
type Key struct {
	id   string
	aead cipher.AEAD
}

// ID names the key in sealed values: a truncated hash of it, which says nothing useful about
// the key itself.
func (k Key) ID() string { return k.id }

// NewKey makes a Key of 32 raw bytes.
func NewKey(raw []byte) (Key, error) {
	if len(raw) != KeySize {
		return Key{}, fmt.Errorf("%w (got %d bytes)", ErrBadKey, len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return Key{}, fmt.Errorf("secretbox: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return Key{}, fmt.Errorf("secretbox: %w", err)
	}
	sum := sha256.Sum256(append([]byte("tenure secretbox key id\x00"), raw...))
	return Key{id: hex.EncodeToString(sum[:6]), aead: aead}, nil
}

// ParseKey reads a key written as base64 (standard or URL alphabet, padded or not), ignoring
// surrounding white space, as key files and environment variables hold it.
func ParseKey(text string) (Key, error) {
	text = strings.TrimSpace(text)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err := enc.DecodeString(text); err == nil {
			return NewKey(raw)
		}
	}
	return Key{}, ErrBadKey
}

// GenerateKey returns a new random key as base64 text, ready for a key file.
func GenerateKey() (string, error) {
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("secretbox: randomness: %w", err)
	}
	return base64.StdEncoding.EncodeToString(raw), nil
}

// Keyring seals with its current key and opens with any of its keys.
type Keyring struct {
	current Key
	byID    map[string]Key
}

// NewKeyring returns a keyring sealing with current and also opening what previous sealed.
func NewKeyring(current Key, previous ...Key) (*Keyring, error) {
	if current.aead == nil {
		return nil, errors.New("secretbox: a current key is required")
	}
	r := &Keyring{current: current, byID: map[string]Key{current.id: current}}
	for _, k := range previous {
		if k.aead == nil {
			return nil, errors.New("secretbox: empty previous key")
		}
		r.byID[k.id] = k
	}
	return r, nil
}

// CurrentID is the ID of the key that seals.
func (r *Keyring) CurrentID() string { return r.current.id }

// Has says whether the keyring holds the key of id.
func (r *Keyring) Has(id string) bool {
	_, ok := r.byID[id]
	return ok
}

// Seal encrypts plain under the current key, bound to ad (the record's identity). The empty
// string stays empty: "no secret" needs no protection and must stay recognisable.
func (r *Keyring) Seal(plain string, ad []byte) (string, error) {
	if plain == "" {
		return "", nil
	}
	nonce := make([]byte, r.current.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("secretbox: randomness: %w", err)
	}
	out := r.current.aead.Seal(nonce, nonce, []byte(plain), ad)
	return SealedPrefix + r.current.id + ":" + base64.RawStdEncoding.EncodeToString(out), nil
}

// Open decrypts a sealed value bound to ad; a legacy plain value is returned unchanged.
func (r *Keyring) Open(stored string, ad []byte) (string, error) {
	id, data, sealed, err := parse(stored)
	if !sealed {
		return stored, nil
	}
	if err != nil {
		return "", err
	}
	k, ok := r.byID[id]
	if !ok {
		return "", fmt.Errorf("%w: key %s (current key is %s)", ErrUnknownKey, id, r.current.id)
	}
	n := k.aead.NonceSize()
	if len(data) < n+k.aead.Overhead() {
		return "", ErrMalformed
	}
	plain, err := k.aead.Open(nil, data[:n], data[n:], ad)
	if err != nil {
		return "", fmt.Errorf("%w: key %s", ErrDecrypt, id)
	}
	return string(plain), nil
}

// KeyID says which key sealed stored; sealed is false for legacy plain values (and "").
func KeyID(stored string) (id string, sealed bool) {
	id, _, sealed, _ = parse(stored)
	return id, sealed
}

// KeyPrefix starts every value sealed under the key of id, for finding them in a database.
func KeyPrefix(id string) string { return SealedPrefix + id + ":" }

func parse(stored string) (id string, data []byte, sealed bool, err error) {
	rest, ok := strings.CutPrefix(stored, SealedPrefix)
	if !ok {
		return "", nil, false, nil
	}
	id, b64, ok := strings.Cut(rest, ":")
	if !ok || id == "" {
		return "", nil, true, ErrMalformed
	}
	data, err = base64.RawStdEncoding.DecodeString(b64)
	if err != nil {
		return id, nil, true, ErrMalformed
	}
	return id, data, true, nil
}
