package config

import (
	"fmt"
	"net/url"
	"time"
)

// IdP configures the SAML identity provider served under /saml/.
type IdP struct {
	// BaseURL is the externally visible URL of this server (scheme, host, optional path
	// prefix); the SSO and metadata URLs are built from it. http://LISTEN when empty.
	BaseURL string `yaml:"base_url"`
	// EntityID is the IdP's SAML entity ID; BaseURL + "/saml/metadata" when empty.
	EntityID string `yaml:"entity_id"`
	// KeyFile and CertFile are the PEM signing key and certificate. When both are empty,
	// `tenure serve` generates a key pair once and keeps it in the database.
	KeyFile  string `yaml:"key_file"`
	CertFile string `yaml:"cert_file"`
	// NextCertFile is the certificate that will replace CertFile: the metadata publishes it
	// for signing ahead of the switch, so service providers trust it before it is used.
	NextCertFile string `yaml:"next_cert_file"`
	// AssertionLifetime is how long an assertion is valid; 90s when zero.
	AssertionLifetime time.Duration `yaml:"assertion_lifetime"`
	// AccessRefresh bounds how stale the cached policy view behind "who may use which app"
	// may be; 30s when zero.
	AccessRefresh time.Duration `yaml:"access_refresh"`
}

// Validate checks the IdP section, naming the bad key.
func (c IdP) Validate() error {
	for _, kv := range [][2]string{{"idp.base_url", c.BaseURL}, {"idp.entity_id", c.EntityID}} {
		key, v := kv[0], kv[1]
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s: %q is not an absolute http(s) URL", key, v)
		}
	}
	if (c.KeyFile == "") != (c.CertFile == "") {
		return fmt.Errorf("idp.key_file and idp.cert_file: set both or neither")
	}
	if c.NextCertFile != "" && c.CertFile == "" {
		return fmt.Errorf("idp.next_cert_file: needs idp.key_file and idp.cert_file (the current pair)")
	}
	if c.AssertionLifetime < 0 || c.AssertionLifetime > time.Hour {
		return fmt.Errorf("idp.assertion_lifetime: %s is not between 0 and 1h", c.AssertionLifetime)
	}
	if c.AccessRefresh < 0 {
		return fmt.Errorf("idp.access_refresh: %s is negative", c.AccessRefresh)
	}
	return nil
}
