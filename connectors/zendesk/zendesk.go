// Package zendesk provisions Zendesk Support users through the REST Users API (Zendesk has no
// public inbound SCIM): roles, suspension, soft deletion and group memberships.
//
// Account mapping:
//   - email is UserName@domain, where domain is the Account's email domain (else the domain
//     option): Zendesk has no user names, so UserName is read back as the email's local part
//     and Traits.Fields name user_name rather than email. A rename changes the primary email
//     through the identities endpoints: a PUT of the user would only add a further identity.
//   - ExternalID is Zendesk's external_id; DisplayName (else "Given Family") is the name.
//   - Role is end-user, agent or admin, or light-agent: an agent with the Light Agent custom
//     role (found by role_type 1, or by the light_agent_role option's name). Other custom
//     agent roles read back as agent. An empty Role creates an end user and leaves the role
//     alone on update.
//   - Entitlements group:SLUG are memberships of the group whose name slugs to SLUG ("Tier 1"
//     and "tier-1" are both group:tier-1). Only agents and admins can be group members.
//
// A create first searches by external_id (adopting a match); when Zendesk answers 422 "already
// being used" for the email, the user holding it is adopted if its external_id is empty or the
// same, else the create fails with connector.ErrConflict. Termination suspends; delete is
// Zendesk's soft delete. 429 carries Retry-After (sometimes not, sometimes with a text/plain
// body): RetryAfter is set when present.
//
// Configuration (the token is an API token of the admin named by email):
//
//	provisioning:
//	  apps:
//	    zendesk:
//	      token_env: ZENDESK_API_TOKEN
//	      options: {subdomain: piedpiper, email: tenure-admin@piedpiper.example}
//	      rate: 6.67   # the Growth and Professional plans' 400 requests a minute
package zendesk

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tenure-id/tenure/pkg/connector"
)

// Defaults: the Enterprise plan's 700 requests a minute (Team: 200, Growth and Professional:
// 400); set rate in the app's configuration for other plans.
const (
	DefaultRate        = 700.0 / 60
	DefaultBurst       = 50
	DefaultConcurrency = 4
)

// Config builds a Connector.
type Config struct {
	// BaseURL is https://SUBDOMAIN.zendesk.com (or a sandbox's address). Required.
	BaseURL string
	// Email and Token are the API credentials (Basic "email/token:TOKEN"). Required.
	Email, Token string
	// Domain is the email domain for accounts that carry a user name but no email.
	Domain string
	// LightAgentRole names the custom role light-agent maps to; empty: the role of type 1.
	LightAgentRole string
	// PageSize is page[size] when listing (100 when zero, Zendesk's maximum).
	PageSize    int
	Rate        float64
	Burst       int
	Concurrency int
	HTTPClient  *http.Client
}

// Connector is a Zendesk connector. It is safe for concurrent use.
type Connector struct {
	base, email, token string
	domain, lightName  string
	pageSize           int
	http               *http.Client
	traits             connector.Traits

	mu         sync.Mutex
	lightAgent int64            // custom role id; 0 until looked up
	groups     map[string]int64 // slug → id; nil until looked up
}

var _ interface {
	connector.Connector
	connector.Finder
	connector.Describer
} = (*Connector)(nil)

// New checks cfg and returns a connector.
func New(cfg Config) (*Connector, error) {
	switch {
	case cfg.BaseURL == "":
		return nil, fmt.Errorf("zendesk: subdomain (or base_url) is required")
	case cfg.Email == "":
		return nil, fmt.Errorf("zendesk: email (the API user's address) is required")
	case cfg.Token == "":
		return nil, fmt.Errorf("zendesk: the API token is required (token_env or token_file)")
	}
	c := &Connector{base: strings.TrimRight(cfg.BaseURL, "/"), email: cfg.Email, token: cfg.Token,
		domain: strings.ToLower(cfg.Domain), lightName: cfg.LightAgentRole, pageSize: cfg.PageSize, http: cfg.HTTPClient,
		traits: connector.Traits{CanDisable: true, MembershipKinds: []string{"group"},
			Fields: []string{"user_name", "display_name", "role"},
			Rate:   DefaultRate, Burst: DefaultBurst, Concurrency: DefaultConcurrency}}
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
//	subdomain         the account's subdomain (https://SUBDOMAIN.zendesk.com) unless base_url is set
//	email             the API user's address (required)
//	domain            email domain for accounts without an email
//	light_agent_role  name of the custom role light-agent maps to (default: the Light Agent role)
//	page_size         users per list page (1..100, default 100)
func FromOptions(baseURL, token string, opts map[string]string) (Config, error) {
	known := map[string]bool{"subdomain": true, "email": true, "domain": true, "light_agent_role": true, "page_size": true}
	for k := range opts {
		if !known[k] {
			return Config{}, fmt.Errorf("options.%s: unknown option (known: domain, email, light_agent_role, page_size, subdomain)", k)
		}
	}
	cfg := Config{BaseURL: baseURL, Email: opts["email"], Token: token, Domain: opts["domain"], LightAgentRole: opts["light_agent_role"]}
	if cfg.BaseURL == "" && opts["subdomain"] != "" {
		sub := opts["subdomain"]
		if strings.ContainsAny(sub, "./:@ ") {
			return cfg, fmt.Errorf("options.subdomain: %q is not a bare subdomain", sub)
		}
		cfg.BaseURL = "https://" + sub + ".zendesk.com"
	}
	if s := opts["page_size"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			return cfg, fmt.Errorf("options.page_size: %q is not a number from 1 to 100", s)
		}
		cfg.PageSize = n
	}
	return cfg, nil
}

// Traits implements connector.Describer.
func (c *Connector) Traits() connector.Traits { return c.traits }
