package directory

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
)

// NewToken returns a fresh bearer token of kind ("tnr_scim_…", "tnr_api_…": the prefix tells
// a leaked token's purpose at a glance) and the hash to store for it.
func NewToken(kind TokenKind) (token, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics rather than returning short)
	token = "tnr_" + string(kind) + "_" + hex.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is the stored form of a token: hex SHA-256. Tokens are 32 random bytes, so no
// slow hash is needed against guessing.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
