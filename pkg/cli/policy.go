package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tenure-id/tenure/pkg/admin"
	"github.com/tenure-id/tenure/pkg/policy"
)

// defaultPolicyDir is where the policy lives unless --policies or TENURE_POLICIES say otherwise.
const defaultPolicyDir = "policies"

func (e *env) policyDir(flag string) string {
	return firstNonEmpty(flag, e.servePolicies, e.getenv("TENURE_POLICIES"), defaultPolicyDir)
}

// loadPolicy loads and validates dir; on failure it prints every finding, one per line
// (compiler style, or as JSON), and returns one summary error.
func (e *env) loadPolicy(dir string) (*policy.Set, error) {
	set, err := policy.LoadDir(dir)
	var findings policy.Errors
	if errors.As(err, &findings) {
		if e.output == "table" {
			for _, f := range findings {
				fmt.Fprintln(e.stdout, f.Error())
			}
		} else {
			t := table{headers: []string{"FILE", "LINE", "FIELD", "ERROR"}}
			for _, f := range findings {
				t.rows = append(t.rows, []string{f.File, strconv.Itoa(f.Line), f.Field, f.Msg})
			}
			if perr := e.print(findings, t); perr != nil {
				return nil, perr
			}
		}
		return nil, fmt.Errorf("policy %s: %d error(s), the first: %v", dir, len(findings), findings[0])
	}
	return set, err
}

func (e *env) policyCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Short: "Validate, test and compare access policies (policies/*.yaml)"}
	cmd.AddCommand(e.policyValidateCommand(), e.policyTestCommand(), e.policyDiffCommand(), e.policyPublishAppsCommand())
	return cmd
}

func maxArgs(n int, names string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) > n {
			return usagef("expected at most %d argument(s) (%s), got %d", n, names, len(args))
		}
		return nil
	}
}

func (e *env) policyValidateCommand() *cobra.Command {
	var againstDirectory bool
	cmd := &cobra.Command{
		Use:   "validate [DIR]",
		Short: "Check the policy files; errors name file, line and field",
		Args:  maxArgs(1, "DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := e.policyDir(firstArg(args))
			set, err := e.loadPolicy(dir)
			if err != nil {
				return err
			}
			if againstDirectory {
				if err := e.checkOrgUnits(cmd.Context(), dir, set); err != nil {
					return err
				}
			}
			summary := map[string]any{"dir": dir, "valid": true, "apps": len(set.Apps), "rules": len(set.Rules),
				"conflicts": len(set.Conflicts), "tests": len(set.Tests)}
			if e.output == "table" {
				fmt.Fprintf(e.stdout, "%s: valid (%d apps, %d rules, %d conflicts, %d tests)\n", dir,
					len(set.Apps), len(set.Rules), len(set.Conflicts), len(set.Tests))
				return nil
			}
			return e.print(summary, table{headers: []string{"DIR", "APPS", "RULES", "CONFLICTS", "TESTS"},
				rows: [][]string{{dir, strconv.Itoa(len(set.Apps)), strconv.Itoa(len(set.Rules)),
					strconv.Itoa(len(set.Conflicts)), strconv.Itoa(len(set.Tests))}}})
		},
	}
	cmd.Flags().BoolVar(&againstDirectory, "directory", false, "also check the declared org units exist in the directory (--db)")
	return cmd
}

// checkOrgUnits reports declared org units missing from the directory, like load errors.
func (e *env) checkOrgUnits(ctx context.Context, dir string, set *policy.Set) error {
	s, err := e.openStore(ctx, false)
	if err != nil {
		return err
	}
	defer s.Close()
	orgs, err := admin.LoadOrgIndex(ctx, s)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, u := range orgs.Units {
		known[strings.ToLower(orgs.Path(u.ID))] = true
	}
	missing := set.CheckOrgUnits(func(p string) bool { return known[p] })
	if len(missing) == 0 {
		return nil
	}
	if e.output == "table" {
		for _, m := range missing {
			fmt.Fprintln(e.stdout, m.Error())
		}
	} else if err := e.print(missing, table{}); err != nil {
		return err
	}
	return fmt.Errorf("policy %s: %d org unit(s) not in the directory, the first: %v", dir, len(missing), missing[0])
}

func (e *env) policyTestCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "test [DIR]",
		Short: "Run the policy's own test cases (tests: in the policy files)",
		Args:  maxArgs(1, "DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := e.policyDir(firstArg(args))
			set, err := e.loadPolicy(dir)
			if err != nil {
				return err
			}
			results := policy.NewResolver(set).RunTests()
			failed := 0
			t := table{headers: []string{"RESULT", "TEST", "WHERE", "DETAILS"}}
			for _, r := range results {
				status := "PASS"
				if !r.Passed {
					status = "FAIL"
					failed++
				}
				t.rows = append(t.rows, []string{status, r.Name, fmt.Sprintf("%s:%d", r.File, r.Line), strings.Join(r.Failures, "; ")})
			}
			if err := e.print(results, t); err != nil {
				return err
			}
			if len(results) == 0 {
				return fmt.Errorf("policy %s: no test cases (add tests: to a policy file)", dir)
			}
			if failed > 0 {
				return fmt.Errorf("policy %s: %d of %d test(s) failed", dir, failed, len(results))
			}
			return nil
		},
	}
}

func (e *env) policyDiffCommand() *cobra.Command {
	var against, current string
	cmd := &cobra.Command{
		Use:   "diff --against DIR",
		Short: "Who would gain and lose what if the policy in DIR replaced the current one (applies nothing)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if against == "" {
				return usagef("--against DIR is required")
			}
			ctx := cmd.Context()
			cur, err := e.loadPolicy(e.policyDir(current))
			if err != nil {
				return err
			}
			cand, err := e.loadPolicy(against)
			if err != nil {
				return err
			}
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			snap, people, err := loadSnapshot(ctx, s, e.clock())
			if err != nil {
				return err
			}
			changes := policy.Diff(people, snap, policy.NewResolver(cur), policy.NewResolver(cand))
			if changes == nil {
				changes = []policy.Change{}
			}
			t := table{headers: []string{"EMPLOYEE_ID", "CHANGE", "APP", "ENTITLEMENT", "ROLE", "REASONS"}}
			for _, c := range changes {
				role := c.ToRole
				if c.Change == "role" {
					role = c.FromRole + " -> " + c.ToRole
				} else if c.Change == "lose" {
					role = c.FromRole
				}
				t.rows = append(t.rows, []string{c.EmployeeID, c.Change, c.App, c.Entitlement, role, strings.Join(c.Reasons, "; ")})
			}
			if err := e.print(changes, t); err != nil {
				return err
			}
			if e.output == "table" {
				fmt.Fprintln(e.stdout, policy.Summary(changes))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&against, "against", "", "the candidate policy directory")
	cmd.Flags().StringVar(&current, "policies", "", "the current policy directory (env TENURE_POLICIES; default policies)")
	return cmd
}

func firstArg(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}
