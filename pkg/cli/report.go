package cli

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenure-id/tenure/pkg/admin"
	"github.com/tenure-id/tenure/pkg/policy"
	"github.com/tenure-id/tenure/pkg/report"
)

func (e *env) reportCommand() *cobra.Command {
	var asOf, format, dir, file string
	cmd := &cobra.Command{
		Use:   "report NAME",
		Short: "Access reports for auditors: access (who has what, and why) or exceptions (what is not as policy says)",
		Long: `access      every account each person (or nobody) holds in each app, what policy grants
            them and why, and a finding per row: ok, not-justified, leaver-with-access,
            orphan, not-provisioned or excess-membership.
exceptions  the exception grants (approved, or expired and no longer honoured) and every
            access row whose finding is not ok.

--as-of DATE rebuilds the report as things stood at the end of that day (in hr.time_zone),
or at an RFC 3339 time, from the audit log alone: who had what on that date. The policy in
force then is not recorded, so should_have is "unknown" in past-dated reports.

Every report first verifies the audit log's hash chain and names the head it verified to;
a log that does not verify gives no report.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 || !slices.Contains(report.Names, args[0]) {
				return usagef("report NAME: NAME is one of %s", strings.Join(report.Names, ", "))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if format == "" {
				format = e.output
			}
			if !slices.Contains([]string{"table", "json", "csv", "html"}, format) {
				return usagef("--format %q: use csv, json or html", format)
			}
			ctx := cmd.Context()
			req := admin.ReportRequest{Name: args[0], AsOf: asOf, Now: e.clock()}
			if asOf != "" {
				loc, err := e.cfg.HR.Location()
				if err != nil {
					return err
				}
				req.Location = loc
			}
			flags := map[string]string{"as_of": "as-of"}
			if _, err := admin.CheckReport(req); err != nil {
				return cliError(err, flags)
			}
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			rep, err := admin.BuildReport(ctx, s, func() (*policy.Set, error) { return e.loadPolicy(e.policyDir(dir)) }, req)
			if err != nil {
				return cliError(err, flags)
			}
			out := e.stdout
			if file != "" {
				f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
				if err != nil {
					return fmt.Errorf("--file: %w", err)
				}
				defer f.Close()
				out = f
			}
			if err := writeReport(out, format, rep); err != nil {
				return err
			}
			if file != "" {
				fmt.Fprintf(e.stderr, "report %s: %d rows written to %s\n", rep.Name, len(rep.Rows), file)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&asOf, "as-of", "", "a past date (YYYY-MM-DD, its end) or RFC 3339 time: rebuild the report from the audit log")
	cmd.Flags().StringVar(&format, "format", "", "csv, json or html (default: the --output format)")
	cmd.Flags().StringVar(&dir, "policies", "", "policy directory for what should be (env TENURE_POLICIES; default policies)")
	cmd.Flags().StringVar(&file, "file", "", "write to this new file instead of standard output")
	return cmd
}

func writeReport(w io.Writer, format string, rep report.Report) error {
	switch format {
	case "json":
		return report.WriteJSON(w, rep)
	case "csv":
		return report.WriteCSV(w, rep)
	case "html":
		return report.WriteHTML(w, rep)
	}
	t := table{headers: []string{"EMPLOYEE", "NAME", "APP", "ACCOUNT", "ACCOUNT_STATUS", "SHOULD_HAVE", "FINDING", "DETAIL"}}
	for _, r := range rep.Rows {
		detail := r.Reason
		if r.Entitlement != "" {
			detail = strings.TrimSpace(r.Entitlement + " " + detail)
		}
		if r.Approver != "" {
			detail += " (approved by " + r.Approver + ")"
		}
		t.rows = append(t.rows, []string{r.EmployeeID, r.Name, r.App, r.Account, r.AccountStatus, r.ShouldHave, r.Finding, detail})
	}
	if err := writeTable(w, t); err != nil {
		return err
	}
	when := "now"
	if rep.AsOf != nil {
		when = "as of " + rep.AsOf.Format(time.RFC3339)
	}
	fmt.Fprintf(w, "\n%s report %s: %d rows; audit log verified, %d records, head %s\n", rep.Name, when, len(rep.Rows), rep.Evidence.Records, rep.Evidence.Head)
	for _, n := range rep.Notes {
		fmt.Fprintln(w, n)
	}
	return nil
}
