package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/hr"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/lifecycle"
)

func (e *env) hrCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "hr", Short: "Feed HR changes: roster imports and single events"}
	cmd.AddCommand(e.hrImportCommand(), e.hrEventCommand())
	return cmd
}

// lifecycleEngine builds the engine from the hr section of the config.
func (e *env) lifecycleEngine(s directory.Store) (*lifecycle.Engine, error) {
	return e.lifecycleEngineWaking(s, nil)
}

// lifecycleEngineWaking is lifecycleEngine with a hook called after future events are stored,
// which `tenure serve` points at its scheduler.
func (e *env) lifecycleEngineWaking(s directory.Store, wake func()) (*lifecycle.Engine, error) {
	return e.lifecycleEngineHooked(s, wake, nil)
}

// lifecycleEngineHooked also tells changed which people applied events changed, which `tenure
// serve` points at provisioning so their apps are reconciled at once.
func (e *env) lifecycleEngineHooked(s directory.Store, wake func(), changed func([]string)) (*lifecycle.Engine, error) {
	h := e.cfg.HR
	loc, err := h.Location()
	if err != nil {
		return nil, err
	}
	leave, err := h.LeaveTime()
	if err != nil {
		return nil, err
	}
	return lifecycle.New(s, lifecycle.Options{Clock: e.clock, PreHireDays: h.PreHireDays, Location: loc, LeaveTime: leave,
		Naming:  lifecycle.Naming{Pattern: h.UsernamePattern, Domain: h.EmailDomain},
		Breaker: lifecycle.Breaker{Percent: h.Breaker.Percent, MinChanges: h.Breaker.MinChanges}, Logger: e.logger,
		Wake: wake, Changed: changed}), nil
}

func (e *env) hrImportCommand() *cobra.Command {
	var opt lifecycle.ImportOptions
	var format, missing string
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Import a full roster (CSV or JSON): derive and apply the joiner/mover/leaver events it implies",
		Long: "The roster is a full snapshot. Bad rows are reported by line and column and reject the whole import\n" +
			"unless --skip-invalid. An import that would terminate, suspend or move too many people is held\n" +
			"(nothing applied) unless --allow-mass-change.",
		Args: exactArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := e.actorContext(cmd.Context())
			f := hr.Format(format)
			if format == "" {
				var err error
				if f, err = hr.FormatOf(args[0]); err != nil {
					return usageError{err}
				}
			}
			switch missing = firstNonEmpty(missing, e.cfg.HR.MissingFromRoster, "report"); missing {
			case "report", "terminate":
				opt.MissingTerminates = missing == "terminate"
			default:
				return usagef("--missing %q: use report or terminate", missing)
			}
			doc, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			if f == hr.JSON && hr.IsEventFile(doc) {
				return e.importEvents(ctx, args[0], doc, opt.SubmitOptions)
			}
			roster, err := hr.Parse(bytes.NewReader(doc), f, hr.Mapping(e.cfg.HR.Mapping))
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			eng, err := e.lifecycleEngine(s)
			if err != nil {
				return err
			}
			if !opt.DryRun {
				// Events that fell due since the last run come first: the roster is compared with
				// the directory as it stands now.
				if _, err := eng.ApplyDue(ctx); err != nil {
					return err
				}
			}
			opt.Source = "roster:" + filepath.Base(args[0])
			rep, err := eng.ImportRoster(ctx, roster, opt)
			if perr := e.printImport(rep, err); perr != nil {
				return perr
			}
			if err != nil {
				return err
			}
			return rejectedError(rep.Report)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opt.DryRun, "dry-run", false, "print the events the roster implies and change nothing")
	fl.BoolVar(&opt.SkipInvalid, "skip-invalid", false, "apply the valid rows and report the invalid ones")
	fl.BoolVar(&opt.AllowMassChange, "allow-mass-change", false, "release the mass-change breaker (audited)")
	fl.StringVar(&format, "format", "", "csv or json (default: from the file name)")
	fl.StringVar(&missing, "missing", "", "people missing from the roster: report or terminate (default: hr.missing_from_roster, else report)")
	return cmd
}

func rejectedError(r lifecycle.Report) error {
	if r.Rejected > 0 {
		return fmt.Errorf("%d event(s) rejected and recorded; see the report", r.Rejected)
	}
	return nil
}

// printImport prints what the import did, would do, or found wrong; the error itself is
// printed by Main as the one line on stderr.
func (e *env) printImport(rep lifecycle.ImportReport, err error) error {
	var inv *hr.InvalidRosterError
	rejected := errors.As(err, &inv)
	if err != nil && !rejected && rep.Held == nil {
		return nil
	}
	if rep.Changes == nil {
		rep.Changes = []hr.Change{}
	}
	bad := table{headers: []string{"ROW", "COLUMN", "VALUE", "PROBLEM"}}
	for _, r := range rep.Invalid {
		bad.rows = append(bad.rows, []string{fmt.Sprintf("%s %d", r.Unit, r.Row), r.Column, r.Value, r.Reason})
	}
	switch {
	case rejected:
		return e.print(rep, bad)
	case len(rep.Invalid) > 0 && e.output == "table":
		if err := e.print(rep, bad); err != nil {
			return err
		}
	case len(rep.Invalid) > 0 && e.output == "csv":
		// One CSV document per run: the skipped rows are only counted here.
		fmt.Fprintf(e.stderr, "tenure: skipped %d invalid row(s); -o table or json lists them\n", len(rep.Invalid))
	}
	outcome := map[string]lifecycle.Outcome{}
	for _, o := range rep.Outcomes {
		outcome[o.Event.ExternalID] = o
	}
	t := table{headers: []string{"EFFECTIVE", "TYPE", "EMPLOYEE_ID", "STATE", "DETAIL"}}
	for _, c := range rep.Changes {
		state, detail := "held", strings.Join(c.Fields, ",")
		if o, ok := outcome[c.Event.ExternalID]; ok {
			state = string(o.Event.State)
			if o.Duplicate {
				state = "already " + state
			}
			if o.Event.Error != "" {
				detail = o.Event.Error
			}
		}
		if rep.DryRun && state != "held" {
			state = "would be " + state
		}
		t.rows = append(t.rows, []string{c.Event.EffectiveAt.Format(time.RFC3339), string(c.Event.Type), c.Event.EmployeeID, state, detail})
	}
	for _, m := range rep.Missing {
		t.rows = append(t.rows, []string{"", "", m, "missing", "not on the roster; left unchanged (--missing terminate to end them)"})
	}
	if err := e.print(rep, t); err != nil {
		return err
	}
	if e.output == "table" {
		fmt.Fprintf(e.stdout, "%d applied, %d scheduled, %d rejected, %d already known, %d superseded%s\n",
			rep.Applied, rep.Scheduled, rep.Rejected, rep.Duplicates, rep.Superseded, map[bool]string{true: " (dry run: nothing changed)"}[rep.DryRun])
	}
	return nil
}

// parseEventType accepts the CLI spellings (manager-change) beside the stored ones.
func parseEventType(s string) (identity.EventType, error) {
	t := identity.EventType(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "_"))
	if !t.Valid() {
		return "", fmt.Errorf("event type %q: use one of hire, rehire, transfer, manager-change, attribute-change, leave, return, terminate, contract-end", s)
	}
	return t, nil
}

func (e *env) hrEventCommand() *cobra.Command {
	var emp, effective, externalID, reason string
	var opt lifecycle.SubmitOptions
	var d hr.Data
	var empType, start, end, keep string
	cmd := &cobra.Command{
		Use:   "event TYPE",
		Short: "Record one HR event: hire, rehire, transfer, manager-change, attribute-change, leave, return, terminate, contract-end",
		Long: "Fields not given keep the person's current values. --effective takes a date (a termination then\n" +
			"happens at hr.termination_time that day) or an RFC 3339 time; without it the event is immediate.",
		Args: exactArgs(1, "TYPE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := e.actorContext(cmd.Context())
			if reason != "" {
				ctx = audit.WithReason(ctx, reason)
			}
			typ, err := parseEventType(args[0])
			if err != nil {
				return usageError{err}
			}
			if strings.TrimSpace(emp) == "" {
				return usagef("--employee-id is required")
			}
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			eng, err := e.lifecycleEngine(s)
			if err != nil {
				return err
			}
			data := hr.Data{}
			if typ != identity.Hire {
				if data, _, err = eng.CurrentData(ctx, emp); err != nil {
					return err
				}
			}
			if err := overlay(cmd, &data, d, empType, start, end, keep); err != nil {
				return err
			}
			if (typ == identity.Hire || typ == identity.Rehire) && data.FirstName == "" && data.LastName == "" {
				return usagef("%s needs --first-name or --last-name", strings.ReplaceAll(string(typ), "_", "-"))
			}
			at, err := effectiveAt(eng, typ, effective, e.clock())
			if err != nil {
				return usageError{err}
			}
			ev := identity.Event{Type: typ, EmployeeID: strings.TrimSpace(emp), EffectiveAt: at, Source: "cli",
				ExternalID: externalID, Payload: mustMarshal(data)}
			rep, err := eng.Submit(ctx, []identity.Event{ev}, opt)
			if err != nil {
				return err
			}
			return e.printOutcomes(rep)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&emp, "employee-id", "", "HR's employee ID of the person (required)")
	fl.StringVar(&effective, "effective", "", "when it takes effect: YYYY-MM-DD or an RFC 3339 time (default: now)")
	fl.StringVar(&externalID, "id", "", "the event's ID in the HR system; a repeated ID is not applied twice")
	fl.StringVar(&reason, "reason", "", "why, for the audit log (a ticket number, say)")
	fl.BoolVar(&opt.DryRun, "dry-run", false, "say what would happen and change nothing")
	fl.BoolVar(&opt.AllowMassChange, "allow-mass-change", false, "release the mass-change breaker (audited)")
	for _, f := range []struct {
		name string
		dst  *string
	}{{"first-name", &d.FirstName}, {"last-name", &d.LastName}, {"preferred-name", &d.PreferredName},
		{"email", &d.WorkEmail}, {"personal-email", &d.PersonalEmail}, {"job-title", &d.JobTitle}, {"job-code", &d.JobCode},
		{"organization", &d.Organization}, {"division", &d.Division}, {"department", &d.Department}, {"team", &d.Team},
		{"cost-center", &d.CostCenter}, {"location", &d.Location}, {"country", &d.Country}, {"manager-id", &d.ManagerID}} {
		fl.StringVar(f.dst, f.name, "", strings.ReplaceAll(f.name, "-", " "))
	}
	fl.StringVar(&empType, "employment-type", "", "employee, contractor, vendor or intern")
	fl.StringVar(&start, "start-date", "", "YYYY-MM-DD")
	fl.StringVar(&end, "end-date", "", "YYYY-MM-DD (contract end)")
	fl.StringVar(&keep, "keep-access-until", "", "transfer: keep the old position's access until this date")
	return cmd
}

// overlay puts the flags that were given over the person's current data. Placing someone in
// the org tree names their whole path, so giving any org level replaces all four.
func overlay(cmd *cobra.Command, dst *hr.Data, flags hr.Data, empType, start, end, keep string) error {
	set := cmd.Flags().Changed
	if set("organization") || set("division") || set("department") || set("team") {
		dst.Organization, dst.Division, dst.Department, dst.Team = flags.Organization, flags.Division, flags.Department, flags.Team
	}
	for _, f := range []struct {
		name     string
		dst, src *string
	}{{"first-name", &dst.FirstName, &flags.FirstName}, {"last-name", &dst.LastName, &flags.LastName},
		{"preferred-name", &dst.PreferredName, &flags.PreferredName}, {"email", &dst.WorkEmail, &flags.WorkEmail},
		{"personal-email", &dst.PersonalEmail, &flags.PersonalEmail}, {"job-title", &dst.JobTitle, &flags.JobTitle},
		{"job-code", &dst.JobCode, &flags.JobCode}, {"cost-center", &dst.CostCenter, &flags.CostCenter},
		{"location", &dst.Location, &flags.Location}, {"country", &dst.Country, &flags.Country},
		{"manager-id", &dst.ManagerID, &flags.ManagerID}} {
		if set(f.name) {
			*f.dst = strings.TrimSpace(*f.src)
		}
	}
	if set("employment-type") {
		t, err := identity.ParseEmploymentType(empType)
		if err != nil {
			return usageError{fmt.Errorf("--employment-type: %w", err)}
		}
		dst.EmploymentType = t
	}
	for _, f := range []struct {
		name, val string
		dst       **time.Time
	}{{"start-date", start, &dst.StartDate}, {"end-date", end, &dst.EndDate}, {"keep-access-until", keep, &dst.KeepAccessUntil}} {
		if !set(f.name) {
			continue
		}
		if f.val == "" {
			*f.dst = nil
			continue
		}
		t, err := hr.ParseDate(f.val)
		if err != nil {
			return usagef("--%s: %v", f.name, err)
		}
		*f.dst = &t
	}
	return nil
}

// effectiveAt reads --effective: a date means the start of that day, or the configured time of
// day for a termination; an RFC 3339 time is taken as is.
func effectiveAt(eng *lifecycle.Engine, t identity.EventType, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return now, nil
	}
	at, err := hr.ParseDate(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--effective: %w", err)
	}
	if len(strings.TrimSpace(s)) == len(time.DateOnly) {
		if t == identity.Terminate || t == identity.ContractEnd {
			return eng.LeaveAt(at), nil
		}
		return eng.StartAt(at), nil
	}
	return at, nil
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// importEvents applies an event file: {"events": [...]} in the webhook's format.
func (e *env) importEvents(ctx context.Context, name string, doc []byte, opt lifecycle.SubmitOptions) error {
	pushed, err := hr.DecodePushed(doc)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	s, err := e.openStore(ctx, false)
	if err != nil {
		return err
	}
	defer s.Close()
	eng, err := e.lifecycleEngine(s)
	if err != nil {
		return err
	}
	current := func(emp string) (hr.Data, error) {
		d, _, err := eng.CurrentData(ctx, emp)
		return d, err
	}
	events := make([]identity.Event, len(pushed))
	for i, p := range pushed {
		if events[i], err = p.Event(i+1, "file:"+filepath.Base(name), e.clock(), current); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	rep, err := eng.Submit(ctx, events, opt)
	if err != nil {
		return err
	}
	return e.printOutcomes(rep)
}

func (e *env) printOutcomes(rep lifecycle.Report) error {
	t := table{headers: []string{"ID", "EFFECTIVE", "TYPE", "EMPLOYEE_ID", "STATE", "ERROR"}}
	for _, o := range rep.Outcomes {
		state := string(o.Event.State)
		if o.Duplicate {
			state = "already " + state
		}
		if rep.DryRun {
			state = "would be " + state
		}
		t.rows = append(t.rows, []string{o.Event.ID, o.Event.EffectiveAt.Format(time.RFC3339), string(o.Event.Type),
			o.Event.EmployeeID, state, o.Event.Error})
	}
	if err := e.print(rep, t); err != nil {
		return err
	}
	return rejectedError(rep)
}
