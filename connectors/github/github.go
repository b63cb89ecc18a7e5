// Package github provisions GitHub: users and groups over SCIM (the shared connectors/scim
// client with GitHub's profile) and teams over the REST API.
//
// # Modes
//
// enterprise (default): Enterprise Managed Users. SCIM at /scim/v2/enterprises/{enterprise}/
// Users and Groups; a user's login is GitHub's normalisation of the SCIM userName plus
// "_" + shortcode (ManagedLogin). Entitlements "group:NAME" are SCIM groups (created on first
// use); "team:SLUG" are teams of the org, joined over REST after the org membership.
//
// org: a SAML SSO organization with personal accounts. SCIM at
// /scim/v2/organizations/{org}/Users only (no groups); a create sends an org invitation, and
// active=false removes the person from the org. The account's userName must be the person's
// GitHub login: team memberships are made for that login and stay pending until the
// invitation is accepted.
//
// Account fields: userName, externalId, active, displayName (the person's names when empty),
// name.givenName/familyName, the work email (type work, primary) and, in an enterprise, the
// role as roles[].value, which GitHub limits to user, guest_collaborator, enterprise_owner
// and billing_manager (any other is refused as invalid).
//
// Deprovisioning: disable is active=false (suspension in an enterprise: reversible, login and
// email obfuscated, team memberships gone); delete is DELETE /Users/{id}, which in an
// enterprise wipes the identity for good (the account stays suspended). The engine disables at
// termination and deletes after the app's grace period (delete_after_days).
//
// # Configuration (provisioning.apps.NAME)
//
//	connector: github
//	base_url:  https://api.github.com (default; a GitHub Enterprise Server API root, a fake)
//	token_env / token_file: a token with scim:enterprise (org mode: admin:org) and, for teams,
//	           admin:org; never logged nor put in errors
//	options:
//	  mode        enterprise (default) or org
//	  enterprise  the enterprise slug (enterprise mode; required)
//	  org         the organization whose teams "team:SLUG" names (required in org mode)
//	  shortcode   the enterprise shortcode in managed logins; default: the enterprise slug
//	  team_links  SLUG=GROUP pairs, comma-separated: the team takes its members from the SCIM
//	              group GROUP (a GitHub "external group" link made by the connector once the
//	              group exists). Linked teams are managed through group:GROUP only; a team:
//	              grant for them is refused, and List does not report them.
//	  team_role   member (default) or maintainer: the role team memberships are made with
//	  roles       POLICY_ROLE=GITHUB_ROLE pairs, comma-separated: how policy roles become
//	              enterprise roles; default member=user,owner=enterprise_owner
//	  plus the scim connector's page_size, timeout, user_agent and map.FIELD options.
//
// Rate limits: GitHub allows 5,000 requests an hour per token, so Traits default to 1.39/s
// with a burst of 80 (the secondary limit on content-creating requests per minute) and 10
// requests in flight; rate/burst/concurrency in the config override them. An exhausted limit
// (403 or 429 with x-ratelimit-remaining 0) is ErrRateLimited with RetryAfter up to
// x-ratelimit-reset; a secondary limit uses retry-after, or 60 s when GitHub gives none.
package github

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tenure-id/tenure/connectors/scim"
	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/connector"
)

// DefaultBaseURL is GitHub's public API.
const DefaultBaseURL = "https://api.github.com"

// Config builds a connector without the configuration file (tests, the sandbox).
type Config struct {
	App     string
	BaseURL string // DefaultBaseURL when empty
	Token   string
	// Mode is "enterprise" (default) or "org".
	Mode       string
	Enterprise string
	Org        string
	Shortcode  string
	// TeamLinks maps team slugs to the SCIM group whose members the team takes.
	TeamLinks map[string]string
	// TeamRole is member (default) or maintainer.
	TeamRole string
	// Roles maps policy roles to enterprise roles ("member=user,..."); DefaultRoles when empty.
	Roles string
	// Options are passed to the SCIM profile (page_size, timeout, user_agent, map.FIELD).
	Options map[string]string
	// Rate, Burst and Concurrency override the documented limits when positive.
	Rate        float64
	Burst       int
	Concurrency int
	HTTPClient  *http.Client
	Logger      *slog.Logger
	Now         func() time.Time
}

// Connector is a GitHub enterprise or organization. It is safe for concurrent use.
type Connector struct {
	scim      *scim.Connector
	app       string
	org       string
	orgMode   bool
	shortcode string
	links     map[string]string
	teamRole  string
	roles     roleMap
	userPath  string
	groupPath string
	log       *slog.Logger
	traits    connector.Traits

	mu     sync.Mutex
	linked map[string]bool // team slugs whose link is known to be in place
}

var _ interface {
	connector.Connector
	connector.Finder
	connector.Describer
} = (*Connector)(nil)

// Profile is GitHub's SCIM dialect for the given mode and slug (enterprise or org).
func Profile(orgMode bool, slug string) scim.Profile {
	p := scim.Generic()
	p.Name = "github"
	p.UserAgent = "tenure-github/1"
	p.ETag = scim.ETagOff
	p.Filters = []string{"externalId", "userName"}
	p.PageSize = 100
	p.Mapping = scim.Mapping{
		"email":        `emails[type eq "work"].value`,
		"given_name":   "name.givenName",
		"family_name":  "name.familyName",
		"display_name": "displayName",
		"role":         "roles.value",
	}
	p.GroupKind = "group"
	p.MemberFilter = false // GitHub filters groups on externalId, id and displayName only
	p.CreateGroups = true
	p.GroupExternalID = true // GitHub refuses a group without an externalId
	p.Traits = connector.Traits{CanDisable: true, Rate: 5000.0 / 3600, Burst: 80, Concurrency: 10}
	if orgMode {
		p.UserPath = "/scim/v2/organizations/" + slug + "/Users"
		p.GroupPath = ""
		p.Required = []string{"email", "given_name", "family_name"}
		delete(p.Mapping, "role")
		delete(p.Mapping, "display_name")
	} else {
		p.UserPath = "/scim/v2/enterprises/" + slug + "/Users"
		p.GroupPath = "/scim/v2/enterprises/" + slug + "/Groups"
		p.Required = []string{"email", "display_name"}
	}
	return p
}

// New checks cfg and returns a connector. It makes no request.
func New(cfg Config) (*Connector, error) {
	if cfg.App == "" {
		cfg.App = "github"
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	fail := func(format string, args ...any) (*Connector, error) {
		return nil, fmt.Errorf("app %s: "+format, append([]any{cfg.App}, args...)...)
	}
	var slug string
	switch cfg.Mode {
	case "", "enterprise":
		if cfg.Enterprise == "" {
			return fail("options.enterprise is required in enterprise mode")
		}
		slug = cfg.Enterprise
	case "org":
		if cfg.Org == "" {
			return fail("options.org is required in org mode")
		}
		if len(cfg.TeamLinks) > 0 {
			return fail("options.team_links needs enterprise mode (org SCIM has no groups)")
		}
		slug = cfg.Org
	default:
		return fail("options.mode: %q is not enterprise or org", cfg.Mode)
	}
	switch cfg.TeamRole {
	case "":
		cfg.TeamRole = "member"
	case "member", "maintainer":
	default:
		return fail("options.team_role: %q is not member or maintainer", cfg.TeamRole)
	}
	if len(cfg.TeamLinks) > 0 && cfg.Org == "" {
		return fail("options.team_links needs options.org")
	}
	if cfg.Roles == "" {
		cfg.Roles = DefaultRoles
	}
	roles, err := parseRoles(cfg.Roles)
	if err != nil {
		return fail("options.roles: %w", err)
	}
	p, err := Profile(cfg.Mode == "org", slug).WithOptions(cfg.Options)
	if err != nil {
		return fail("%w", err)
	}
	p = p.WithLimits(cfg.Rate, cfg.Burst, cfg.Concurrency)
	sc, err := scim.New(scim.Config{App: cfg.App, BaseURL: cfg.BaseURL, Token: cfg.Token, Profile: p,
		HTTPClient: cfg.HTTPClient, Logger: cfg.Logger, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	c := &Connector{scim: sc, app: cfg.App, org: cfg.Org, orgMode: cfg.Mode == "org", shortcode: cfg.Shortcode,
		links: cfg.TeamLinks, teamRole: cfg.TeamRole, roles: roles, userPath: p.UserPath, groupPath: p.GroupPath,
		log: cfg.Logger, linked: map[string]bool{}}
	if c.shortcode == "" {
		c.shortcode = cfg.Enterprise
	}
	c.traits = sc.Traits()
	if c.org != "" {
		c.traits.MembershipKinds = append(slices.Clone(c.traits.MembershipKinds), "team")
	}
	return c, nil
}

// ownOptions are the options this package reads; the rest go to the SCIM profile.
var ownOptions = []string{"mode", "enterprise", "org", "shortcode", "team_links", "team_role", "roles"}

// Open builds the connector for one configured app (see the package documentation).
func Open(app string, ac config.AppConfig, getenv func(string) string, log *slog.Logger) (*Connector, error) {
	token, err := ac.Token(app, getenv)
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, fmt.Errorf("app %s: a GitHub app needs token_env or token_file", app)
	}
	links, err := parseLinks(ac.Options["team_links"])
	if err != nil {
		return nil, fmt.Errorf("app %s: options.team_links: %w", app, err)
	}
	rest := map[string]string{}
	for k, v := range ac.Options {
		if !slices.Contains(ownOptions, k) {
			rest[k] = v
		}
	}
	return New(Config{App: app, BaseURL: ac.BaseURL, Token: token, Mode: ac.Options["mode"],
		Enterprise: ac.Options["enterprise"], Org: ac.Options["org"], Shortcode: ac.Options["shortcode"],
		TeamLinks: links, TeamRole: ac.Options["team_role"], Roles: ac.Options["roles"], Options: rest,
		Rate: ac.Rate, Burst: ac.Burst, Concurrency: ac.Concurrency,
		Logger: log})
}

// parseLinks reads "backend=Engineering Backend, web=Frontend".
func parseLinks(s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out := map[string]string{}
	for i, pair := range strings.Split(s, ",") {
		slug, group, ok := strings.Cut(pair, "=")
		slug, group = strings.TrimSpace(slug), strings.TrimSpace(group)
		if !ok || slug == "" || group == "" {
			return nil, fmt.Errorf("pair %d (%q) is not SLUG=GROUP", i+1, strings.TrimSpace(pair))
		}
		if _, dup := out[slug]; dup {
			return nil, fmt.Errorf("team %q is linked twice", slug)
		}
		out[slug] = group
	}
	return out, nil
}

// Traits implements connector.Describer.
func (c *Connector) Traits() connector.Traits { return c.traits }

// find reads one account with its group and team memberships.
func (c *Connector) find(ctx context.Context, m connector.Match) (connector.Account, error) {
	a, err := c.scim.Find(ctx, m)
	if err != nil || c.org == "" || !a.Active {
		return a, c.fixErr(err)
	}
	if err := c.findTeams(ctx, &a); err != nil {
		return connector.Account{}, fmt.Errorf("app %s: find: %w", c.app, c.fixErr(err))
	}
	return a, nil
}

// Login is the GitHub login of the account with SCIM userName in this app.
func (c *Connector) Login(userName string) string {
	if c.orgMode {
		return userName
	}
	return ManagedLogin(userName, c.shortcode)
}

// apply performs op with GitHub's own roles.
func (c *Connector) apply(ctx context.Context, op connector.Op) (connector.Account, error) {
	if op.Kind == connector.OpCreate || op.Kind == connector.OpUpdate {
		if op.Account.DisplayName == "" && !c.orgMode {
			// GitHub requires displayName; the person's names make a fair one.
			op.Account.DisplayName = strings.TrimSpace(op.Account.GivenName + " " + op.Account.FamilyName)
			if op.Account.DisplayName == "" {
				op.Account.DisplayName = op.Account.UserName
			}
		}
	}
	if op.Kind == connector.OpAddMember || op.Kind == connector.OpRemoveMember {
		kind, name, _ := strings.Cut(op.Entitlement, ":")
		switch kind {
		case "team":
			a, err := c.team(ctx, op, name)
			if err != nil {
				return connector.Account{}, fmt.Errorf("app %s: %s %s: %w", c.app, op.Kind, op.Entitlement, c.fixErr(err))
			}
			return a, nil
		case "group":
			a, err := c.scim.Apply(ctx, op)
			if err != nil || op.Kind != connector.OpAddMember {
				return a, c.fixErr(err)
			}
			// The group exists now (the SCIM client creates it on first use): link the teams
			// configured to take their members from it.
			if err := c.linkTeams(ctx, name); err != nil {
				return connector.Account{}, fmt.Errorf("app %s: %s %s: linking teams: %w", c.app, op.Kind, op.Entitlement, c.fixErr(err))
			}
			return a, nil
		}
	}
	a, err := c.scim.Apply(ctx, op)
	return a, c.fixErr(err)
}

// fixErr gives a secondary rate limit that named no wait GitHub's documented minimum of a
// minute, so the workers do not hammer it.
func (c *Connector) fixErr(err error) error {
	var ce *connector.Error
	if errors.As(err, &ce) && errors.Is(ce.Kind, connector.ErrRateLimited) && ce.RetryAfter <= 0 {
		ce.RetryAfter = time.Minute
	}
	return err
}
