package authn

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// HashParams are argon2id's cost parameters. They travel inside every stored hash (PHC string
// form), so raising them later only affects new hashes, and a login with an older, weaker hash
// rehashes the password at the new cost.
type HashParams struct {
	Time    uint32 // iterations
	Memory  uint32 // KiB
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// DefaultHashParams match Keycloak's default policy: argon2id, 5 iterations, 7 MiB, one lane.
var DefaultHashParams = HashParams{Time: 5, Memory: 7 * 1024, Threads: 1, SaltLen: 16, KeyLen: 32}

// ErrBadHash is a stored hash Tenure cannot read: a corrupt row, never a wrong password.
var ErrBadHash = errors.New("authn: unreadable password hash")

// HashPassword returns the PHC string of password:
// $argon2id$v=19$m=7168,t=5,p=1$<salt>$<key>, base64 without padding.
func HashPassword(password string, p HashParams) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("authn: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var b64 = base64.RawStdEncoding

// phc is a parsed stored hash.
type phc struct {
	params    HashParams
	salt, key []byte
}

func parsePHC(s string) (phc, error) {
	parts := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return phc{}, fmt.Errorf("%w: not an argon2id PHC string", ErrBadHash)
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return phc{}, fmt.Errorf("%w: argon2 version %q", ErrBadHash, parts[2])
	}
	var h phc
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return phc{}, fmt.Errorf("%w: parameter %q", ErrBadHash, kv)
		}
		switch k {
		case "m":
			h.params.Memory = uint32(n)
		case "t":
			h.params.Time = uint32(n)
		case "p":
			if n == 0 || n > 255 {
				return phc{}, fmt.Errorf("%w: parallelism %d", ErrBadHash, n)
			}
			h.params.Threads = uint8(n)
		default:
			return phc{}, fmt.Errorf("%w: unknown parameter %q", ErrBadHash, k)
		}
	}
	if h.params.Memory == 0 || h.params.Time == 0 || h.params.Threads == 0 {
		return phc{}, fmt.Errorf("%w: missing m, t or p", ErrBadHash)
	}
	var err error
	if h.salt, err = b64.DecodeString(parts[4]); err != nil || len(h.salt) < 8 {
		return phc{}, fmt.Errorf("%w: salt", ErrBadHash)
	}
	if h.key, err = b64.DecodeString(parts[5]); err != nil || len(h.key) < 16 {
		return phc{}, fmt.Errorf("%w: key", ErrBadHash)
	}
	h.params.SaltLen, h.params.KeyLen = uint32(len(h.salt)), uint32(len(h.key))
	return h, nil
}

// VerifyPassword reports whether password matches the stored hash, and whether the hash is
// weaker than want and should be replaced now that the password is known.
func VerifyPassword(stored, password string, want HashParams) (ok, rehash bool, err error) {
	h, err := parsePHC(stored)
	if err != nil {
		return false, false, err
	}
	key := argon2.IDKey([]byte(password), h.salt, h.params.Time, h.params.Memory, h.params.Threads, uint32(len(h.key)))
	if subtle.ConstantTimeCompare(key, h.key) != 1 {
		return false, false, nil
	}
	p := h.params
	weaker := p.Time < want.Time || p.Memory < want.Memory || p.KeyLen < want.KeyLen || p.SaltLen < want.SaltLen
	return true, weaker, nil
}
