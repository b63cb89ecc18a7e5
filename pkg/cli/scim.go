package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

func (e *env) scimCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "scim", Short: "The SCIM 2.0 service provider (/scim/v2) other systems push people to"}
	token := &cobra.Command{Use: "token", Short: "Bearer tokens of the SCIM service provider"}
	token.AddCommand(e.scimTokenCreateCommand(), e.scimTokenListCommand(), e.scimTokenRevokeCommand())
	cmd.AddCommand(token)
	return cmd
}

func (e *env) scimTokenCreateCommand() *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "create --name NAME",
		Short: "Create a token; it is printed once, alone on the last line, and only its hash is kept",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" {
				return usagef("--name is required (who the token is for, e.g. workday)")
			}
			ctx := cmd.Context()
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			token, hash := directory.NewToken(directory.TokenSCIM)
			_, err = s.CreateSCIMToken(e.actorContext(ctx), directory.SCIMToken{Name: name, Hash: hash})
			if errors.Is(err, identity.ErrConflict) {
				return fmt.Errorf("a SCIM token named %q exists: revoke it first (tenure scim token revoke %s) or choose another name", name, name)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "created SCIM token %s; it is shown only now: send it as \"Authorization: Bearer TOKEN\" to /scim/v2\n", name)
			fmt.Fprintln(e.stdout, token)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "who the token is for (unique)")
	return cmd
}

type scimTokenView struct {
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

func (e *env) scimTokenListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List tokens: name, created, last used (never the secret)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			toks, err := s.ListSCIMTokens(ctx)
			if err != nil {
				return err
			}
			views := make([]scimTokenView, len(toks))
			t := table{headers: []string{"NAME", "CREATED", "LAST_USED"}}
			for i, tok := range toks {
				views[i] = scimTokenView{Name: tok.Name, CreatedAt: tok.CreatedAt, LastUsedAt: tok.LastUsedAt}
				used := "never"
				if tok.LastUsedAt != nil {
					used = tok.LastUsedAt.Format(time.RFC3339)
				}
				t.rows = append(t.rows, []string{tok.Name, tok.CreatedAt.Format(time.RFC3339), used})
			}
			return e.print(views, t)
		},
	}
}

func (e *env) scimTokenRevokeCommand() *cobra.Command {
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
			if err := s.RevokeSCIMToken(e.actorContext(ctx), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "revoked SCIM token %s\n", args[0])
			return nil
		},
	}
}
