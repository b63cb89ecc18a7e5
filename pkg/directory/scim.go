package directory

import (
	"context"
	"regexp"
	"time"

	"github.com/tenure-id/tenure/pkg/identity"
)

// TokenKind says which door a bearer token opens. One table keeps every kind, and a token of
// one kind never opens another's door: lookups always name the kind.
type TokenKind string

// Token kinds.
const (
	TokenSCIM TokenKind = "scim" // the SCIM service provider under /scim/v2
	TokenAPI  TokenKind = "api"  // the admin REST API under /api/v1
)

// TokenRole is what an admin API token may do.
type TokenRole string

// Admin API roles.
const (
	RoleRead  TokenRole = "read"  // auditors and dashboards: reads only
	RoleAdmin TokenRole = "admin" // IT: reads and writes
)

// Token is a bearer token another system (an HRIS, an upstream IdP, an IT tool) uses on
// Tenure. Only Hash, the hex SHA-256 of the token, is stored: the tokens are 32 random bytes,
// so a plain hash is enough and a database read gives nobody a working token. Names are unique
// per kind.
type Token struct {
	ID         string     `json:"id"`
	Kind       TokenKind  `json:"kind"`
	Name       string     `json:"name"`
	Role       TokenRole  `json:"role,omitempty"` // API tokens only
	Hash       string     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// SCIMToken is a token of kind TokenSCIM; the SCIM methods fill in the kind.
type SCIMToken = Token

var tokenName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// Validate checks the kind, the name, the role for the kind and that a hash is present.
func (t Token) Validate() error {
	switch {
	case t.Kind != TokenSCIM && t.Kind != TokenAPI:
		return &identity.FieldError{Field: "kind", Reason: "scim or api"}
	case !tokenName.MatchString(t.Name):
		return &identity.FieldError{Field: "name", Reason: "1-100 letters, digits, '.', '_' or '-', starting with a letter or digit"}
	case t.Kind == TokenAPI && t.Role != RoleRead && t.Role != RoleAdmin:
		return &identity.FieldError{Field: "role", Reason: "read or admin"}
	case t.Kind == TokenSCIM && t.Role != "":
		return &identity.FieldError{Field: "role", Reason: "SCIM tokens have no role"}
	case len(t.Hash) != 64:
		return &identity.FieldError{Field: "hash", Reason: "a hex SHA-256 is required"}
	}
	return nil
}

// Tokens keeps the bearer tokens of every kind. Creation and revocation are audited (by kind
// and name, never the hash); recording a token's use is not, so traffic cannot grow the audit
// log.
type Tokens interface {
	// CreateToken stores a token, assigning ID and CreatedAt. A name in use by a token of the
	// same kind is ErrConflict.
	CreateToken(ctx context.Context, t Token) (Token, error)
	// ListTokens returns every live token of the kind by name.
	ListTokens(ctx context.Context, kind TokenKind) ([]Token, error)
	// RevokeToken deletes the named token of the kind, so it stops working at once;
	// ErrNotFound when there is none.
	RevokeToken(ctx context.Context, kind TokenKind, name string) error
	// UseToken finds the live token of the kind with this hash and records the use at the
	// store's clock (to the minute: not every request needs a write). ErrNotFound when there
	// is none, including when the hash is a token of another kind.
	UseToken(ctx context.Context, kind TokenKind, hash string) (Token, error)
}

// SCIMTokens is Tokens for the SCIM service provider's kind, as it has always been called.
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
