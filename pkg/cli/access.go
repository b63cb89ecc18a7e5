package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/policy"
)

func (e *env) accessCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{Use: "access", Short: "What a person may use and why; exceptions"}
	cmd.PersistentFlags().StringVar(&dir, "policies", "", "policy directory (env TENURE_POLICIES; default policies)")
	cmd.AddCommand(e.accessWhyCommand(&dir), e.accessListCommand(&dir), e.accessGrantCommand(&dir), e.accessRevokeCommand())
	return cmd
}

// accessSession is what every access command starts from: the policy, the store, the person
// and a snapshot of the directory for resolving.
type accessSession struct {
	resolver *policy.Resolver
	store    *sqlstore.Store
	snap     *policy.Snapshot
	person   identity.Person
}

func (e *env) openAccess(ctx context.Context, dir, personKey string) (*accessSession, error) {
	set, err := e.loadPolicy(e.policyDir(dir))
	if err != nil {
		return nil, err
	}
	s, err := e.openStore(ctx, false)
	if err != nil {
		return nil, err
	}
	p, err := s.LookupPerson(ctx, personKey)
	if err != nil {
		s.Close()
		return nil, err
	}
	snap, _, err := loadSnapshot(ctx, s, e.clock())
	if err != nil {
		s.Close()
		return nil, err
	}
	return &accessSession{resolver: policy.NewResolver(set), store: s, snap: snap, person: p}, nil
}

func who(p identity.Person) string { return fmt.Sprintf("%s (%s)", p.DisplayName(), p.EmployeeID) }

func reasons(rs []policy.Reason) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.String()
		if r.Exception != nil && r.Exception.ExpiresAt != nil {
			out[i] += " until " + r.Exception.ExpiresAt.Add(-time.Nanosecond).Format(time.DateOnly)
		}
	}
	return strings.Join(out, "; ")
}

func (e *env) accessWhyCommand(dir *string) *cobra.Command {
	return &cobra.Command{
		Use:   "why PERSON APP",
		Short: "The chain behind a person's access to an app: rule, condition, the person's value",
		Args:  exactArgs(2, "PERSON", "APP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			a, err := e.openAccess(ctx, *dir, args[0])
			if err != nil {
				return err
			}
			defer a.store.Close()
			app := args[1]
			if _, ok := a.resolver.Set().App(app); !ok {
				return fmt.Errorf("app %q is not in the policy catalogue", app)
			}
			ex := a.resolver.Explain(a.person, a.snap, app)
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
				fmt.Fprintf(e.stdout, "%s does not get %s\n", who(a.person), app)
			} else {
				fmt.Fprintf(e.stdout, "%s gets %s:\n", who(a.person), app)
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

func grantKeyOf(app, ent string) string {
	if ent == "" {
		return app
	}
	return app + ":" + ent
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
			a, err := e.openAccess(ctx, *dir, args[0])
			if err != nil {
				return err
			}
			defer a.store.Close()
			res := a.resolver.Resolve(a.person, a.snap)
			if res.Grants == nil {
				res.Grants = []policy.Grant{}
			}
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

// parseGrantTarget splits APP[:KIND:NAME] and checks it against the catalogue.
func parseGrantTarget(set *policy.Set, target string) (app, ent string, err error) {
	app, ent, _ = strings.Cut(target, ":")
	a, ok := set.App(app)
	if !ok {
		return "", "", usagef("app %q is not in the policy catalogue", app)
	}
	if ent != "" && !a.HasEntitlement(ent) {
		return "", "", usagef("app %q offers no entitlement %q", app, ent)
	}
	return app, ent, nil
}

func (e *env) accessGrantCommand(dir *string) *cobra.Command {
	var reason, approver, expires string
	cmd := &cobra.Command{
		Use:   "grant PERSON APP[:KIND:NAME] --reason TEXT --approver PERSON --expires DATE",
		Short: "Grant an approved exception to policy; it ends by itself after DATE",
		Args:  exactArgs(2, "PERSON", "APP[:KIND:NAME]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case strings.TrimSpace(reason) == "":
				return usagef("--reason is required: every exception says why")
			case strings.TrimSpace(approver) == "":
				return usagef("--approver is required")
			case expires == "":
				return usagef("--expires DATE is required: exceptions always end")
			}
			day, err := time.Parse(time.DateOnly, expires)
			if err != nil {
				return usagef("--expires %q: want YYYY-MM-DD", expires)
			}
			end := policy.ExpiryFromDate(day)
			now := e.clock()
			if !end.After(now) {
				return usagef("--expires %s is in the past", expires)
			}
			ctx := cmd.Context()
			a, err := e.openAccess(ctx, *dir, args[0])
			if err != nil {
				return err
			}
			defer a.store.Close()
			app, ent, err := parseGrantTarget(a.resolver.Set(), args[1])
			if err != nil {
				return err
			}
			appr, err := a.store.LookupPerson(ctx, approver)
			if err != nil {
				return fmt.Errorf("--approver: %w", err)
			}
			if appr.ID == a.person.ID {
				return usagef("--approver: %s cannot approve their own exception", approver)
			}
			if appr.Status != identity.Active {
				return fmt.Errorf("--approver: %s is %s, not active", approver, appr.Status)
			}
			existing, err := a.store.ListGrants(ctx, directory.GrantFilter{PersonID: a.person.ID, App: app, Source: identity.FromException})
			if err != nil {
				return err
			}
			for _, g := range existing {
				if g.Entitlement == ent && !policy.Expired(g, now) {
					return fmt.Errorf("%s already has exception %s for %s until %s: revoke it first",
						who(a.person), g.ID, args[1], g.ExpiresAt.Add(-time.Nanosecond).Format(time.DateOnly))
				}
			}
			// Say what the exception changes, so nobody approves a no-op or an SoD override unknowingly.
			note := ""
			res := a.resolver.Resolve(a.person, a.snap)
			for _, b := range res.Blocked {
				if b.App == app && b.Entitlement == ent {
					note = "overrides SoD conflict " + b.Conflict
				}
			}
			if g, ok := res.Find(grantKeyOf(app, ent)); ok && note == "" {
				note = "already granted by " + reasons(g.Reasons) + "; the exception keeps it if that stops"
			}
			g := identity.Grant{PersonID: a.person.ID, App: app, Entitlement: ent, Source: identity.FromException,
				Reason: reason, Approver: appr.EmployeeID, GrantedAt: now, ExpiresAt: &end}
			g, err = a.store.CreateGrant(audit.WithReason(e.actorContext(ctx), reason), g)
			if err != nil {
				return err
			}
			return e.print(g, table{headers: []string{"ID", "PERSON", "GRANT", "APPROVER", "LAST_DAY", "NOTE"},
				rows: [][]string{{g.ID, a.person.EmployeeID, args[1], g.Approver, expires, note}}})
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
