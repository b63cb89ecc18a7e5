package cli

import (
	"log/slog"

	"github.com/tenure-id/tenure/connectors/slack"
	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/connector"
)

// Slack: options channel_prefix and sync_manager plus the scim connector's; see the slack
// package documentation.
func init() {
	connectorTypes["slack"] = func(app string, cfg config.AppConfig, getenv func(string) string, log *slog.Logger) (connector.Connector, error) {
		return slack.Open(app, cfg, getenv, log)
	}
}
