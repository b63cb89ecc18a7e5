package cli

import (
	"fmt"
	"net/http"

	"github.com/tenure-id/tenure/pkg/metrics"
	"github.com/tenure-id/tenure/pkg/server"
)

// metricsHandler is GET /metrics as configured: nil when metrics.enabled is false, behind a
// bearer token when metrics.token_env names one.
func (e *env) metricsHandler(reg *metrics.Registry) (http.Handler, error) {
	c := e.cfg.Metrics
	if !c.On() {
		e.logger.Info("metrics off: metrics.enabled is false")
		return nil, nil
	}
	token := c.Token(e.getenv)
	if c.TokenEnv != "" && token == "" {
		// Serving the metrics open because a variable went missing would undo the choice
		// to protect them.
		return nil, fmt.Errorf("metrics.token_env: %s is empty; set it, or drop metrics.token_env to serve /metrics without a token", c.TokenEnv)
	}
	return server.BearerOnly(token, reg.Handler()), nil
}
