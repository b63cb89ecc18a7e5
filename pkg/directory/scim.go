package directory

import (
	"context"
	"regexp"
	"time"

	"github.com/tenure-id/tenure/pkg/identity"
)

// SCIMToken is a bearer token another system (an HRIS, an upstream IdP) uses on Tenure's SCIM
// service provider. Only Hash, the hex SHA-256 of the token, is stored: the tokens are 32
// random bytes, so a plain hash is enough and a database read gives nobody a working token.
type SCIMToken struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Hash       string     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

var scimTokenName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// Validate checks the name and that a hash is present.
func (t SCIMToken) Validate() error {
	if !scimTokenName.MatchString(t.Name) {
		return &identity.FieldError{Field: "name", Reason: "1-100 letters, digits, '.', '_' or '-', starting with a letter or digit"}
	}
	if len(t.Hash) != 64 {
		return &identity.FieldError{Field: "hash", Reason: "a hex SHA-256 is required"}
	}
	return nil
}

// SCIMTokens keeps the SCIM service provider's bearer tokens. Creation and revocation are
// audited (by name, never the hash); recording a token's use is not, so traffic cannot grow
// the audit log.
type SCIMTokens interface {
	// CreateSCIMToken stores a token, assigning ID and CreatedAt. A name in use is ErrConflict.
	CreateSCIMToken(ctx context.Context, t SCIMToken) (SCIMToken, error)
	// ListSCIMTokens returns every live token by name.
	ListSCIMTokens(ctx context.Context) ([]SCIMToken, error)
	// RevokeSCIMToken deletes the named token, so it stops working at once; ErrNotFound when
	// there is none.
	RevokeSCIMToken(ctx context.Context, name string) error
	// UseSCIMToken finds the live token with this hash and records the use at the store's
	// clock (to the minute: not every request needs a write). ErrNotFound when there is none.
	UseSCIMToken(ctx context.Context, hash string) (SCIMToken, error)
}
