package directory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tenure-id/tenure/pkg/identity"
)

// NameIDFormat is how the IdP names a person to one service provider.
type NameIDFormat string

const (
	// NameIDEmail sends the work email.
	NameIDEmail NameIDFormat = "email"
	// NameIDPersistent sends an opaque identifier that is stable for one person and one service
	// provider, and different for every other service provider (no correlation across apps).
	NameIDPersistent NameIDFormat = "persistent"
	// NameIDUnspecified sends the username.
	NameIDUnspecified NameIDFormat = "unspecified"
)

// NameIDFormats lists the valid formats.
var NameIDFormats = []NameIDFormat{NameIDEmail, NameIDPersistent, NameIDUnspecified}

// SAMLAttributes are the attributes the IdP can release, by their SAML names.
var SAMLAttributes = []string{"email", "givenName", "sn", "displayName", "groups"}

// SAMLServiceProvider is one application that signs people in through Tenure's SAML IdP.
type SAMLServiceProvider struct {
	ID       string `json:"id"`
	EntityID string `json:"entity_id"`
	// App is the catalogue app the service provider is: only people whose desired grants
	// include it may sign in, and its entitlements become the groups attribute.
	App          string       `json:"app"`
	NameIDFormat NameIDFormat `json:"nameid_format"`
	// Attributes are released in assertions, a subset of SAMLAttributes.
	Attributes []string `json:"attributes"`
	// Metadata is the service provider's SAML metadata document, as given.
	Metadata  string    `json:"metadata"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Validate checks the fields every stored service provider needs. It does not parse the
// metadata: that is the IdP's job, before it is stored.
func (sp SAMLServiceProvider) Validate() error {
	switch {
	case strings.TrimSpace(sp.EntityID) == "":
		return &identity.FieldError{Field: "entity_id", Reason: "required"}
	case strings.TrimSpace(sp.App) == "":
		return &identity.FieldError{Field: "app", Reason: "required: only people granted this app may sign in"}
	case !slices.Contains(NameIDFormats, sp.NameIDFormat):
		return &identity.FieldError{Field: "nameid_format", Reason: fmt.Sprintf("%q is not one of email|persistent|unspecified", sp.NameIDFormat)}
	case strings.TrimSpace(sp.Metadata) == "":
		return &identity.FieldError{Field: "metadata", Reason: "required"}
	}
	seen := map[string]bool{}
	for _, a := range sp.Attributes {
		if !slices.Contains(SAMLAttributes, a) {
			return &identity.FieldError{Field: "attributes", Reason: fmt.Sprintf("%q is not one of %s", a, strings.Join(SAMLAttributes, "|"))}
		}
		if seen[a] {
			return &identity.FieldError{Field: "attributes", Reason: fmt.Sprintf("%q is listed twice", a)}
		}
		seen[a] = true
	}
	return nil
}

// SAMLSigningKey is what the IdP generates for itself once and every replica shares: the
// signing key pair used when none is configured, and the key of persistent NameIDs, which
// must outlive any signing key rotation or every service provider would see new people.
type SAMLSigningKey struct {
	KeyPEM    string    `json:"-"`
	CertPEM   string    `json:"cert_pem"`
	NameIDKey string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
}

// SAMLRegistry keeps the service providers the IdP serves and its generated signing key.
type SAMLRegistry interface {
	// PutSAMLServiceProvider creates the service provider or replaces the one with the same
	// entity ID, keeping its ID and bumping Version.
	PutSAMLServiceProvider(ctx context.Context, sp SAMLServiceProvider) (SAMLServiceProvider, error)
	GetSAMLServiceProvider(ctx context.Context, entityID string) (SAMLServiceProvider, error)
	// ListSAMLServiceProviders returns every service provider by entity ID.
	ListSAMLServiceProviders(ctx context.Context) ([]SAMLServiceProvider, error)
	DeleteSAMLServiceProvider(ctx context.Context, entityID string) error
	// EnsureSAMLSigningKey stores candidate unless a key is already stored, and returns the
	// stored one: replicas starting together all end up signing with the first writer's key.
	// An empty candidate only reads (ErrNotFound when nothing is stored), so callers generate
	// a key only when they need one. The audit record names the certificate, never a secret.
	EnsureSAMLSigningKey(ctx context.Context, candidate SAMLSigningKey) (SAMLSigningKey, error)
}
