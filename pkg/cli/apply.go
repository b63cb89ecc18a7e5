package cli

import (
	"context"
	"fmt"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/provision"
)

// applyReport is `tenure apply -o json`.
type applyReport struct {
	Apps []provision.AppSummary `json:"apps"`
	// PlanErrors are apps that could not be read, so nothing was planned for them.
	PlanErrors map[string]string `json:"plan_errors,omitempty"`
}

func (e *env) applyCommand() *cobra.Command {
	var apps []string
	var dir string
	var lease, wait time.Duration
	cmd := &cobra.Command{
		Use:   "apply [--app NAME]",
		Short: "Plan afresh and execute the plan through the durable outbox; exit 1 if any operation failed",
		Long: "Every operation is stored before it is attempted, so an interrupted apply loses nothing: run it\n" +
			"again (or let `tenure serve` continue) and the queued operations finish without being repeated.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(e.actorContext(cmd.Context()), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			p, err := e.openPlanner(ctx, s, e.policyDir(dir), apps)
			if err != nil {
				return err
			}
			if len(p.Connectors) == 0 {
				return fmt.Errorf("no app to apply: configure provisioning.apps in the configuration file (--config)")
			}
			plan, err := p.Plan(ctx, apps...)
			if err != nil {
				return err
			}
			rep := applyReport{PlanErrors: map[string]string{}}
			conns := map[string]connector.Connector{}
			for _, ap := range plan.Apps {
				if ap.Error != "" {
					rep.PlanErrors[ap.App] = ap.Error
				}
				if c, ok := p.Connectors[ap.App]; ok {
					conns[ap.App] = c
				}
			}
			ops, err := provision.Enqueue(ctx, s, plan)
			if err != nil {
				return err
			}
			ids, err := withLeftovers(ctx, s, ops, conns)
			if err != nil {
				return err
			}
			if len(ids) > 0 {
				x := e.executor(s, conns, lease, nil)
				if err := x.RunUntil(ctx, provision.UntilSettled(s, ids, wait)); err != nil {
					return err
				}
			}
			if rep.Apps, err = provision.Summarize(ctx, s, ids); err != nil {
				return err
			}
			if err := e.printApply(rep); err != nil {
				return err
			}
			return applyOutcome(rep)
		},
	}
	cmd.Flags().StringSliceVar(&apps, "app", nil, "apply only this app's plan (repeatable)")
	cmd.Flags().StringVar(&dir, "policies", "", "policy directory (env TENURE_POLICIES; default policies)")
	cmd.Flags().DurationVar(&lease, "lease", 2*time.Minute, "how long an operation this run claimed stays reserved if the run dies")
	cmd.Flags().DurationVar(&wait, "wait", 2*time.Minute, "give up when no operation has finished for this long (what is left stays queued)")
	return cmd
}

// executor builds the outbox workers with the configured limits.
// executor builds the outbox workers; obs, when not nil, hears every attempt (metrics).
func (e *env) executor(q provision.Queue, conns map[string]connector.Connector, lease time.Duration, obs provision.Observer) *provision.Executor {
	limits := map[string]provision.AppLimits{}
	for name, c := range e.cfg.Provisioning.Apps {
		limits[name] = provision.AppLimits{Rate: c.Rate, Burst: c.Burst, Concurrency: c.Concurrency, QuarantineAfter: c.QuarantineAfter}
	}
	return provision.NewExecutor(q, conns, provision.ExecutorConfig{Workers: e.cfg.Provisioning.Workers, Apps: limits,
		Lease: lease, Clock: e.clock, Logger: e.logger, Observer: obs})
}

func (e *env) printApply(rep applyReport) error {
	t := table{headers: []string{"APP", "DONE", "FAILED", "DEAD", "WAITING", "NOTE"}}
	for _, a := range rep.Apps {
		note := ""
		if a.Quarantined {
			note = "quarantined: `tenure ops retry --app " + a.App + "`"
		}
		t.rows = append(t.rows, []string{a.App, strconv.Itoa(a.Done), strconv.Itoa(a.Failed), strconv.Itoa(a.Dead), strconv.Itoa(a.Waiting), note})
	}
	for _, app := range sortedKeysOf(rep.PlanErrors) {
		t.rows = append(t.rows, []string{app, "0", "0", "0", "0", "not planned: " + oneLine(rep.PlanErrors[app])})
	}
	if err := e.print(rep, t); err != nil {
		return err
	}
	if e.output != "table" {
		return nil
	}
	if len(rep.Apps) == 0 && len(rep.PlanErrors) == 0 {
		fmt.Fprintln(e.stdout, "nothing to do: every app matches the policy")
	}
	for _, a := range rep.Apps {
		for _, oe := range a.Errors {
			fmt.Fprintf(e.stdout, "%s op %d %s %s %s: %s\n", a.App, oe.ID, oe.Kind, oe.PersonID, oe.State, oneLine(oe.Error))
		}
	}
	return nil
}

// applyOutcome is the command's error: any failed, dead or unplanned work is exit 1.
func applyOutcome(rep applyReport) error {
	var bad []string
	for _, a := range rep.Apps {
		if a.Failed+a.Dead+a.Waiting > 0 {
			bad = append(bad, fmt.Sprintf("%s: %d failed, %d dead, %d waiting", a.App, a.Failed, a.Dead, a.Waiting))
		}
	}
	for _, app := range sortedKeysOf(rep.PlanErrors) {
		bad = append(bad, app+": not planned")
	}
	if len(bad) > 0 {
		return fmt.Errorf("apply incomplete: %s", strings.Join(bad, "; "))
	}
	return nil
}

// withLeftovers adds to the plan's ops those an interrupted earlier run (or a busy server)
// left open in the same apps, so apply also finishes them: they are older steps of the same
// accounts, and the plan's own steps may wait on them.
func withLeftovers(ctx context.Context, s provision.Watcher, ops []directory.OutboxOp, conns map[string]connector.Connector) ([]int64, error) {
	ids := make([]int64, 0, len(ops))
	seen := map[int64]bool{}
	for _, o := range ops {
		if !seen[o.ID] {
			seen[o.ID] = true
			ids = append(ids, o.ID)
		}
	}
	for _, app := range sortedKeysOf(conns) {
		open, err := s.ListOps(ctx, directory.OutboxFilter{App: app, States: []directory.OpState{directory.OpPending, directory.OpRunning}})
		if err != nil {
			return nil, err
		}
		for _, o := range open {
			if !seen[o.ID] {
				seen[o.ID] = true
				ids = append(ids, o.ID)
			}
		}
	}
	return ids, nil
}
