package config

import (
	"fmt"
	"net/url"
	"time"
)

// Authn configures sign-in: sessions, cookies, throttling and activation links.
type Authn struct {
	// PublicURL is the externally visible base of activation links; idp.base_url, then
	// http://LISTEN, when empty.
	PublicURL string `yaml:"public_url"`
	// SessionIdle ends a session unused this long (30m); SessionMax ends any session this long
	// after sign-in (10h).
	SessionIdle time.Duration `yaml:"session_idle"`
	SessionMax  time.Duration `yaml:"session_max"`
	// SecureCookies marks cookies Secure with the __Host- prefix. Default: on when the public
	// URL is https. Set false only for plain-HTTP development.
	SecureCookies *bool `yaml:"secure_cookies"`
	// ActivationTTL is how long a `tenure credentials issue` link works (72h).
	ActivationTTL time.Duration `yaml:"activation_ttl"`
	Throttle      struct {
		AccountFailures int           `yaml:"account_failures"` // free failures per account (5)
		IPFailures      int           `yaml:"ip_failures"`      // free failures per client address (50)
		BaseDelay       time.Duration `yaml:"base_delay"`       // first lock (30s), doubling
		MaxDelay        time.Duration `yaml:"max_delay"`        // longest lock (15m)
		ResetAfter      time.Duration `yaml:"reset_after"`      // quiet time that forgets failures (12h)
	} `yaml:"throttle"`
	// PurgeInterval is how often `tenure serve` (the leader replica only) removes expired
	// sessions, used or expired activation links, stale throttle counters and expired parked
	// SAML requests (1h).
	PurgeInterval time.Duration `yaml:"purge_interval"`
	// SecretKeyFile or SecretKeyEnv holds the current key that seals MFA secrets at rest: 32
	// random bytes in base64 (`tenure credentials key generate`). With neither, a SQLite
	// database uses the key file beside it (DB.key, made by `tenure init`); PostgreSQL needs
	// one, shared by every replica.
	SecretKeyFile string `yaml:"secret_key_file"`
	SecretKeyEnv  string `yaml:"secret_key_env"`
	// PreviousSecretKeys still open what they sealed, while `tenure credentials key rotate`
	// seals it again under the current key.
	PreviousSecretKeys []SecretKey `yaml:"previous_secret_keys"`
}

// SecretKey names where one key is: a file, or an environment variable.
type SecretKey struct {
	File string `yaml:"file"`
	Env  string `yaml:"env"`
}

// Configured says whether the current key is set explicitly.
func (a Authn) Configured() bool { return a.SecretKeyFile != "" || a.SecretKeyEnv != "" }

// DefaultPurgeInterval is PurgeInterval when unset.
const DefaultPurgeInterval = time.Hour

// Purge returns the purge interval, the default when unset.
func (a Authn) Purge() time.Duration {
	if a.PurgeInterval == 0 {
		return DefaultPurgeInterval
	}
	return a.PurgeInterval
}

// Validate checks the authn section, naming the bad key.
func (a Authn) Validate() error {
	if a.PublicURL != "" {
		u, err := url.Parse(a.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("authn.public_url: %q is not an absolute http(s) URL", a.PublicURL)
		}
	}
	for _, d := range []struct {
		key      string
		v, limit time.Duration
	}{
		{"authn.session_idle", a.SessionIdle, 24 * time.Hour},
		{"authn.session_max", a.SessionMax, 30 * 24 * time.Hour},
		{"authn.activation_ttl", a.ActivationTTL, 30 * 24 * time.Hour},
		{"authn.throttle.base_delay", a.Throttle.BaseDelay, time.Hour},
		{"authn.throttle.max_delay", a.Throttle.MaxDelay, 24 * time.Hour},
		{"authn.throttle.reset_after", a.Throttle.ResetAfter, 30 * 24 * time.Hour},
	} {
		if d.v < 0 || d.v > d.limit {
			return fmt.Errorf("%s: %s is not between 0 and %s", d.key, d.v, d.limit)
		}
	}
	// Each purge takes the writers' lock: more often than once a minute would only contend.
	if a.PurgeInterval != 0 && (a.PurgeInterval < time.Minute || a.PurgeInterval > 7*24*time.Hour) {
		return fmt.Errorf("authn.purge_interval: %s is not between 1m and 168h", a.PurgeInterval)
	}
	if a.SessionIdle > 0 && a.SessionMax > 0 && a.SessionIdle > a.SessionMax {
		return fmt.Errorf("authn.session_idle: %s is longer than authn.session_max %s", a.SessionIdle, a.SessionMax)
	}
	if a.SecretKeyFile != "" && a.SecretKeyEnv != "" {
		return fmt.Errorf("authn.secret_key_file and authn.secret_key_env: set one, not both")
	}
	for i, k := range a.PreviousSecretKeys {
		if (k.File == "") == (k.Env == "") {
			return fmt.Errorf("authn.previous_secret_keys[%d]: set exactly one of file and env", i)
		}
	}
	if len(a.PreviousSecretKeys) > 0 && !a.Configured() {
		return fmt.Errorf("authn.previous_secret_keys: set the current key too (authn.secret_key_file or authn.secret_key_env)")
	}
	if a.Throttle.AccountFailures < 0 || a.Throttle.IPFailures < 0 {
		return fmt.Errorf("authn.throttle: failure counts must not be negative")
	}
	return nil
}

// Secure says whether cookies are Secure: as configured, else when publicURL is https.
func (a Authn) Secure(publicURL string) bool {
	if a.SecureCookies != nil {
		return *a.SecureCookies
	}
	u, err := url.Parse(publicURL)
	return err == nil && u.Scheme == "https"
}
