package cli

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenure-id/tenure/pkg/admin"
	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/identity"
)

func (e *env) auditCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "The tamper-evident audit log: verify its hash chain, export it"}
	cmd.AddCommand(e.auditVerifyCommand(), e.auditExportCommand())
	return cmd
}

func (e *env) auditVerifyCommand() *cobra.Command {
	var anchors []string
	var file string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check the audit log's hash chain, from the database or from an export file",
		Long: `Checks every record's hash and its link to the one before. Editing, deleting or reordering
any record breaks the chain at that record, and the error names it.

The chain cannot show that its newest records were removed. Keep the head this command
prints (SEQ:HASH) somewhere the database's administrators cannot write, and pass it as
--anchor next time: the log must still hold that record with that hash.

--file checks an export (tenure audit export) on its own, without the database; an export
of part of the log is checked from its first record on.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			want, err := admin.ParseAnchors(anchors)
			if err != nil {
				return cliError(err, map[string]string{"anchor": "anchor"})
			}
			ctx := cmd.Context()
			var res audit.Result
			var verr error
			source := "database"
			if file != "" {
				source = file
				f, err := os.Open(file)
				if err != nil {
					return err
				}
				defer f.Close()
				res, verr = audit.VerifyStream(audit.ReadJSONL(f), true, want...)
				if verr == nil && res.Count == 0 {
					return fmt.Errorf("%s: no audit records in it", file)
				}
			} else {
				s, err := e.openStore(ctx, false)
				if err != nil {
					return err
				}
				defer s.Close()
				res, verr = audit.VerifyLog(ctx, s, want...)
			}
			v, err := admin.NewVerifyView(res, verr, source, len(want))
			if err != nil {
				return err
			}
			if verr != nil {
				if e.output == "json" {
					if err := e.print(v, table{}); err != nil {
						return err
					}
				}
				return verr
			}
			if e.output != "table" {
				return e.print(v, table{headers: []string{"RECORDS", "FIRST", "HEAD", "PARTIAL", "ANCHORS"},
					rows: [][]string{{strconv.FormatInt(v.Records, 10), strconv.FormatInt(v.FirstSeq, 10), v.Head,
						strconv.FormatBool(v.Partial), strconv.Itoa(v.Anchors)}}})
			}
			if res.Count == 0 {
				fmt.Fprintln(e.stdout, "the audit log is empty")
				return nil
			}
			from := "from record 1"
			if res.Partial {
				from = fmt.Sprintf("from record %d (its link to record %d is taken on trust: compare it with the whole log)", res.First.Seq, res.First.Seq-1)
			}
			fmt.Fprintf(e.stdout, "audit chain verified: %d records %s to record %d", res.Count, from, res.Head.Seq)
			if len(want) > 0 {
				fmt.Fprintf(e.stdout, ", %d anchor(s) matched", len(want))
			}
			fmt.Fprintf(e.stdout, "\nkeep this head and pass it as --anchor next time:\n%s\n", res.Head)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&anchors, "anchor", nil, "SEQ:HASH of a record kept from an earlier verification; the log must still hold it (repeatable)")
	cmd.Flags().StringVar(&file, "file", "", "verify an export file (JSON Lines) instead of the database")
	return cmd
}

func (e *env) auditExportCommand() *cobra.Command {
	var after int64
	var from, to, file string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the audit log as JSON Lines (or CSV with -o csv), hashes included",
		Long: `Writes the records in order, one JSON object per line, with their hashes, so that
tenure audit verify --file can check the export without the database. --after, --from and
--to select one unbroken run of records; a date means the start (--from) or the end (--to)
of that day in the configured time zone (hr.time_zone).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			loc, err := e.cfg.HR.Location()
			if err != nil {
				return err
			}
			var fromT, toT time.Time
			if from != "" {
				if fromT, err = dayBound(from, loc, false); err != nil {
					return usagef("--from: %v", err)
				}
			}
			if to != "" {
				if toT, err = dayBound(to, loc, true); err != nil {
					return usagef("--to: %v", err)
				}
			}
			if after < 0 {
				return usagef("--after %d: want a record number, 0 for the start", after)
			}
			ctx := cmd.Context()
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			out := e.stdout
			var f *os.File
			if file != "" {
				if f, err = os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
					return fmt.Errorf("--file: %w", err)
				}
				out = f
			}
			n, err := e.exportAudit(out, audit.Pages(ctx, s, after, 0), fromT, toT)
			if f != nil {
				if cerr := f.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					os.Remove(file) // a half-written export must not pass for a whole one
				}
			}
			if err != nil {
				return err
			}
			if file != "" {
				fmt.Fprintf(e.stderr, "exported %d audit records to %s\n", n, file)
			}
			return nil
		},
	}
	cmd.Flags().Int64Var(&after, "after", 0, "start after this record number")
	cmd.Flags().StringVar(&from, "from", "", "start at the first record at or after this date or RFC 3339 time")
	cmd.Flags().StringVar(&to, "to", "", "stop before the first record after this date or RFC 3339 time")
	cmd.Flags().StringVar(&file, "file", "", "write to this new file instead of standard output")
	return cmd
}

// exportAudit writes the run of records from the first at or after from (zero: the first) up
// to the last before the first one after to (zero: the end).
func (e *env) exportAudit(w io.Writer, next func() (identity.AuditRecord, error), from, to time.Time) (int, error) {
	bw := bufio.NewWriterSize(w, 1<<16)
	var cw *csv.Writer
	if e.output == "csv" {
		cw = csv.NewWriter(bw)
		if err := cw.Write([]string{"seq", "time", "actor", "action", "target", "before", "after", "reason", "prev_hash", "hash"}); err != nil {
			return 0, err
		}
	}
	n, started := 0, from.IsZero()
	for {
		r, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, err
		}
		if !started {
			if r.Time.Before(from) {
				continue
			}
			started = true
		}
		if !to.IsZero() && r.Time.After(to) {
			break
		}
		if cw != nil {
			err = cw.Write([]string{strconv.FormatInt(r.Seq, 10), r.Time.UTC().Format(time.RFC3339Nano), r.Actor, r.Action,
				r.Target, string(r.Before), string(r.After), r.Reason, r.PrevHash, r.Hash})
		} else {
			err = audit.WriteJSONL(bw, r)
		}
		if err != nil {
			return n, err
		}
		n++
	}
	if cw != nil {
		cw.Flush()
		if err := cw.Error(); err != nil {
			return n, err
		}
	}
	return n, bw.Flush()
}
