package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// tokenSurface is what differs between the bearer tokens of the SCIM provider and of the
// admin API: the rest of `token create|list|revoke` is the same.
type tokenSurface struct {
	kind    directory.TokenKind
	label   string // "SCIM", "API"
	command string // "scim", "api"
	path    string // where the token is sent
	example string // a typical holder, for --name's error
	roles   bool   // tokens carry a role (read or admin)
}

func (e *env) tokenCommand(ts tokenSurface, short string) *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: short}
	cmd.AddCommand(e.tokenCreateCommand(ts), e.tokenListCommand(ts), e.tokenRevokeCommand(ts))
	return cmd
}

func (e *env) tokenCreateCommand(ts tokenSurface) *cobra.Command {
	var name, role string
	use := "create --name NAME"
	if ts.roles {
		use += " --role read|admin"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: "Create a token; it is printed once, alone on the last line, and only its hash is kept",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" {
				return usagef("--name is required (who the token is for, e.g. %s)", ts.example)
			}
			tok := directory.Token{Kind: ts.kind, Name: name}
			if ts.roles {
				tok.Role = directory.TokenRole(role)
				if tok.Role != directory.RoleRead && tok.Role != directory.RoleAdmin {
					return usagef("--role %q: use read (GET only: auditors, dashboards) or admin (also writes)", role)
				}
			}
			ctx := cmd.Context()
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			token, hash := directory.NewToken(ts.kind)
			tok.Hash = hash
			_, err = s.CreateToken(e.actorContext(ctx), tok)
			if errors.Is(err, identity.ErrConflict) {
				return fmt.Errorf("a%s %s token named %q exists: revoke it first (tenure %s token revoke %s) or choose another name",
					article(ts.label), ts.label, name, ts.command, name)
			}
			if err != nil {
				return err
			}
			withRole := ""
			if ts.roles {
				withRole = " (role " + string(tok.Role) + ")"
			}
			fmt.Fprintf(e.stdout, "created %s token %s%s; it is shown only now: send it as \"Authorization: Bearer TOKEN\" to %s\n",
				ts.label, name, withRole, ts.path)
			fmt.Fprintln(e.stdout, token)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "who the token is for (unique among "+ts.label+" tokens)")
	if ts.roles {
		cmd.Flags().StringVar(&role, "role", "", "read (GET only) or admin (also writes)")
	}
	return cmd
}

// article is "n" before a label read with a vowel sound (an API token), "" otherwise.
func article(label string) string {
	if label == "API" {
		return "n"
	}
	return ""
}

// tokenView is how a token is listed: never its secret or hash.
type tokenView struct {
	Name       string              `json:"name"`
	Role       directory.TokenRole `json:"role,omitempty"`
	CreatedAt  time.Time           `json:"created_at"`
	LastUsedAt *time.Time          `json:"last_used_at"`
}

func (e *env) tokenListCommand(ts tokenSurface) *cobra.Command {
	short := "List tokens: name, created, last used (never the secret)"
	if ts.roles {
		short = "List tokens: name, role, created, last used (never the secret)"
	}
	return &cobra.Command{
		Use:   "list",
		Short: short,
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			toks, err := s.ListTokens(ctx, ts.kind)
			if err != nil {
				return err
			}
			views := make([]tokenView, len(toks))
			t := table{headers: []string{"NAME", "CREATED", "LAST_USED"}}
			if ts.roles {
				t.headers = []string{"NAME", "ROLE", "CREATED", "LAST_USED"}
			}
			for i, tok := range toks {
				views[i] = tokenView{Name: tok.Name, Role: tok.Role, CreatedAt: tok.CreatedAt, LastUsedAt: tok.LastUsedAt}
				used := "never"
				if tok.LastUsedAt != nil {
					used = tok.LastUsedAt.Format(time.RFC3339)
				}
				row := []string{tok.Name, tok.CreatedAt.Format(time.RFC3339), used}
				if ts.roles {
					row = []string{tok.Name, string(tok.Role), tok.CreatedAt.Format(time.RFC3339), used}
				}
				t.rows = append(t.rows, row)
			}
			return e.print(views, t)
		},
	}
}

func (e *env) tokenRevokeCommand(ts tokenSurface) *cobra.Command {
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
			if err := s.RevokeToken(e.actorContext(ctx), ts.kind, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "revoked %s token %s\n", ts.label, args[0])
			return nil
		},
	}
}
