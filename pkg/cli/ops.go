package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenure-id/tenure/pkg/admin"
	"github.com/tenure-id/tenure/pkg/directory"
)

func (e *env) opsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "ops", Short: "The provisioning outbox: queued, failed and dead operations, quarantined apps"}
	cmd.AddCommand(e.opsListCommand(), e.opsRetryCommand())
	return cmd
}

func (e *env) opsListCommand() *cobra.Command {
	var states []string
	var app string
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List outbox operations (newest last) and the apps that are failing or quarantined",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := admin.OpsFilter(states, app)
			if err != nil {
				return cliError(err, map[string]string{"state": "state"})
			}
			ctx := cmd.Context()
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			out, err := admin.ListOps(ctx, s, f)
			if err != nil {
				return err
			}
			if limit > 0 && len(out.Ops) > limit {
				out.Ops = out.Ops[len(out.Ops)-limit:]
			}
			apps := out.Apps
			t := table{headers: []string{"ID", "APP", "KIND", "PERSON", "STATE", "ATTEMPTS", "NEXT_ATTEMPT", "ERROR"}}
			for _, o := range out.Ops {
				kind := o.Kind
				if o.Urgent {
					kind += " (urgent)"
				}
				next := ""
				if o.State == string(directory.OpPending) {
					next = o.NextAttemptAt.Format(time.RFC3339)
				}
				t.rows = append(t.rows, []string{strconv.FormatInt(o.ID, 10), o.App, kind, o.PersonID, o.State,
					strconv.Itoa(o.Attempts), next, oneLine(o.LastError)})
			}
			if e.output == "table" {
				for _, a := range apps {
					if a.QuarantinedAt != nil {
						fmt.Fprintf(e.stdout, "QUARANTINED %s since %s after %d consecutive failures (last: %s); `tenure ops retry --app %s` resumes it\n",
							a.App, a.QuarantinedAt.Format(time.RFC3339), a.Failures, oneLine(a.LastError), a.App)
					}
				}
			}
			return e.print(out, t)
		},
	}
	cmd.Flags().StringSliceVar(&states, "state", nil, "only ops in these states: pending, running, done, failed, dead (repeatable)")
	cmd.Flags().StringVar(&app, "app", "", "only this app's ops")
	cmd.Flags().IntVar(&limit, "limit", 0, "only the newest N ops")
	return cmd
}

func (e *env) opsRetryCommand() *cobra.Command {
	var app string
	cmd := &cobra.Command{
		Use:   "retry [--app NAME] [ID...]",
		Short: "Requeue failed and dead operations (all, one app's, or the given IDs) and lift the apps' quarantine",
		RunE: func(cmd *cobra.Command, args []string) error {
			r := directory.OutboxRetry{App: app}
			for _, a := range args {
				id, err := strconv.ParseInt(a, 10, 64)
				if err != nil || id <= 0 {
					return usagef("operation ID %q: want a positive number as `tenure ops list` shows", a)
				}
				r.IDs = append(r.IDs, id)
			}
			if err := admin.CheckRetry(r); err != nil {
				return usagef("give --app or operation IDs, not both")
			}
			ctx := e.actorContext(cmd.Context())
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			n, err := s.RetryOps(ctx, r)
			if err != nil {
				return err
			}
			scope := "every app"
			switch {
			case app != "":
				scope = "app " + app
			case len(args) > 0:
				scope = "ops " + strings.Join(args, ", ")
			}
			fmt.Fprintf(e.stdout, "requeued %d failed or dead operation(s) of %s; quarantine lifted\n", n, scope)
			return nil
		},
	}
	cmd.Flags().StringVar(&app, "app", "", "only this app")
	return cmd
}
