package config

import (
	"strings"
	"testing"
	"time"
)

func TestIdPSection(t *testing.T) {
	cfg, err := Parse(strings.NewReader(`
idp:
  base_url: https://id.piedpiper.test
  entity_id: https://id.piedpiper.test/saml
  key_file: /etc/tenure/idp.key
  cert_file: /etc/tenure/idp.crt
  next_cert_file: /etc/tenure/idp-next.crt
  assertion_lifetime: 2m
  access_refresh: 15s
`))
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.IdP
	if c.BaseURL != "https://id.piedpiper.test" || c.EntityID != "https://id.piedpiper.test/saml" || c.KeyFile != "/etc/tenure/idp.key" ||
		c.NextCertFile != "/etc/tenure/idp-next.crt" || c.AssertionLifetime != 2*time.Minute || c.AccessRefresh != 15*time.Second {
		t.Fatalf("idp = %+v", c)
	}
	bad := []struct{ yaml, want string }{
		{"idp: {base_url: id.piedpiper.test}", "idp.base_url"},
		{"idp: {entity_id: 'ftp://x'}", "idp.entity_id"},
		{"idp: {key_file: k.pem}", "set both or neither"},
		{"idp: {next_cert_file: n.pem}", "idp.next_cert_file"},
		{"idp: {assertion_lifetime: 2h}", "idp.assertion_lifetime"},
		{"idp: {access_refresh: -1s}", "idp.access_refresh"},
		{"idp: {signing_key: x}", "signing_key"},
	}
	for _, tc := range bad {
		if _, err := Parse(strings.NewReader(tc.yaml)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want one naming %q", tc.yaml, err, tc.want)
		}
	}
}
