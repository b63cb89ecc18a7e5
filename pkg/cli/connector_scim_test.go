package cli

import (
	"strings"
	"testing"

	"github.com/tenure-id/tenure/connectors/scim"
	"github.com/tenure-id/tenure/pkg/config"
)

func TestSCIMConnectorTypes(t *testing.T) {
	getenv := func(k string) string { return map[string]string{"CRM_TOKEN": "crm-secret-9d1"}[k] }
	for typ, profile := range map[string]string{"scim": "generic", "zapier": "zapier"} {
		c, err := connectorFor("crm", typ, config.AppConfig{BaseURL: "https://crm.example/scim/v2", TokenEnv: "CRM_TOKEN"}, getenv, quiet)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		sc, ok := c.(*scim.Connector)
		if !ok || sc.Profile().Name != profile {
			t.Fatalf("%s opened %T, want the SCIM connector with the %s profile", typ, c, profile)
		}
	}
	_, err := connectorFor("crm", "scim", config.AppConfig{BaseURL: "https://crm.example/scim/v2", TokenEnv: "CRM_TOKEN",
		Options: map[string]string{"update": "merge"}}, getenv, quiet)
	if err == nil || !strings.Contains(err.Error(), "app crm: options.update") || strings.Contains(err.Error(), "crm-secret-9d1") {
		t.Fatalf("bad option: %v", err)
	}
}
