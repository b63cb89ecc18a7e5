package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/policy"
	"github.com/tenure-id/tenure/pkg/provision"
	"github.com/tenure-id/tenure/pkg/server"
)

func (e *env) apiCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "api", Short: "The admin REST API (/api/v1) IT tools and auditors call"}
	token := &cobra.Command{Use: "token", Short: "Bearer tokens of the admin API, each with a role: read or admin"}
	token.AddCommand(e.apiTokenCreateCommand(), e.apiTokenListCommand(), e.apiTokenRevokeCommand())
	cmd.AddCommand(token)
	return cmd
}

func (e *env) apiTokenCreateCommand() *cobra.Command {
	var name, role string
	cmd := &cobra.Command{
		Use:   "create --name NAME --role read|admin",
		Short: "Create a token; it is printed once, alone on the last line, and only its hash is kept",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" {
				return usagef("--name is required (who the token is for, e.g. grafana)")
			}
			r := directory.TokenRole(role)
			if r != directory.RoleRead && r != directory.RoleAdmin {
				return usagef("--role %q: use read (GET only: auditors, dashboards) or admin (also writes)", role)
			}
			ctx := cmd.Context()
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			token, hash := directory.NewToken(directory.TokenAPI)
			_, err = s.CreateToken(e.actorContext(ctx), directory.Token{Kind: directory.TokenAPI, Name: name, Role: r, Hash: hash})
			if errors.Is(err, identity.ErrConflict) {
				return fmt.Errorf("an API token named %q exists: revoke it first (tenure api token revoke %s) or choose another name", name, name)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "created API token %s (role %s); it is shown only now: send it as \"Authorization: Bearer TOKEN\" to /api/v1\n", name, r)
			fmt.Fprintln(e.stdout, token)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "who the token is for (unique among API tokens)")
	cmd.Flags().StringVar(&role, "role", "", "read (GET only) or admin (also writes)")
	return cmd
}

type apiTokenView struct {
	Name       string              `json:"name"`
	Role       directory.TokenRole `json:"role"`
	CreatedAt  time.Time           `json:"created_at"`
	LastUsedAt *time.Time          `json:"last_used_at"`
}

func (e *env) apiTokenListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List tokens: name, role, created, last used (never the secret)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			toks, err := s.ListTokens(ctx, directory.TokenAPI)
			if err != nil {
				return err
			}
			views := make([]apiTokenView, len(toks))
			t := table{headers: []string{"NAME", "ROLE", "CREATED", "LAST_USED"}}
			for i, tok := range toks {
				views[i] = apiTokenView{Name: tok.Name, Role: tok.Role, CreatedAt: tok.CreatedAt, LastUsedAt: tok.LastUsedAt}
				used := "never"
				if tok.LastUsedAt != nil {
					used = tok.LastUsedAt.Format(time.RFC3339)
				}
				t.rows = append(t.rows, []string{tok.Name, string(tok.Role), tok.CreatedAt.Format(time.RFC3339), used})
			}
			return e.print(views, t)
		},
	}
}

func (e *env) apiTokenRevokeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke NAME",
		Short: "Revoke a token: requests carrying it are refused at once",
		Args:  exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := s.RevokeToken(e.actorContext(ctx), directory.TokenAPI, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "revoked API token %s\n", args[0])
			return nil
		},
	}
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
