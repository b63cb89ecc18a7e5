package config

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// HR configures roster imports, the lifecycle engine and the HR webhook.
type HR struct {
	// Mapping renames roster columns: canonical field → the column (CSV header or JSON key) HR
	// exports, e.g. employee_id: "Worker ID". Unmapped fields use their own name.
	Mapping map[string]string `yaml:"mapping"`
	// UsernamePattern builds usernames from {first} {last} {f} {l}; "{first}.{last}" when empty.
	UsernamePattern string `yaml:"username_pattern"`
	// EmailDomain is the domain of generated work emails.
	EmailDomain string `yaml:"email_domain"`
	// UsernameReuseDays is how long a terminated person's username and work email stay theirs
	// before a new joiner may get them; 0 (the default) never reuses them.
	UsernameReuseDays int `yaml:"username_reuse_days"`
	// PreHireDays is how many days before the start date a joiner exists, in pre_hire.
	PreHireDays int `yaml:"pre_hire_days"`
	// TimeZone is the IANA zone HR dates are read in; UTC when empty.
	TimeZone string `yaml:"time_zone"`
	// TerminationTime is the local time of day ("17:00") a dated termination takes effect;
	// DefaultTerminationTime when empty.
	TerminationTime string `yaml:"termination_time"`
	// MissingFromRoster says what happens to current people a full roster leaves out: "report"
	// (the default) or "terminate" (always behind the breaker).
	MissingFromRoster string `yaml:"missing_from_roster"`
	Breaker           struct {
		Percent    float64 `yaml:"percent"`     // of active people; 5 when zero
		MinChanges int     `yaml:"min_changes"` // never fewer trip it; 3 when zero
	} `yaml:"breaker"`
	Webhook HRWebhook `yaml:"webhook"`
}

// HRWebhook authenticates POST /api/v1/hr/events. Secrets come from the environment, never
// from this file.
type HRWebhook struct {
	TokenEnv  string `yaml:"token_env"`  // variable holding the bearer token
	SecretEnv string `yaml:"secret_env"` // variable holding the HMAC-SHA256 key
}

// Secrets reads the webhook's token and HMAC key from the environment.
func (w HRWebhook) Secrets(getenv func(string) string) (token, secret string) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if w.TokenEnv != "" {
		token = getenv(w.TokenEnv)
	}
	if w.SecretEnv != "" {
		secret = getenv(w.SecretEnv)
	}
	return token, secret
}

// DefaultTerminationTime is when a dated termination takes effect unless configured: 17:00.
const DefaultTerminationTime = 17 * time.Hour

// Location is the configured time zone.
func (h HR) Location() (*time.Location, error) {
	if h.TimeZone == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(h.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("hr.time_zone: %w", err)
	}
	return loc, nil
}

// LeaveTime is TerminationTime as an offset from midnight.
func (h HR) LeaveTime() (time.Duration, error) {
	if h.TerminationTime == "" {
		// HR's termination date is the last day worked: access ends when that day's work does,
		// not at its first minute.
		return DefaultTerminationTime, nil
	}
	t, err := time.Parse("15:04", h.TerminationTime)
	if err != nil {
		return 0, fmt.Errorf("hr.termination_time: %q is not a time of day like 17:00", h.TerminationTime)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// Validate checks the values that have fixed forms.
func (h HR) Validate() error {
	if _, err := h.Location(); err != nil {
		return err
	}
	if _, err := h.LeaveTime(); err != nil {
		return err
	}
	switch h.MissingFromRoster {
	case "", "report", "terminate":
	default:
		return fmt.Errorf("hr.missing_from_roster: %q is not one of report|terminate", h.MissingFromRoster)
	}
	switch {
	case h.PreHireDays < 0:
		return fmt.Errorf("hr.pre_hire_days: %d is negative", h.PreHireDays)
	case h.UsernameReuseDays < 0:
		return fmt.Errorf("hr.username_reuse_days: %d is negative", h.UsernameReuseDays)
	case h.Breaker.Percent < 0 || h.Breaker.Percent > 100:
		return fmt.Errorf("hr.breaker.percent: %v is not between 0 and 100", h.Breaker.Percent)
	case h.Breaker.MinChanges < 0:
		return fmt.Errorf("hr.breaker.min_changes: %d is negative", h.Breaker.MinChanges)
	case strings.Contains(h.EmailDomain, "@"):
		return fmt.Errorf("hr.email_domain: %q should be a domain, without '@'", h.EmailDomain)
	}
	return nil
}
