package cli

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenure-id/tenure/pkg/admin"
	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/policy"
	"github.com/tenure-id/tenure/pkg/provision"
)

// openPlanner builds the planner `tenure plan` and `tenure apply` share: the policy in
// policyDir, and a connector for every app configured under provisioning.apps (only those in
// names, when given) that is not disabled. A configured app the policy catalogue does not
// know is a configuration mistake and fails here.
func (e *env) openPlanner(ctx context.Context, store provision.PlannerStore, policyDir string, names []string) (*provision.Planner, error) {
	set, err := e.loadPolicy(policyDir)
	if err != nil {
		return nil, err
	}
	return e.planner(store, set, policyDir, names)
}

// planner is openPlanner with the policy already loaded.
func (e *env) planner(store provision.PlannerStore, set *policy.Set, policyDir string, names []string) (*provision.Planner, error) {
	cfgs := e.cfg.Provisioning.Apps
	conns := map[string]connector.Connector{}
	for _, app := range sortedKeysOf(cfgs) {
		cfg := cfgs[app]
		entry, ok := set.App(app)
		if !ok {
			return nil, fmt.Errorf("provisioning.apps.%s: the policy catalogue (%s) has no app %q", app, policyDir, app)
		}
		if cfg.Disabled || len(names) > 0 && !slices.Contains(names, app) {
			continue
		}
		c, err := connectorFor(app, entry.Connector, cfg, e.getenv, e.logger)
		if err != nil {
			return nil, err
		}
		conns[app] = c
	}
	return &provision.Planner{Store: store, Policy: set, Connectors: conns, Apps: cfgs, Clock: e.clock, Logger: e.logger}, nil
}

func sortedKeysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (e *env) planCommand() *cobra.Command {
	var apps []string
	var dir string
	cmd := &cobra.Command{
		Use:   "plan [--app NAME]",
		Short: "What apply would do in each app, per person, with the reason for every operation (changes nothing)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			p, err := e.openPlanner(ctx, s, e.policyDir(dir), apps)
			if err != nil {
				return err
			}
			if len(apps) == 0 && len(p.Connectors) == 0 {
				return fmt.Errorf("no app to plan: configure provisioning.apps in the configuration file (--config)")
			}
			plan, err := p.Plan(ctx, apps...)
			if err != nil {
				return err
			}
			people, err := s.ListPeople(ctx, directory.PersonFilter{})
			if err != nil {
				return err
			}
			if err := e.printPlan(plan, people); err != nil {
				return err
			}
			var failed []string
			for _, ap := range plan.Apps {
				if ap.Error != "" {
					failed = append(failed, ap.App+": "+ap.Error)
				}
			}
			if len(failed) > 0 {
				return fmt.Errorf("%d app(s) could not be planned: %s", len(failed), strings.Join(failed, "; "))
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&apps, "app", nil, "plan only this app (repeatable)")
	cmd.Flags().StringVar(&dir, "policies", "", "policy directory (env TENURE_POLICIES; default policies)")
	return cmd
}

// printPlan prints the plan: JSON as is, CSV one row per operation, and for people one block
// per app with each person's operations and reasons, then a summary table.
func (e *env) printPlan(plan provision.Plan, people []identity.Person) error {
	byID := make(map[string]identity.Person, len(people))
	for _, p := range people {
		byID[p.ID] = p
	}
	name := func(id string) string {
		if p, ok := byID[id]; ok {
			return who(p)
		}
		return id
	}
	summary := table{headers: []string{"APP", "CREATE", "ENABLE", "UPDATE", "ADD_MEMBER", "REMOVE_MEMBER", "DISABLE", "DELETE", "ORPHANS", "DRIFT", "CONFLICTS", "ERROR"}}
	for _, ap := range plan.Apps {
		n := map[connector.OpKind]int{}
		for _, s := range ap.Ops {
			n[s.Kind]++
		}
		row := []string{ap.App}
		for _, k := range []connector.OpKind{connector.OpCreate, connector.OpEnable, connector.OpUpdate, connector.OpAddMember, connector.OpRemoveMember, connector.OpDisable, connector.OpDelete} {
			row = append(row, strconv.Itoa(n[k]))
		}
		summary.rows = append(summary.rows, append(row, strconv.Itoa(len(ap.Orphans)), strconv.Itoa(len(ap.Drift)), strconv.Itoa(len(ap.Conflicts)), ap.Error))
	}
	switch e.output {
	case "json":
		return e.print(admin.PlanJSON(plan), table{})
	case "csv":
		t := table{headers: []string{"APP", "EMPLOYEE_ID", "PERSON", "OPERATION", "ACCOUNT_ID", "ENTITLEMENT", "FIELDS", "URGENT", "REASON"}}
		for _, ap := range plan.Apps {
			for _, s := range ap.Ops {
				t.rows = append(t.rows, []string{ap.App, byID[s.PersonID].EmployeeID, byID[s.PersonID].DisplayName(), string(s.Kind), s.AccountID,
					s.Entitlement, strings.Join(s.Fields, " "), strconv.FormatBool(s.Urgent), s.Reason})
			}
		}
		return e.print(plan, t)
	}
	w := e.stdout
	fmt.Fprintf(w, "Plan at %s: %d operation(s) in %d app(s)\n", plan.GeneratedAt.UTC().Format(time.RFC3339), plan.Count(), len(plan.Apps))
	for _, ap := range plan.Apps {
		fmt.Fprintf(w, "\n== %s", ap.App)
		switch {
		case ap.Error != "":
			fmt.Fprintf(w, ": NOT PLANNED: %s\n", ap.Error)
			continue
		case len(ap.Ops) == 0:
			fmt.Fprint(w, ": in sync")
		}
		fmt.Fprintln(w)
		last := "\x00"
		for _, s := range ap.Ops {
			if s.PersonID != last {
				last = s.PersonID
				if s.PersonID == "" {
					fmt.Fprintln(w, "  (accounts no person matches)")
				} else {
					fmt.Fprintf(w, "  %s\n", name(s.PersonID))
				}
			}
			urgent := ""
			if s.Urgent {
				urgent = " [urgent]"
			}
			fmt.Fprintf(w, "    %-13s %s%s  <- %s\n", s.Kind, describeStep(s), urgent, s.Reason)
		}
		for _, o := range ap.Orphans {
			fmt.Fprintf(w, "  orphan: %s (%s, id %s, %s)\n", o.UserName, firstNonEmpty(o.Email, "no email"), o.ID, activeWord(o.Active))
		}
		for _, d := range ap.Drift {
			switch {
			case d.Field != "memberships":
				fmt.Fprintf(w, "  drift: %s: %s is %q in the app, Tenure set %q\n", name(d.PersonID), strings.TrimPrefix(d.Field, "attributes."), d.Have, d.Want)
			case d.Have != "":
				fmt.Fprintf(w, "  drift: %s: %s was added in the app\n", name(d.PersonID), d.Have)
			default:
				fmt.Fprintf(w, "  drift: %s: %s was removed in the app\n", name(d.PersonID), d.Want)
			}
		}
		for _, c := range ap.Conflicts {
			fmt.Fprintf(w, "  conflict: %s; nothing is planned for them until it is resolved\n", c.Detail)
		}
	}
	fmt.Fprintln(w)
	return writeTable(w, summary)
}

func describeStep(s provision.Step) string {
	a := s.Account
	switch s.Kind {
	case connector.OpCreate:
		d := "account " + a.UserName
		if a.Role != "" {
			d += " (role " + a.Role + ")"
		}
		return d
	case connector.OpUpdate:
		fs := make([]string, len(s.Fields))
		for i, f := range s.Fields {
			fs[i] = strings.TrimPrefix(f, "attributes.")
		}
		return strings.Join(fs, ", ")
	case connector.OpAddMember, connector.OpRemoveMember:
		return s.Entitlement
	}
	return "account " + a.UserName
}

func activeWord(active bool) string {
	if active {
		return "active"
	}
	return "disabled"
}
