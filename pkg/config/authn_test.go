package config

import (
	"strings"
	"testing"
	"time"
)

func TestAuthnSection(t *testing.T) {
	cfg, err := Parse(strings.NewReader("authn:\n  public_url: https://id.example.com\n  session_idle: 15m\n  session_max: 8h\n" +
		"  activation_ttl: 24h\n  purge_interval: 15m\n  throttle:\n    account_failures: 3\n    base_delay: 10s\n"))
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Authn
	if a.SessionIdle != 15*time.Minute || a.SessionMax != 8*time.Hour || a.ActivationTTL != 24*time.Hour ||
		a.Throttle.AccountFailures != 3 || a.Throttle.BaseDelay != 10*time.Second || a.Purge() != 15*time.Minute {
		t.Errorf("parsed %+v", a)
	}
	if got := (Authn{}).Purge(); got != time.Hour {
		t.Errorf("default purge interval = %s, want 1h", got)
	}
	if !a.Secure(a.PublicURL) {
		t.Error("https public URL: cookies not secure by default")
	}
	off := false
	a.SecureCookies = &off
	if a.Secure(a.PublicURL) {
		t.Error("secure_cookies: false ignored")
	}
	if (Authn{}).Secure("http://127.0.0.1:8080") {
		t.Error("plain-HTTP URL: cookies secure by default, which browsers would drop")
	}

	for doc, key := range map[string]string{
		"authn:\n  public_url: id.example.com\n":                                          "authn.public_url",
		"authn:\n  session_idle: -1m\n":                                                   "authn.session_idle",
		"authn:\n  session_idle: 2h\n  session_max: 1h\n":                                 "authn.session_idle",
		"authn:\n  activation_ttl: 2000h\n":                                               "authn.activation_ttl",
		"authn:\n  throttle:\n    account_failures: -1\n":                                 "authn.throttle",
		"authn:\n  sesion_idle: 1m\n":                                                     "sesion_idle",
		"authn:\n  purge_interval: 10s\n":                                                 "authn.purge_interval",
		"authn:\n  purge_interval: -1h\n":                                                 "authn.purge_interval",
		"authn:\n  secret_key_file: k\n  secret_key_env: K\n":                             "authn.secret_key_file",
		"authn:\n  secret_key_env: K\n  previous_secret_keys:\n    - {file: a, env: B}\n": "authn.previous_secret_keys[0]",
		"authn:\n  previous_secret_keys:\n    - {file: old.key}\n":                        "authn.previous_secret_keys",
	} {
		if _, err := Parse(strings.NewReader(doc)); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%q: error %v, want one naming %s", doc, err, key)
		}
	}
}
