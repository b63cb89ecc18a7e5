// Package slack provisions Slack (Business+ and Enterprise Grid) over its SCIM v2 API, through
// the shared connectors/scim client with Slack's profile.
//
// Slack's rules the connector works with:
//
//   - userName must be under 21 characters of a-z, 0-9, '.', '-' and '_', and unique. The
//     person's username is used when Slack accepts it; otherwise the connector derives one
//     (UserNames: accents stripped, cut to 20, or cut shorter with a suffix hashed from the
//     person's ID when another account holds it) and keeps it: later updates leave a derived
//     userName alone, and correlation goes by externalId and email. Traits.Fields therefore
//     leave user_name out, so a derived name is never reported as drift.
//   - displayName may not contain @; at least one email; emails are unique.
//   - Users filter on userName and email only. A create adopts the user that already holds
//     its externalId through an index built from one listing and kept up to date by the
//     connector's own creates (the SCIM client's ExternalIDIndex), not by listing every user
//     before each create.
//   - DELETE /Users/{id} deactivates (the account stays, inactive): delete and disable end
//     the same way, and a deleted account can be enabled again.
//   - Groups are user groups. "group:NAME" is the user group NAME; "channel:NAME" is the user
//     group "channel-NAME" (prefix set by channel_prefix), whose default channel an admin sets
//     to #NAME in Slack: SCIM cannot add people to channels, user groups with default channels
//     can. Missing user groups are created on first use.
//   - Rate limits are per minute for the whole org; the tightest for provisioning is 180 user
//     creates (and 180 updates) a minute with bursts of 20, so Traits default to 3/s, burst
//     20, concurrency 4. A 429 carries Retry-After, which becomes RetryAfter.
//
// # Configuration (provisioning.apps.NAME)
//
//	connector: slack
//	base_url:  https://api.slack.com/scim/v2 (default)
//	token_env / token_file: an admin-scoped token; never logged nor put in errors
//	options:
//	  channel_prefix  user-group name prefix for channel: entitlements, default "channel-"
//	  sync_manager    true: attributes.manager (the manager's Tenure person ID) is written as
//	                  the enterprise extension's manager.managerId (the manager's Slack id),
//	                  once the manager has a Slack account
//	  plus the scim connector's page_size, timeout, user_agent and map.FIELD options.
package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tenure-id/tenure/connectors/scim"
	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/connector"
)

// DefaultBaseURL is Slack's SCIM v2 root.
const DefaultBaseURL = "https://api.slack.com/scim/v2"

// DefaultChannelPrefix names the user group behind a channel: entitlement.
const DefaultChannelPrefix = "channel-"

// Config builds a connector without the configuration file (tests, the sandbox).
type Config struct {
	App           string
	BaseURL       string // DefaultBaseURL when empty
	Token         string
	ChannelPrefix string // DefaultChannelPrefix when empty
	SyncManager   bool
	// Options are passed to the SCIM profile (page_size, timeout, user_agent, map.FIELD).
	Options     map[string]string
	Rate        float64
	Burst       int
	Concurrency int
	HTTPClient  *http.Client
	Logger      *slog.Logger
	Now         func() time.Time
}

// Connector is a Slack org. It is safe for concurrent use.
type Connector struct {
	scim        *scim.Connector
	base        string
	userPath    string
	app         string
	prefix      string
	syncManager bool
	log         *slog.Logger
	traits      connector.Traits
}

var _ interface {
	connector.Connector
	connector.Finder
	connector.Describer
} = (*Connector)(nil)

const managerPath = scim.EnterpriseSchema + ":manager.managerId"

// Profile is Slack's SCIM dialect.
func Profile() scim.Profile {
	p := scim.Generic()
	p.Name = "slack"
	p.UserAgent = "tenure-slack/1"
	p.ETag = scim.ETagOff
	p.Filters = []string{"userName", "email"} // as Slack documents them
	p.ExternalIDIndex = true                  // no externalId filter: adopt through an index
	p.PageSize = 1000
	p.MaxUserNameLen = MaxUserName
	p.DeleteDeactivates = true
	p.MemberFilter = false // user groups filter on displayName only
	p.Required = []string{"email"}
	p.Mapping = scim.DefaultMapping()
	delete(p.Mapping, "attributes.manager")
	p.Traits = connector.Traits{CanDisable: true, Rate: 3, Burst: 20, Concurrency: 4}
	return p
}

// New checks cfg and returns a connector. It makes no request.
func New(cfg Config) (*Connector, error) {
	if cfg.App == "" {
		cfg.App = "slack"
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.ChannelPrefix == "" {
		cfg.ChannelPrefix = DefaultChannelPrefix
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	p, err := Profile().WithOptions(cfg.Options)
	if err != nil {
		return nil, fmt.Errorf("app %s: %w", cfg.App, err)
	}
	if cfg.SyncManager {
		p.Mapping["attributes.manager"] = managerPath
	}
	p = p.WithLimits(cfg.Rate, cfg.Burst, cfg.Concurrency)
	sc, err := scim.New(scim.Config{App: cfg.App, BaseURL: cfg.BaseURL, Token: cfg.Token, Profile: p,
		HTTPClient: cfg.HTTPClient, Logger: cfg.Logger, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	c := &Connector{scim: sc, base: cfg.BaseURL, userPath: p.UserPath, app: cfg.App, prefix: cfg.ChannelPrefix, syncManager: cfg.SyncManager, log: cfg.Logger}
	c.traits = sc.Traits()
	c.traits.Fields = slices.DeleteFunc(slices.Clone(c.traits.Fields), func(f string) bool { return f == "user_name" })
	c.traits.MembershipKinds = []string{"channel", "group"}
	return c, nil
}

// Open builds the connector for one configured app (see the package documentation).
func Open(app string, ac config.AppConfig, getenv func(string) string, log *slog.Logger) (*Connector, error) {
	token, err := ac.Token(app, getenv)
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, fmt.Errorf("app %s: a Slack app needs token_env or token_file", app)
	}
	cfg := Config{App: app, BaseURL: ac.BaseURL, Token: token, ChannelPrefix: ac.Options["channel_prefix"],
		Options: map[string]string{}, Rate: ac.Rate, Burst: ac.Burst, Concurrency: ac.Concurrency,
		Logger: log}
	if v, ok := ac.Options["sync_manager"]; ok {
		if cfg.SyncManager, err = strconv.ParseBool(v); err != nil {
			return nil, fmt.Errorf("app %s: options.sync_manager: %q is not true or false", app, v)
		}
	}
	for k, v := range ac.Options {
		if k != "channel_prefix" && k != "sync_manager" {
			cfg.Options[k] = v
		}
	}
	return New(cfg)
}

// BaseURL returns the SCIM root the connector talks to.
func (c *Connector) BaseURL() string { return c.base }

// Traits implements connector.Describer.
func (c *Connector) Traits() connector.Traits { return c.traits }

// List implements connector.Connector.
func (c *Connector) List(ctx context.Context) ([]connector.Account, error) {
	accs, err := c.scim.List(ctx)
	if err != nil {
		return nil, err
	}
	ext := map[string]string{} // Slack id → externalId
	for _, a := range accs {
		ext[a.ID] = a.ExternalID
	}
	for i := range accs {
		c.fromApp(&accs[i], func(id string) string { return ext[id] })
	}
	return accs, nil
}

// Find implements connector.Finder.
func (c *Connector) Find(ctx context.Context, m connector.Match) (connector.Account, error) {
	a, err := c.scim.Find(ctx, m)
	if err != nil {
		return a, err
	}
	c.fromApp(&a, func(id string) string { return c.externalIDOf(ctx, id) })
	return a, nil
}

// fromApp turns app forms into Tenure's: user-group memberships into channel:/group: keys,
// managerId into the manager's externalId.
func (c *Connector) fromApp(a *connector.Account, extOf func(string) string) {
	for i, m := range a.Memberships {
		if name, ok := strings.CutPrefix(m, "group:"+c.prefix); ok && name != "" {
			a.Memberships[i] = "channel:" + name
		}
	}
	slices.Sort(a.Memberships)
	if id := a.Attributes["manager"]; c.syncManager && id != "" {
		a.Attributes["manager"] = extOf(id)
	}
}

// externalIDOf reads one user's externalId ("" when it cannot).
func (c *Connector) externalIDOf(ctx context.Context, id string) string {
	var r struct {
		ExternalID string `json:"externalId"`
	}
	if _, err := c.scim.Do(ctx, http.MethodGet, c.userPath+"/"+url.PathEscape(id), nil, nil, nil, &r); err != nil {
		return ""
	}
	return r.ExternalID
}

// Apply implements connector.Connector.
func (c *Connector) Apply(ctx context.Context, op connector.Op) (connector.Account, error) {
	switch op.Kind {
	case connector.OpAddMember, connector.OpRemoveMember:
		kind, name, _ := strings.Cut(op.Entitlement, ":")
		switch kind {
		case "channel", "group":
			if name == "" {
				return connector.Account{}, &connector.Error{Kind: connector.ErrInvalid,
					Detail: fmt.Sprintf("app %s: entitlement %q names no user group", c.app, op.Entitlement)}
			}
			if kind == "channel" {
				op.Entitlement = "group:" + c.prefix + name
			}
		default:
			return connector.Account{}, &connector.Error{Kind: connector.ErrInvalid,
				Detail: fmt.Sprintf("app %s: entitlement %q is neither group: nor channel:", c.app, op.Entitlement)}
		}
	case connector.OpCreate, connector.OpUpdate:
		if err := c.toApp(ctx, &op.Account); err != nil {
			return connector.Account{}, err
		}
		if strings.Contains(op.Account.DisplayName, "@") {
			return connector.Account{}, &connector.Error{Kind: connector.ErrInvalid,
				Detail: fmt.Sprintf("app %s: displayName %q may not contain @ in Slack", c.app, op.Account.DisplayName)}
		}
		if op.Kind == connector.OpCreate {
			return c.create(ctx, op)
		}
		return c.update(ctx, op)
	}
	a, err := c.scim.Apply(ctx, op)
	if err != nil {
		return a, err
	}
	c.fromApp(&a, func(id string) string { return c.externalIDOf(ctx, id) })
	return a, nil
}

// toApp writes the manager as Slack's id (dropped, for now, when the manager has no account).
func (c *Connector) toApp(ctx context.Context, a *connector.Account) error {
	if !c.syncManager || a.Attributes["manager"] == "" {
		return nil
	}
	attrs := make(map[string]string, len(a.Attributes))
	for k, v := range a.Attributes {
		attrs[k] = v
	}
	a.Attributes = attrs
	mgr, err := c.scim.Find(ctx, connector.Match{ExternalID: attrs["manager"]})
	switch {
	case errors.Is(err, connector.ErrNotFound):
		c.log.Info("slack: manager has no account yet; set at the next reconciliation", "app", c.app, "manager", attrs["manager"])
		delete(attrs, "manager")
	case err != nil:
		return err
	default:
		attrs["manager"] = mgr.ID
	}
	return nil
}

func (c *Connector) create(ctx context.Context, op connector.Op) (connector.Account, error) {
	want := op.Account
	if strings.TrimSpace(want.UserName) == "" {
		return c.scim.Apply(ctx, op) // refused there as invalid, in the client's words
	}
	var (
		a   connector.Account
		err error
	)
	names := []string{want.UserName}
	if !ValidUserName(want.UserName) {
		// Only a derived name moves on to a suffixed one: a valid username another account
		// holds is a real conflict, for correlation or a person to settle.
		names = UserNames(want.UserName, want.ExternalID)
	}
	for _, name := range names {
		op.Account.UserName = name
		if a, err = c.scim.Apply(ctx, op); !errors.Is(err, connector.ErrConflict) {
			break
		}
		// Another account holds this userName (try the next) or the email (give up).
		holder, ferr := c.scim.Find(ctx, connector.Match{UserName: name})
		if ferr != nil {
			break
		}
		if want.ExternalID != "" && holder.ExternalID == want.ExternalID {
			a, err = holder, nil
			break
		}
	}
	if err != nil {
		return connector.Account{}, err
	}
	if a.UserName != want.UserName {
		c.log.Info("slack: userName derived", "app", c.app, "person", want.ExternalID, "user_name", a.UserName)
	}
	c.fromApp(&a, func(id string) string { return c.externalIDOf(ctx, id) })
	return a, nil
}

func (c *Connector) update(ctx context.Context, op connector.Op) (connector.Account, error) {
	touchesName := len(op.Fields) == 0 || slices.Contains(op.Fields, "user_name")
	if touchesName && !ValidUserName(op.Account.UserName) {
		// Keep the name derived at creation when it is one of this person's.
		var cur struct {
			UserName string `json:"userName"`
		}
		if _, err := c.scim.Do(ctx, http.MethodGet, c.userPath+"/"+url.PathEscape(op.AccountID), nil, nil, nil, &cur); err != nil {
			return connector.Account{}, fmt.Errorf("app %s: update %s: %w", c.app, op.AccountID, err)
		}
		names := UserNames(op.Account.UserName, op.Account.ExternalID)
		if slices.Contains(names, cur.UserName) {
			op.Account.UserName = cur.UserName
		} else {
			op.Account.UserName = names[0]
		}
	}
	a, err := c.scim.Apply(ctx, op)
	if err != nil {
		return a, err
	}
	c.fromApp(&a, func(id string) string { return c.externalIDOf(ctx, id) })
	return a, nil
}
