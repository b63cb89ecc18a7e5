package cli

import (
	"fmt"
	"log/slog"

	"github.com/tenure-id/tenure/connectors/zendesk"
	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/connector"
)

// Zendesk: token_env or token_file holds the API token; options email and subdomain (or
// base_url) are required (see zendesk.FromOptions for the rest).
func init() {
	connectorTypes["zendesk"] = func(app string, cfg config.AppConfig, getenv func(string) string, _ *slog.Logger) (connector.Connector, error) {
		token, err := cfg.Token(app, getenv)
		if err != nil {
			return nil, err
		}
		zc, err := zendesk.FromOptions(cfg.BaseURL, token, cfg.Options)
		if err != nil {
			return nil, fmt.Errorf("app %s: %w", app, err)
		}
		zc.Rate, zc.Burst, zc.Concurrency = cfg.Rate, cfg.Burst, cfg.Concurrency
		c, err := zendesk.New(zc)
		if err != nil {
			return nil, fmt.Errorf("app %s: %w", app, err)
		}
		return c, nil
	}
}
