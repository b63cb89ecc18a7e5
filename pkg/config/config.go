// Package config reads Tenure's YAML configuration file. Flags and environment variables win
// over the file, and the file wins over built-in defaults; the CLI applies that order.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"
)

// Defaults used when neither flag, environment nor file says otherwise.
const (
	DefaultDB     = "sqlite://tenure.db"
	DefaultListen = "127.0.0.1:8080"
)

// Config is the whole file. Later sections (HR mappings, apps, LDAP sources) join it as the
// engines that read them land.
type Config struct {
	DB     string `yaml:"db"`
	Listen string `yaml:"listen"`
	Log    Log    `yaml:"log"`
	LDAP   LDAP   `yaml:"ldap"`
	HR     HR     `yaml:"hr"`
	// Provisioning configures each app the provisioner reaches.
	Provisioning Provisioning `yaml:"provisioning"`
	// IdP configures the SAML identity provider (pkg/config/idp.go).
	IdP IdP `yaml:"idp"`
	// Authn configures sign-in and sessions (pkg/config/authn.go).
	Authn Authn `yaml:"authn"`
	// Metrics configures GET /metrics (pkg/config/metrics.go).
	Metrics Metrics `yaml:"metrics"`
	// HTTP configures how serve sees visitors behind proxies (pkg/config/http.go).
	HTTP HTTP `yaml:"http"`
}

// Log says how Tenure logs.
type Log struct {
	Level  string `yaml:"level"`  // debug|info|warn|error
	Format string `yaml:"format"` // text|json
}

// Load reads the file at path. Unknown keys are errors, with the line number, so a typo never
// silently falls back to a default.
func Load(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	cfg, err := Parse(f)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes a configuration document.
func Parse(r io.Reader) (Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return Config{}, err
	}
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, err
	}
	return cfg, cfg.Validate()
}

// Validate checks the values that have a fixed set of choices.
func (c Config) Validate() error {
	switch c.Log.Level {
	case "", "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level: %q is not one of debug|info|warn|error", c.Log.Level)
	}
	switch c.Log.Format {
	case "", "text", "json":
	default:
		return fmt.Errorf("log.format: %q is not one of text|json", c.Log.Format)
	}
	if err := c.HR.Validate(); err != nil {
		return err
	}
	if err := c.IdP.Validate(); err != nil {
		return err
	}
	if err := c.Authn.Validate(); err != nil {
		return err
	}
	if _, err := c.HTTP.Trust(); err != nil {
		return err
	}
	if err := c.LDAP.Validate(); err != nil {
		return err
	}
	return c.Provisioning.Validate()
}
