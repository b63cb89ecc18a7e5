// Package scim is the generic SCIM 2.0 client connector (RFC 7643, RFC 7644): users and
// groups, the enterprise extension, filters, paging, PUT or PATCH updates, memberships through
// PATCH on groups, ETag/If-Match when the app offers it, and the app's error bodies and rate
// limits turned into connector errors. App connectors reuse it through a Profile (see Zapier,
// and Do for their non-SCIM endpoints).
//
// # Configuration
//
// An app with `connector: scim` (or `zapier`) in provisioning.apps takes base_url (the SCIM
// root, e.g. https://example.com/scim/v2), token_env or token_file (the bearer token; never
// logged nor put in errors), rate/burst/concurrency overrides, and these `options:`
//
//	profile              generic (default) or zapier: the dialect the other options adjust
//	user_path            users endpoint, default /Users
//	group_path           groups endpoint, default /Groups; empty: the app has no groups
//	update               patch (default: changed attributes only) or put (read, then replace)
//	filter               attributes the app filters users on, comma-separated, in the order
//	                     Find tries them: externalId, userName and an email path
//	                     (emails.value, or email as Slack has it); default
//	                     externalId,userName,emails.value
//	page_size            count per list page, default 100
//	create_groups        true (default): a missing group is created on first add_member
//	group_kind           entitlement kind of groups, default group ("group:engineering")
//	user_agent           User-Agent header, default tenure-scim/1
//	etag                 auto (default: ask /ServiceProviderConfig), on or off
//	timeout              per-request timeout, default 30s
//	max_username_length  refuse longer user names before sending; 0 (default) no limit
//	delete_deactivates   true when the app's DELETE only deactivates
//	member_filter        true when the app filters groups with members[value eq "id"]: Find
//	                     then reads only the user's groups (default false: all groups)
//	externalid_index     true when the app cannot filter users on externalId: creates adopt
//	                     through an index of one listing instead of listing before each create
//	map.FIELD            SCIM path of an account field: email, given_name, family_name,
//	                     display_name, role or attributes.NAME; "" drops a default mapping.
//	                     Defaults: email emails[type eq "work"].value, given_name
//	                     name.givenName, family_name name.familyName, display_name displayName,
//	                     attributes.title title, attributes.employee_number, department,
//	                     cost_center, organization, division and manager (manager.value) in
//	                     urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.
//
// Deprovisioning (disable at termination, delete after the grace period) is the engine's
// choice, from the app's deprovision setting; the connector performs whichever op it is given:
// disable is active=false, delete is DELETE.
//
// Entitlements of the group kind name SCIM groups by displayName; List reads the groups with
// their members once and reports each account's memberships.
package scim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/connector"
)

// Config builds a connector without the configuration file (tests, app connectors).
type Config struct {
	// App names the app in logs and errors.
	App string
	// BaseURL is the SCIM root; paths in the profile are appended to it.
	BaseURL string
	// Token is the bearer token; empty sends none.
	Token   string
	Profile Profile
	// HTTPClient defaults to a client without an overall timeout (Profile.Timeout bounds
	// each request).
	HTTPClient *http.Client
	// Logger defaults to discarding; requests are logged at debug level without credentials.
	Logger *slog.Logger
	// Now is the clock turning Retry-After dates into waits; time.Now when nil.
	Now func() time.Time
}

// Connector is a SCIM 2.0 app. It is safe for concurrent use.
type Connector struct {
	app    string
	base   string
	token  string
	p      Profile
	m      compiled
	hc     *http.Client
	log    *slog.Logger
	now    func() time.Time
	traits connector.Traits

	mu        sync.Mutex
	etagKnown bool
	etag      bool

	idx    externalIDIndex
	groups groupCache
}

var _ interface {
	connector.Connector
	connector.Finder
	connector.Describer
} = (*Connector)(nil)

// New checks cfg and returns a connector. It makes no request.
func New(cfg Config) (*Connector, error) {
	if cfg.App == "" {
		cfg.App = cfg.Profile.Name
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("app %s: base_url %q is not an http(s) URL", cfg.App, cfg.BaseURL)
	}
	if err := cfg.Profile.check(); err != nil {
		return nil, fmt.Errorf("app %s: %w", cfg.App, err)
	}
	m, err := compileMapping(cfg.Profile.Mapping)
	if err != nil {
		return nil, fmt.Errorf("app %s: profile %s: %w", cfg.App, cfg.Profile.Name, err)
	}
	c := &Connector{app: cfg.App, base: strings.TrimRight(cfg.BaseURL, "/"), token: cfg.Token, p: cfg.Profile, m: m,
		hc: cfg.HTTPClient, log: cfg.Logger, now: cfg.Now}
	if c.hc == nil {
		c.hc = &http.Client{}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.traits = cfg.Profile.Traits
	c.traits.Fields = m.traitsFields()
	c.traits.MembershipKinds = nil
	if cfg.Profile.GroupPath != "" {
		c.traits.MembershipKinds = []string{cfg.Profile.GroupKind}
	}
	return c, nil
}

// Open builds the connector for one configured app, starting from the profile the "profile"
// option names (def when absent) and applying the other options.
func Open(app string, ac config.AppConfig, getenv func(string) string, def string, log *slog.Logger) (*Connector, error) {
	name := ac.Options["profile"]
	if name == "" {
		name = def
	}
	mk, ok := Profiles[name]
	if !ok {
		return nil, fmt.Errorf("app %s: options.profile: %q is not a known SCIM profile (generic, zapier)", app, name)
	}
	p, err := mk().WithOptions(ac.Options)
	if err != nil {
		return nil, fmt.Errorf("app %s: %w", app, err)
	}
	p = p.WithLimits(ac.Rate, ac.Burst, ac.Concurrency)
	if ac.BaseURL == "" {
		return nil, fmt.Errorf("app %s: base_url is required for a SCIM app", app)
	}
	token, err := ac.Token(app, getenv)
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, fmt.Errorf("app %s: a SCIM app needs token_env or token_file", app)
	}
	return New(Config{App: app, BaseURL: ac.BaseURL, Token: token, Profile: p,
		Logger: log})
}

// Traits implements connector.Describer.
func (c *Connector) Traits() connector.Traits { return c.traits }

// Profile returns the profile the connector runs with.
func (c *Connector) Profile() Profile { return c.p }

// etagSupported says whether writes should carry If-Match. A rate limit or outage while asking
// is the caller's error (retried later); an app without /ServiceProviderConfig has no ETags.
func (c *Connector) etagSupported(ctx context.Context) (bool, error) {
	switch c.p.ETag {
	case ETagOn:
		return true, nil
	case ETagOff:
		return false, nil
	}
	c.mu.Lock()
	known, on := c.etagKnown, c.etag
	c.mu.Unlock()
	if known {
		return on, nil
	}
	var spc struct {
		ETag struct {
			Supported bool `json:"supported"`
		} `json:"etag"`
	}
	if _, err := c.Do(ctx, http.MethodGet, "/ServiceProviderConfig", nil, nil, nil, &spc); err != nil {
		if connector.Retryable(err) || errors.Is(err, connector.ErrUnauthorized) {
			return false, err
		}
		c.log.Debug("scim: no ServiceProviderConfig; writing without If-Match", "app", c.app)
	}
	c.mu.Lock()
	c.etagKnown, c.etag = true, spc.ETag.Supported
	c.mu.Unlock()
	return spc.ETag.Supported, nil
}

// resource is a SCIM resource as decoded JSON.
type resource map[string]any

func (r resource) id() string { return str(r["id"]) }

func (r resource) version() string {
	meta, _ := r["meta"].(map[string]any)
	return str(getFold(meta, "version"))
}

type listResponse struct {
	TotalResults json.Number       `json:"totalResults"`
	Resources    []json.RawMessage `json:"Resources"`
}

// pages reads every resource at path matching filter (empty: all), page by page, until
// totalResults. A server that repeats a page instead of advancing is an error, not a loop.
func (c *Connector) pages(ctx context.Context, path, filter string) ([]resource, error) {
	var out []resource
	seen := map[string]bool{}
	for start := 1; ; {
		q := url.Values{"startIndex": {fmt.Sprint(start)}, "count": {fmt.Sprint(c.p.PageSize)}}
		if filter != "" {
			q.Set("filter", filter)
		}
		var lr listResponse
		if _, err := c.Do(ctx, http.MethodGet, path, q, nil, nil, &lr); err != nil {
			return nil, err
		}
		total, _ := lr.TotalResults.Int64()
		fresh := 0
		for _, raw := range lr.Resources {
			var r resource
			d := json.NewDecoder(strings.NewReader(string(raw)))
			d.UseNumber()
			if err := d.Decode(&r); err != nil {
				return nil, &connector.Error{Kind: connector.ErrUnavailable, Detail: fmt.Sprintf("GET %s: a resource is not a JSON object", path)}
			}
			if seen[r.id()] {
				continue
			}
			seen[r.id()] = true
			fresh++
			out = append(out, r)
		}
		if len(lr.Resources) == 0 || int64(start-1+len(lr.Resources)) >= total {
			return out, nil
		}
		if fresh == 0 {
			return nil, &connector.Error{Kind: connector.ErrUnavailable,
				Detail: fmt.Sprintf("GET %s: page at startIndex %d repeats resources already read; the app does not page", path, start)}
		}
		start += len(lr.Resources)
	}
}

// quote writes a filter string literal.
func quote(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
}
