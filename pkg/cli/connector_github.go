package cli

import (
	"log/slog"

	"github.com/tenure-id/tenure/connectors/github"
	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/connector"
)

// GitHub: options mode (enterprise|org), enterprise, org, shortcode, team_links, team_role; see
// the github package documentation.
func init() {
	connectorTypes["github"] = func(app string, cfg config.AppConfig, getenv func(string) string, log *slog.Logger) (connector.Connector, error) {
		return github.Open(app, cfg, getenv, log)
	}
}
