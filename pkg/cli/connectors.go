package cli

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/connector"
)

// openConnector builds one app's connector from its configuration. Each connector package
// registers its type here; nothing else in Tenure knows the concrete connectors.
// Connectors log through log, the command's logger, so their lines follow its level and format.
type openConnector func(app string, cfg config.AppConfig, getenv func(string) string, log *slog.Logger) (connector.Connector, error)

var connectorTypes = map[string]openConnector{}

// connectorFor opens the connector for app, whose catalogue entry names connType unless the
// configuration overrides it.
func connectorFor(app, connType string, cfg config.AppConfig, getenv func(string) string, log *slog.Logger) (connector.Connector, error) {
	if cfg.Connector != "" {
		connType = cfg.Connector
	}
	open, ok := connectorTypes[connType]
	if !ok {
		known := make([]string, 0, len(connectorTypes))
		for k := range connectorTypes {
			known = append(known, k)
		}
		slices.Sort(known)
		return nil, fmt.Errorf("app %s: no connector of type %q (known: %s)", app, connType, strings.Join(known, ", "))
	}
	return open(app, cfg, getenv, log.With("connector", connType))
}
