// Package google provisions Google Workspace accounts through the Admin SDK Directory API (Google
// has no inbound SCIM): users, suspension, deletion, admin role and group membership.
//
// It authenticates as a service account with domain-wide delegation, impersonating an admin
// (JWT bearer grant signed with the key from the service account's JSON key file).
//
// Account mapping:
//   - primaryEmail is UserName@domain, where domain is the Account's email domain (else the
//     configured domain): Google's account name is the user name. UserName is read back as the
//     local part and Email as the primary email. Traits.Fields therefore name user_name, not
//     email: the address follows the user name.
//   - ExternalID (the Tenure person id) is an externalIds entry {type: custom, customType:
//     tenure}, which Find searches with query externalId:ID.
//   - Role "admin" makes the user a super admin, any other role a plain user ("user"); an
//     empty Role leaves it alone.
//   - Attributes: org_unit_path is the org unit without its leading slash ("Engineering/Web";
//     empty is the root unit). When absent it is derived from org_path by dropping the first
//     segment (the company itself): "Pied Piper/Engineering/Web" → "Engineering/Web". The unit
//     must exist in Google. title and department go to the primary organization, employee_id to
//     externalIds {type: organization}.
//   - Entitlements group:NAME are memberships of the group NAME@domain, or of the address the
//     groups option maps NAME to.
//
// A create for a person whose user was deleted less than 20 days ago undeletes that user (the
// mailbox comes back) instead of making a new one.
//
// Google's over-quota answer is 403 userRateLimitExceeded or quotaExceeded (not 429), with no
// Retry-After: it becomes connector.ErrRateLimited with RetryAfter 0, so the workers back off
// exponentially. Any other 403 is connector.ErrUnauthorized.
//
// Configuration (the key file is the service account's JSON key; grant it the Scopes):
//
//	provisioning:
//	  apps:
//	    google-workspace:
//	      token_file: /etc/tenure/google-sa.json
//	      options:
//	        domain: piedpiper.example
//	        admin_email: tenure-admin@piedpiper.example
//	        groups: "everyone,engineering,marketing,sales,support,managers,staff"
//	      attributes:
//	        org_unit_path: "Engineering"   # or an org_path attribute, from which it is derived
package google

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tenure-id/tenure/pkg/connector"
)

// DefaultBaseURL is the Admin SDK's public address.
const DefaultBaseURL = "https://admin.googleapis.com"

// Documented quota: about 2,400 queries a minute per project.
const (
	DefaultRate        = 40.0
	DefaultBurst       = 40
	DefaultConcurrency = 8
)

// Config builds a Connector.
type Config struct {
	BaseURL string // DefaultBaseURL when empty
	// KeyFile is the service account's JSON key file (its contents).
	KeyFile []byte
	// AdminEmail is the admin the service account impersonates. Required.
	AdminEmail string
	// TokenURL overrides the key file's token_uri (sandbox apps, tests).
	TokenURL string
	// Domain is the primary domain: user names without an email domain and groups live here.
	Domain string
	// Customer is the account's customer id; "my_customer" when empty.
	Customer string
	// Groups maps entitlement names (group:NAME) to group addresses; NAME@Domain is assumed for
	// names not listed. List reads the members of these groups; when empty it reads every
	// group of the customer.
	Groups map[string]string
	// PageSize is maxResults when listing users (500 when zero, Google's maximum).
	PageSize int
	// Rate, Burst and Concurrency override the documented limits.
	Rate        float64
	Burst       int
	Concurrency int
	HTTPClient  *http.Client
	Now         func() time.Time
}

// Connector is a Google Workspace connector. It is safe for concurrent use.
type Connector struct {
	base     string
	http     *http.Client
	tokens   *tokens
	domain   string
	customer string
	groups   map[string]string
	pageSize int
	traits   connector.Traits
}

var _ interface {
	connector.Connector
	connector.Finder
	connector.Describer
} = (*Connector)(nil)

// New checks cfg and returns a connector. No request is made until the first call.
func New(cfg Config) (*Connector, error) {
	sa, key, err := parseKeyFile(cfg.KeyFile)
	if err != nil {
		return nil, err
	}
	if cfg.AdminEmail == "" {
		return nil, fmt.Errorf("google: admin_email is required (the admin the service account impersonates)")
	}
	if cfg.Domain == "" {
		return nil, fmt.Errorf("google: domain is required")
	}
	c := &Connector{
		base: strings.TrimRight(cfg.BaseURL, "/"), http: cfg.HTTPClient, domain: strings.ToLower(cfg.Domain),
		customer: cfg.Customer, groups: map[string]string{}, pageSize: cfg.PageSize,
		traits: connector.Traits{
			CanDisable: true, MembershipKinds: []string{"group"},
			Fields: []string{"user_name", "given_name", "family_name", "role", "attributes.org_unit_path",
				"attributes.title", "attributes.department", "attributes.employee_id"},
			Rate: DefaultRate, Burst: DefaultBurst, Concurrency: DefaultConcurrency,
		},
	}
	if c.base == "" {
		c.base = DefaultBaseURL
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: time.Minute}
	}
	if c.customer == "" {
		c.customer = "my_customer"
	}
	if c.pageSize <= 0 || c.pageSize > 500 {
		c.pageSize = 500
	}
	for name, email := range cfg.Groups {
		c.groups[name] = strings.ToLower(email)
	}
	c.traits = c.traits.WithLimits(cfg.Rate, cfg.Burst, cfg.Concurrency)
	tokenURL := cfg.TokenURL
	if tokenURL == "" {
		tokenURL = sa.TokenURI
	}
	if tokenURL == "" {
		tokenURL = DefaultTokenURL
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	c.tokens = &tokens{http: c.http, sa: sa, key: key, tokenURL: tokenURL, subject: cfg.AdminEmail, now: now}
	return c, nil
}

// FromOptions builds a Config from an app's provisioning options:
//
//	domain       primary domain (required)
//	admin_email  the admin to impersonate (required)
//	customer     customer id (default my_customer)
//	token_url    token endpoint override (default: the key file's token_uri)
//	groups       "everyone,engineering=eng@piedpiper.example,...": the groups List reads;
//	             NAME alone means NAME@domain
//	page_size    users per list page (1..500, default 500)
func FromOptions(baseURL string, keyFile []byte, opts map[string]string) (Config, error) {
	cfg := Config{BaseURL: baseURL, KeyFile: keyFile, Domain: opts["domain"], AdminEmail: opts["admin_email"],
		Customer: opts["customer"], TokenURL: opts["token_url"], Groups: map[string]string{}}
	known := map[string]bool{"domain": true, "admin_email": true, "customer": true, "token_url": true, "groups": true, "page_size": true}
	for k := range opts {
		if !known[k] {
			return cfg, fmt.Errorf("options.%s: unknown option (known: admin_email, customer, domain, groups, page_size, token_url)", k)
		}
	}
	if s := opts["page_size"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 500 {
			return cfg, fmt.Errorf("options.page_size: %q is not a number from 1 to 500", s)
		}
		cfg.PageSize = n
	}
	for _, g := range strings.Split(opts["groups"], ",") {
		g = strings.TrimSpace(g)
		if g == "" {
			continue
		}
		name, email, ok := strings.Cut(g, "=")
		if !ok {
			email = name + "@" + cfg.Domain
		}
		if name == "" || !strings.Contains(email, "@") {
			return cfg, fmt.Errorf("options.groups: %q is not NAME or NAME=GROUP_EMAIL", g)
		}
		cfg.Groups[strings.TrimSpace(name)] = strings.TrimSpace(email)
	}
	return cfg, nil
}

// Traits implements connector.Describer.
func (c *Connector) Traits() connector.Traits { return c.traits }

// groupEmail is the address of the group behind entitlement group:NAME.
func (c *Connector) groupEmail(entitlement string) (string, error) {
	kind, name, ok := strings.Cut(entitlement, ":")
	if !ok || kind != "group" || name == "" {
		return "", &connector.Error{Kind: connector.ErrInvalid, Detail: fmt.Sprintf("entitlement %q is not group:NAME", entitlement)}
	}
	if e, ok := c.groups[name]; ok {
		return e, nil
	}
	return name + "@" + c.domain, nil
}
