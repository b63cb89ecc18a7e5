package cli

import (
	"fmt"
	"log/slog"

	"github.com/tenure-id/tenure/connectors/google"
	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/connector"
)

// Google Workspace: token_file (or token_env) holds the service account's JSON key; options
// domain and admin_email are required (see google.FromOptions for the rest).
func init() {
	connectorTypes["google"] = func(app string, cfg config.AppConfig, getenv func(string) string, _ *slog.Logger) (connector.Connector, error) {
		key, err := cfg.Token(app, getenv)
		if err != nil {
			return nil, err
		}
		if key == "" {
			return nil, fmt.Errorf("app %s: token_file (the service account's JSON key file) is required", app)
		}
		gc, err := google.FromOptions(cfg.BaseURL, []byte(key), cfg.Options)
		if err != nil {
			return nil, fmt.Errorf("app %s: %w", app, err)
		}
		gc.Rate, gc.Burst, gc.Concurrency = cfg.Rate, cfg.Burst, cfg.Concurrency
		c, err := google.New(gc)
		if err != nil {
			return nil, fmt.Errorf("app %s: %w", app, err)
		}
		return c, nil
	}
}
