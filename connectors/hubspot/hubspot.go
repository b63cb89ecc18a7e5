// Package hubspot provisions HubSpot users through the Users API (/settings/v3/users); HubSpot
// has no public inbound SCIM.
//
// Account mapping:
//   - email is UserName@domain, where domain is the Account's email domain (else the domain
//     option); UserName reads back as the email's local part. HubSpot never changes a user's
//     email, so Traits.Fields hold only the names and the role.
//   - HubSpot users carry no external id (Traits.NoExternalID): ExternalID is never stored
//     nor reported, and a create adopts the user that already holds the email (found with
//     ?idProperty=EMAIL).
//   - Role names a permission set ("Marketer" answers to role marketer: names compare as
//     lower-case slugs); an empty Role leaves the user's role alone.
//   - Entitlements team:SLUG are teams: the first becomes the primary team, the rest
//     secondary teams. A user has one role, which is Account.Role and not an entitlement.
//   - There is no suspended state (Traits.CanDisable is false): a leaver's user is deleted,
//     which removes it from the account.
//
// The burst limit is 190 requests per 10 seconds for private apps (Professional and
// Enterprise); a 429 becomes connector.ErrRateLimited, waiting Retry-After when sent, else the
// rate window the X-HubSpot-RateLimit-Interval-Milliseconds header states.
//
// Configuration (a private app's token with the settings.users scopes):
//
//	provisioning:
//	  apps:
//	    hubspot:
//	      token_env: HUBSPOT_PRIVATE_APP_TOKEN
//	      options: {domain: piedpiper.example}
package hubspot

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tenure-id/tenure/pkg/connector"
)

// DefaultBaseURL is HubSpot's API address.
const DefaultBaseURL = "https://api.hubapi.com"

// Documented burst limit: 190 requests per 10 seconds.
const (
	DefaultRate        = 19.0
	DefaultBurst       = 190
	DefaultConcurrency = 4
)

// Config builds a Connector.
type Config struct {
	BaseURL string // DefaultBaseURL when empty
	// Token is the private app's access token (scope settings.users.write). Required.
	Token string
	// Domain is the email domain for accounts without an email.
	Domain string
	// SendWelcomeEmail makes HubSpot email new users an invitation.
	SendWelcomeEmail bool
	// PageSize is limit when listing (100 when zero, HubSpot's maximum).
	PageSize    int
	Rate        float64
	Burst       int
	Concurrency int
	HTTPClient  *http.Client
}

// Connector is a HubSpot connector. It is safe for concurrent use.
type Connector struct {
	base, token, domain string
	welcome             bool
	pageSize            int
	http                *http.Client
	traits              connector.Traits

	mu    sync.Mutex
	roles map[string]string // slug → id; nil until read
	teams map[string]string // slug → id; nil until read
}

var _ interface {
	connector.Connector
	connector.Finder
	connector.Describer
} = (*Connector)(nil)

// New checks cfg and returns a connector.
func New(cfg Config) (*Connector, error) {
	if cfg.Token == "" {
		return nil, fmt.Errorf("hubspot: the private app token is required (token_env or token_file)")
	}
	c := &Connector{base: strings.TrimRight(cfg.BaseURL, "/"), token: cfg.Token, domain: strings.ToLower(cfg.Domain),
		welcome: cfg.SendWelcomeEmail, pageSize: cfg.PageSize, http: cfg.HTTPClient,
		traits: connector.Traits{CanDisable: false, MembershipKinds: []string{"team"}, NoExternalID: true,
			Fields: []string{"given_name", "family_name", "role"},
			Rate:   DefaultRate, Burst: DefaultBurst, Concurrency: DefaultConcurrency}}
	if c.base == "" {
		c.base = DefaultBaseURL
	}
	if c.pageSize <= 0 || c.pageSize > 100 {
		c.pageSize = 100
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: time.Minute}
	}
	c.traits = c.traits.WithLimits(cfg.Rate, cfg.Burst, cfg.Concurrency)
	return c, nil
}

// FromOptions builds a Config from an app's provisioning options:
//
//	domain              email domain for accounts without an email
//	send_welcome_email  true|false (default false: people sign in through SSO)
//	page_size           users per list page (1..100, default 100)
func FromOptions(baseURL, token string, opts map[string]string) (Config, error) {
	cfg := Config{BaseURL: baseURL, Token: token, Domain: opts["domain"]}
	for k, v := range opts {
		switch k {
		case "domain":
		case "send_welcome_email":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return cfg, fmt.Errorf("options.send_welcome_email: %q is not true or false", v)
			}
			cfg.SendWelcomeEmail = b
		case "page_size":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 100 {
				return cfg, fmt.Errorf("options.page_size: %q is not a number from 1 to 100", v)
			}
			cfg.PageSize = n
		default:
			return cfg, fmt.Errorf("options.%s: unknown option (known: domain, page_size, send_welcome_email)", k)
		}
	}
	return cfg, nil
}

// Traits implements connector.Describer.
func (c *Connector) Traits() connector.Traits { return c.traits }
