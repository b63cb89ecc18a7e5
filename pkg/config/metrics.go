package config

import "os"

// Metrics configures GET /metrics, the Prometheus exposition of `tenure serve`. It is served on
// the listen address; the series name apps, LDAP sources and service providers, never people.
type Metrics struct {
	// Enabled serves /metrics; on when unset.
	Enabled *bool `yaml:"enabled"`
	// TokenEnv names a variable holding a bearer token that scrapes must present; when unset
	// (or the variable is empty) /metrics is open to whoever reaches the listen address.
	TokenEnv string `yaml:"token_env"`
}

// On reports whether /metrics is served.
func (m Metrics) On() bool { return m.Enabled == nil || *m.Enabled }

// Token reads the scrape token from the environment; empty when none is configured.
func (m Metrics) Token(getenv func(string) string) string {
	if m.TokenEnv == "" {
		return ""
	}
	if getenv == nil {
		getenv = os.Getenv
	}
	return getenv(m.TokenEnv)
}
