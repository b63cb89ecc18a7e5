package cli

import (
	"fmt"
	"log/slog"

	"github.com/tenure-id/tenure/connectors/hubspot"
	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/connector"
)

// HubSpot: token_env or token_file holds the private app's access token (see
// hubspot.FromOptions for the options).
func init() {
	connectorTypes["hubspot"] = func(app string, cfg config.AppConfig, getenv func(string) string, _ *slog.Logger) (connector.Connector, error) {
		token, err := cfg.Token(app, getenv)
		if err != nil {
			return nil, err
		}
		hc, err := hubspot.FromOptions(cfg.BaseURL, token, cfg.Options)
		if err != nil {
			return nil, fmt.Errorf("app %s: %w", app, err)
		}
		hc.Rate, hc.Burst, hc.Concurrency = cfg.Rate, cfg.Burst, cfg.Concurrency
		c, err := hubspot.New(hc)
		if err != nil {
			return nil, fmt.Errorf("app %s: %w", app, err)
		}
		return c, nil
	}
}
