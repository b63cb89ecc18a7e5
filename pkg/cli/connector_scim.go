package cli

import (
	"log/slog"

	"github.com/tenure-id/tenure/connectors/scim"
	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/connector"
)

// Generic SCIM 2.0 apps ("scim") and Zapier, which the generic connector covers with its zapier
// profile. base_url and token_env/token_file are required; options are documented in package
// connectors/scim.
func init() {
	for typ, profile := range map[string]string{"scim": "generic", "zapier": "zapier"} {
		connectorTypes[typ] = func(app string, cfg config.AppConfig, getenv func(string) string, log *slog.Logger) (connector.Connector, error) {
			return scim.Open(app, cfg, getenv, profile, log)
		}
	}
}
