package cli

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/spf13/cobra"

	"github.com/tenure-id/tenure/connectors/sandbox"
	"github.com/tenure-id/tenure/pkg/policy"
	"github.com/tenure-id/tenure/pkg/provision"
)

// defaultRoster is the sample company's roster, relative to the repository root.
const defaultRoster = "testdata/hr/piedpiper.csv"

func (e *env) demoCommand() *cobra.Command {
	var listen, roster, dir, sandboxAddr string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "One-command trial: the sample company, a sandbox fake of every app it uses, provisioning and serve",
		Long: "Creates or migrates the database, imports the sample roster, starts a faithful fake of every app\n" +
			"in the policy catalogue (GitHub, Slack, Google Workspace, HubSpot, Zendesk, Zapier and generic SCIM\n" +
			"apps) on a loopback port, points provisioning at them and serves: the first reconciliation\n" +
			"provisions everyone, and HR changes made with `tenure hr ...` reach the apps at once.\n" +
			"Settings under provisioning.apps in the configuration file win over the sandbox's.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if e.cfg.HR.EmailDomain == "" {
				e.cfg.HR.EmailDomain = sandbox.SampleDomain
			}
			set, err := e.loadPolicy(e.policyDir(dir))
			if err != nil {
				return err
			}
			sb, err := sandbox.Start(sandboxSpecs(set), sandbox.Options{Listen: sandboxAddr, Domain: e.cfg.HR.EmailDomain})
			if err != nil {
				return err
			}
			defer sb.Close()
			apps := sb.Configs()
			maps.Copy(apps, e.cfg.Provisioning.Apps)
			e.cfg.Provisioning.Apps = apps
			e.getenv = sb.Getenv(e.getenv)

			s, err := e.openStore(cmd.Context(), true)
			if err != nil {
				return err
			}
			err = s.Migrate(cmd.Context())
			if err == nil {
				_, err = e.prepareMFAKeys(cmd.Context(), s, true)
			}
			s.Close()
			if err != nil {
				return err
			}
			imp := e.hrImportCommand()
			imp.SetContext(cmd.Context())
			if err := imp.RunE(imp, []string{roster}); err != nil {
				return err
			}
			if err := e.enqueueFullPlan(cmd.Context(), dir); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "sandbox apps on %s:\n", sb.URL)
			for _, name := range slices.Sorted(maps.Keys(sb.Apps())) {
				a := sb.Apps()[name]
				fmt.Fprintf(e.stdout, "  %-18s %-8s %s\n", name, a.Connector, a.URL)
			}
			serve := e.serveCommand()
			serve.SetContext(cmd.Context())
			for flag, v := range map[string]string{"listen": listen, "policies": dir} {
				if v == "" {
					continue
				}
				if err := serve.Flags().Set(flag, v); err != nil {
					return err
				}
			}
			return serve.RunE(serve, nil)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "address to serve on (env TENURE_LISTEN; default 127.0.0.1:8080)")
	cmd.Flags().StringVar(&roster, "roster", defaultRoster, "the HR roster to import first")
	cmd.Flags().StringVar(&dir, "policies", "", "policy directory (env TENURE_POLICIES; default policies)")
	cmd.Flags().StringVar(&sandboxAddr, "sandbox-listen", "", "address of the sandbox apps (default 127.0.0.1 and a free port)")
	return cmd
}

// enqueueFullPlan plans every app and queues the plan, for the workers of `serve` to apply.
func (e *env) enqueueFullPlan(ctx context.Context, dir string) error {
	s, err := e.openStore(ctx, false)
	if err != nil {
		return err
	}
	defer s.Close()
	p, err := e.openPlanner(ctx, s, e.policyDir(dir), nil)
	if err != nil {
		return err
	}
	plan, err := p.Plan(ctx)
	if err != nil {
		return err
	}
	for _, a := range plan.Apps {
		if a.Error != "" {
			return fmt.Errorf("sandbox app %s: %s", a.App, a.Error)
		}
	}
	ops, err := provision.Enqueue(e.actorContext(ctx), s, plan)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "queued %d provisioning operations in %d apps\n", len(ops), len(plan.Apps))
	return nil
}

// sandboxSpecs describes every catalogue app the sandbox can fake.
func sandboxSpecs(set *policy.Set) []sandbox.Spec {
	var units []string
	for _, u := range set.OrgUnits {
		units = append(units, u.Path)
	}
	var specs []sandbox.Spec
	for _, a := range set.Apps {
		if !sandbox.Supported(a.Connector) {
			continue
		}
		ents := make([]string, len(a.Entitlements))
		for i, en := range a.Entitlements {
			ents[i] = en.Key()
		}
		specs = append(specs, sandbox.Spec{Name: a.Name, Connector: a.Connector, Entitlements: ents, Roles: a.Roles, OrgUnits: units})
	}
	return specs
}
