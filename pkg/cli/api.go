package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/policy"
	"github.com/tenure-id/tenure/pkg/provision"
	"github.com/tenure-id/tenure/pkg/server"
)

func (e *env) apiCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "api", Short: "The admin REST API (/api/v1) IT tools and auditors call"}
	cmd.AddCommand(e.tokenCommand(tokenSurface{kind: directory.TokenAPI, label: "API", command: "api", path: "/api/v1",
		example: "grafana", roles: true}, "Bearer tokens of the admin API, each with a role: read or admin"))
	return cmd
}

// adminAPI builds the admin API `tenure serve` mounts at /api/v1. It is always mounted and
// refuses every request until an API token exists. The policy is loaded per request, like a
// CLI command loads it; the planner exists only when apps are configured for provisioning.
func (e *env) adminAPI(s *sqlstore.Store) (*server.AdminAPIConfig, error) {
	loc, err := e.cfg.HR.Location()
	if err != nil {
		return nil, err
	}
	dir := e.policyDir("")
	cfg := &server.AdminAPIConfig{Store: s, Clock: e.clock, Location: loc, Logger: e.logger,
		Policy: func() (*policy.Set, error) { return policy.LoadDir(dir) }}
	if len(e.cfg.Provisioning.Apps) > 0 {
		cfg.Planner = func(ctx context.Context) (*provision.Planner, error) {
			set, err := policy.LoadDir(dir)
			if err != nil {
				return nil, err
			}
			return e.planner(s, set, dir, nil)
		}
	}
	return cfg, nil
}
