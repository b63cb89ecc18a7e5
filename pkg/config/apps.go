package config

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Provisioning says how Tenure provisions each app.
type Provisioning struct {
	// Apps, keyed by the app's name in policies/ (slack, github, ...).
	Apps map[string]AppConfig `yaml:"apps"`
	// Workers is how many outbox workers run in each process; 8 when zero.
	Workers int `yaml:"workers"`
	// Reconcile is the cron schedule of the full reconciliation (drift and orphans); empty:
	// "@every 1h" under tenure serve.
	Reconcile string `yaml:"reconcile"`
	// OutboxRetentionDays is how long done outbox ops are kept before tenure serve deletes
	// them (the audit log keeps what each did): 30 when zero, forever when negative.
	OutboxRetentionDays int `yaml:"outbox_retention_days"`
}

// DefaultOutboxRetentionDays is OutboxRetentionDays when unset.
const DefaultOutboxRetentionDays = 30

// OutboxRetention is how long done ops are kept; 0 means forever.
func (p Provisioning) OutboxRetention() time.Duration {
	switch {
	case p.OutboxRetentionDays < 0:
		return 0
	case p.OutboxRetentionDays == 0:
		return DefaultOutboxRetentionDays * 24 * time.Hour
	}
	return time.Duration(p.OutboxRetentionDays) * 24 * time.Hour
}

// AppConfig is one app's connection and provisioning behaviour. Connector-specific settings
// (a GitHub enterprise slug, a Zendesk subdomain, ...) go in Options; each connector documents
// and checks its own.
type AppConfig struct {
	// Connector overrides the connector type named in the policy catalogue.
	Connector string `yaml:"connector"`
	// BaseURL overrides the app's public API address (sandbox apps, tests, proxies).
	BaseURL string `yaml:"base_url"`
	// The credential (bearer token, API token, service-account key) comes from an environment
	// variable or a file, never from this file.
	TokenEnv  string            `yaml:"token_env"`
	TokenFile string            `yaml:"token_file"`
	Options   map[string]string `yaml:"options"`
	// Rate (requests per second), Burst and Concurrency override the app's documented limits.
	Rate        float64 `yaml:"rate"`
	Burst       int     `yaml:"burst"`
	Concurrency int     `yaml:"concurrency"`
	// Deprovision is what termination does: "disable" (default; delete after DeleteAfterDays)
	// or "delete" at once.
	Deprovision string `yaml:"deprovision"`
	// DeleteAfterDays is the grace period between disable and delete; 30 when nil, never when 0.
	DeleteAfterDays *int `yaml:"delete_after_days"`
	// Orphans and Drift are "report" (default) or "enforce".
	Orphans string `yaml:"orphans"`
	Drift   string `yaml:"drift"`
	// Attributes maps app attribute names to templates over the person, e.g.
	// title: "${person.job_title}"; they add to (and override) the connector's defaults.
	Attributes map[string]string `yaml:"attributes"`
	// QuarantineAfter consecutive failures stop the app's work until `tenure ops retry`; 10
	// when zero.
	QuarantineAfter int `yaml:"quarantine_after"`
	// Disabled apps are neither planned nor applied.
	Disabled bool `yaml:"disabled"`
}

// DefaultDeleteAfterDays is the grace period between disabling and deleting an account.
const DefaultDeleteAfterDays = 30

// DeleteAfter returns the grace period in days; 0 means never delete.
func (a AppConfig) DeleteAfter() int {
	if a.DeleteAfterDays == nil {
		return DefaultDeleteAfterDays
	}
	return *a.DeleteAfterDays
}

// Token reads the app's credential from the environment variable or file named in the config.
// The value is returned, never stored or logged.
func (a AppConfig) Token(app string, getenv func(string) string) (string, error) {
	switch {
	case a.TokenEnv != "":
		v := getenv(a.TokenEnv)
		if v == "" {
			return "", fmt.Errorf("app %s: environment variable %s (token_env) is empty", app, a.TokenEnv)
		}
		return v, nil
	case a.TokenFile != "":
		b, err := os.ReadFile(a.TokenFile)
		if err != nil {
			return "", fmt.Errorf("app %s: token_file: %w", app, err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return "", nil
}

var appName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// Validate checks every app, naming the first bad field.
func (p Provisioning) Validate() error {
	if p.Workers < 0 {
		return fmt.Errorf("provisioning.workers: %d is negative", p.Workers)
	}
	if p.OutboxRetentionDays > 3650 {
		return fmt.Errorf("provisioning.outbox_retention_days: %d is over ten years; use -1 to keep done ops forever", p.OutboxRetentionDays)
	}
	names := make([]string, 0, len(p.Apps))
	for name := range p.Apps {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		a := p.Apps[name]
		field := func(f string) string { return "provisioning.apps." + name + "." + f }
		if !appName.MatchString(name) {
			return fmt.Errorf("provisioning.apps: %q is not a valid app name (lowercase letters, digits, - and _)", name)
		}
		if !oneOfStr(a.Deprovision, "", "disable", "delete") {
			return fmt.Errorf("%s: %q is not one of disable|delete", field("deprovision"), a.Deprovision)
		}
		if !oneOfStr(a.Orphans, "", "report", "enforce") {
			return fmt.Errorf("%s: %q is not one of report|enforce", field("orphans"), a.Orphans)
		}
		if !oneOfStr(a.Drift, "", "report", "enforce") {
			return fmt.Errorf("%s: %q is not one of report|enforce", field("drift"), a.Drift)
		}
		if a.DeleteAfterDays != nil && *a.DeleteAfterDays < 0 {
			return fmt.Errorf("%s: %d is negative", field("delete_after_days"), *a.DeleteAfterDays)
		}
		if a.Rate < 0 || a.Burst < 0 || a.Concurrency < 0 || a.QuarantineAfter < 0 {
			return fmt.Errorf("%s: rate, burst, concurrency and quarantine_after must not be negative", field(""))
		}
		if a.TokenEnv != "" && a.TokenFile != "" {
			return fmt.Errorf("%s: give token_env or token_file, not both", field("token_env"))
		}
		if a.BaseURL != "" && !strings.HasPrefix(a.BaseURL, "http://") && !strings.HasPrefix(a.BaseURL, "https://") {
			return fmt.Errorf("%s: %q is not an http(s) URL", field("base_url"), a.BaseURL)
		}
	}
	return nil
}

func oneOfStr(v string, all ...string) bool { return slices.Contains(all, v) }
