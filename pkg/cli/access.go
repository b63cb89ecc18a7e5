package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tenure-id/tenure/pkg/admin"
	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/identity"
)

func (e *env) accessCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{Use: "access", Short: "What a person may use and why; exceptions"}
	cmd.PersistentFlags().StringVar(&dir, "policies", "", "policy directory (env TENURE_POLICIES; default policies)")
	cmd.AddCommand(e.accessWhyCommand(&dir), e.accessListCommand(&dir), e.accessGrantCommand(&dir), e.accessRevokeCommand())
	return cmd
}

func (e *env) openAccess(ctx context.Context, dir, personKey string) (*admin.Access, *sqlstore.Store, error) {
	set, err := e.loadPolicy(e.policyDir(dir))
	if err != nil {
		return nil, nil, err
	}
	s, err := e.openStore(ctx, false)
	if err != nil {
		return nil, nil, err
	}
	a, err := admin.OpenAccess(ctx, s, set, personKey, e.clock())
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return a, s, nil
}

func (e *env) accessWhyCommand(dir *string) *cobra.Command {
	return &cobra.Command{
		Use:   "why PERSON APP",
		Short: "The chain behind a person's access to an app: rule, condition, the person's value",
		Args:  exactArgs(2, "PERSON", "APP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			a, s, err := e.openAccess(ctx, *dir, args[0])
			if err != nil {
				return err
			}
			defer s.Close()
			app := args[1]
			ex, err := a.Why(app)
			if err != nil {
				return err
			}
			t := table{headers: []string{"RULE", "WHERE", "EFFECT", "RULE_MATCHED", "CLAUSE", "CONDITION", "PERSON", "HOLDS"}}
			for _, r := range ex.Rules {
				for _, c := range r.Conditions {
					t.rows = append(t.rows, []string{r.Rule, fmt.Sprintf("%s:%d", r.File, c.Line), r.Effect, yesNo(r.Matched),
						c.Clause, c.Condition, c.Person, yesNo(c.Matched)})
				}
			}
			if e.output != "table" {
				return e.print(ex, t)
			}
			if len(ex.Grants) == 0 {
				fmt.Fprintf(e.stdout, "%s does not get %s\n", who(a.Person), app)
			} else {
				fmt.Fprintf(e.stdout, "%s gets %s:\n", who(a.Person), app)
			}
			for _, g := range ex.Grants {
				line := "  " + g.Key()
				if g.Role != "" {
					line += " (role " + g.Role + ")"
				}
				fmt.Fprintf(e.stdout, "%s  <- %s\n", line, reasons(g.Reasons))
			}
			for _, b := range ex.Blocked {
				fmt.Fprintf(e.stdout, "  %s BLOCKED by conflict %s with %s, which the person holds (asked for by rule %s); an approved exception would let it through\n",
					b.Key(), b.Conflict, b.HeldWith, strings.Join(b.Rules, ", "))
			}
			for _, x := range ex.Excluded {
				fmt.Fprintf(e.stdout, "  %s EXCLUDED by rule %s (granted by %s)\n", grantKeyOf(x.App, x.Entitlement), x.By, strings.Join(x.Rules, ", "))
			}
			if len(t.rows) == 0 {
				fmt.Fprintf(e.stdout, "no rule mentions %s\n", app)
				return nil
			}
			fmt.Fprintln(e.stdout)
			return writeTable(e.stdout, t)
		},
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func (e *env) accessListCommand(dir *string) *cobra.Command {
	return &cobra.Command{
		Use:   "list PERSON",
		Short: "Everything the policy and exceptions give a person, with reasons",
		Args:  exactArgs(1, "PERSON"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			a, s, err := e.openAccess(ctx, *dir, args[0])
			if err != nil {
				return err
			}
			defer s.Close()
			res := a.List()
			t := table{headers: []string{"APP", "ENTITLEMENT", "ROLE", "STATUS", "REASONS"}}
			for _, g := range res.Grants {
				t.rows = append(t.rows, []string{g.App, g.Entitlement, g.Role, "granted", reasons(g.Reasons)})
			}
			for _, b := range res.Blocked {
				t.rows = append(t.rows, []string{b.App, b.Entitlement, "", "blocked",
					fmt.Sprintf("conflict %s with %s (rules %s)", b.Conflict, b.HeldWith, strings.Join(b.Rules, ", "))})
			}
			for _, x := range res.Excluded {
				t.rows = append(t.rows, []string{x.App, x.Entitlement, "", "excluded",
					fmt.Sprintf("rule %s (granted by %s)", x.By, strings.Join(x.Rules, ", "))})
			}
			return e.print(res, t)
		},
	}
}

func (e *env) accessGrantCommand(dir *string) *cobra.Command {
	var reason, approver, expires string
	cmd := &cobra.Command{
		Use:   "grant PERSON APP[:KIND:NAME] --reason TEXT --approver PERSON --expires DATE",
		Short: "Grant an approved exception to policy; it ends by itself after DATE",
		Args:  exactArgs(2, "PERSON", "APP[:KIND:NAME]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			app, ent, _ := strings.Cut(args[1], ":")
			req := admin.ExceptionRequest{Person: args[0], App: app, Entitlement: ent, Reason: reason, Approver: approver, Expires: expires}
			flags := map[string]string{"reason": "reason", "approver": "approver", "expires": "expires"}
			now := e.clock()
			if _, err := admin.CheckException(req, now); err != nil {
				return cliError(err, flags)
			}
			ctx := cmd.Context()
			set, err := e.loadPolicy(e.policyDir(*dir))
			if err != nil {
				return err
			}
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			res, err := admin.GrantException(e.actorContext(ctx), s, set, req, now)
			if err != nil {
				return cliError(err, flags)
			}
			g := res.Grant
			return e.print(g, table{headers: []string{"ID", "PERSON", "GRANT", "APPROVER", "LAST_DAY", "NOTE"},
				rows: [][]string{{g.ID, res.Person.EmployeeID, args[1], g.Approver, expires, res.Note}}})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&reason, "reason", "", "why the exception is needed (recorded in the audit log)")
	fl.StringVar(&approver, "approver", "", "the person who approved it (employee ID, username or email)")
	fl.StringVar(&expires, "expires", "", "last day of access, YYYY-MM-DD (UTC)")
	return cmd
}

func (e *env) accessRevokeCommand() *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "revoke PERSON APP[:KIND:NAME] --reason TEXT",
		Short: "Revoke a person's exceptions for an app or entitlement before they expire",
		Args:  exactArgs(2, "PERSON", "APP[:KIND:NAME]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(reason) == "" {
				return usagef("--reason is required")
			}
			ctx := cmd.Context()
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			p, err := s.LookupPerson(ctx, args[0])
			if err != nil {
				return err
			}
			app, ent, _ := strings.Cut(args[1], ":")
			grants, err := s.ListGrants(ctx, directory.GrantFilter{PersonID: p.ID, App: app, Source: identity.FromException})
			if err != nil {
				return err
			}
			var ids []string
			for _, g := range grants {
				if g.Entitlement == ent {
					ids = append(ids, g.ID)
				}
			}
			if len(ids) == 0 {
				return &identity.NotFoundError{Kind: "exception", Key: p.EmployeeID + " " + args[1]}
			}
			wctx := audit.WithReason(e.actorContext(ctx), reason)
			err = s.InTx(wctx, func(tx directory.Store) error {
				for _, id := range ids {
					if err := tx.DeleteGrant(wctx, id); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			t := table{headers: []string{"REVOKED", "PERSON", "GRANT"}}
			for _, id := range ids {
				t.rows = append(t.rows, []string{id, p.EmployeeID, args[1]})
			}
			return e.print(map[string]any{"revoked": ids, "employee_id": p.EmployeeID, "grant": args[1]}, t)
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why it is revoked (recorded in the audit log)")
	return cmd
}
