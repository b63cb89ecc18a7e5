package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/ldapsync"
)

func (e *env) ldapCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "ldap", Short: "Federate LDAP directory silos: sync, review conflicts, link entries"}
	cmd.AddCommand(e.ldapSyncCommand(), e.ldapConflictsCommand(), e.ldapLinkCommand(), e.ldapUnlinkCommand(), e.ldapTestCommand())
	return cmd
}

func (e *env) requireLDAPSources() error {
	if len(e.cfg.LDAP.Sources) == 0 {
		return usagef("no LDAP sources configured: add ldap.sources to the configuration file (--config or TENURE_CONFIG)")
	}
	return nil
}

func (e *env) checkSourceNames(names []string) error {
	for _, n := range names {
		if _, ok := e.cfg.LDAP.Source(n); !ok {
			return usagef("--source %q: not a configured LDAP source", n)
		}
	}
	return nil
}

func (e *env) ldapSyncCommand() *cobra.Command {
	var sources []string
	var full, quiet bool
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Sync LDAP sources into the directory (incremental unless --full or never synced)",
		Long: "Reads each source (all of them, or those named with --source) at the same time. A source that is down\n" +
			"or slow fails on its own; the others still sync. Entries no person matches are kept for review\n" +
			"(tenure ldap conflicts --unmatched), never turned into people. Only --full detects deleted entries.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := e.requireLDAPSources(); err != nil {
				return err
			}
			if err := e.checkSourceNames(sources); err != nil {
				return err
			}
			ctx := e.actorContext(cmd.Context())
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			sy := &ldapsync.Syncer{Store: s, Config: e.cfg.LDAP, Getenv: e.getenv, Clock: e.clock, Logger: e.logger}
			if !quiet {
				bar := newReadProgress(e)
				sy.Progress = bar.update
				defer bar.finish()
			}
			results, err := sy.Sync(ctx, sources, full)
			if err != nil {
				return err
			}
			if err := e.printSyncResults(results); err != nil {
				return err
			}
			var failed []string
			for _, r := range results {
				if r.Error != "" {
					failed = append(failed, r.Source+": "+r.Error)
				}
			}
			if len(failed) > 0 {
				return fmt.Errorf("%d of %d LDAP sources failed: %s", len(failed), len(results), strings.Join(failed, "; "))
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&sources, "source", nil, "only these sources (repeatable; default: all)")
	fl.BoolVar(&full, "full", false, "read every entry and detect deletions, instead of only changes since the last run")
	fl.BoolVar(&quiet, "quiet", false, "no progress bar")
	return cmd
}

// readProgress shows entries read so far across all sources on stderr.
type readProgress struct {
	mu   sync.Mutex
	bar  *progressbar.ProgressBar
	read map[string]int
}

func newReadProgress(e *env) *readProgress {
	return &readProgress{read: map[string]int{}, bar: progressbar.NewOptions(-1, progressbar.OptionSetWriter(e.stderr),
		progressbar.OptionSetDescription("reading LDAP entries"), progressbar.OptionShowCount(),
		progressbar.OptionShowIts(), progressbar.OptionSetItsString("entries"), progressbar.OptionThrottle(100*time.Millisecond))}
}

func (p *readProgress) update(source string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.read[source] = n
	total := 0
	for _, v := range p.read {
		total += v
	}
	_ = p.bar.Set(total)
}

func (p *readProgress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.bar.Finish()
	_ = p.bar.Clear()
}

func (e *env) printSyncResults(results []ldapsync.Result) error {
	t := table{headers: []string{"SOURCE", "MODE", "READ", "CREATED", "UPDATED", "LINKED", "CONFLICTS", "UNMATCHED", "REMOVED", "GROUPS", "DURATION", "ERROR"}}
	for _, r := range results {
		mode := "incremental"
		if r.Full {
			mode = "full"
		}
		n := strconv.Itoa
		t.rows = append(t.rows, []string{r.Source, mode, n(r.Read), n(r.Created), n(r.Updated), n(r.Linked), n(r.Conflicts),
			n(r.Unmatched), n(r.Removed), n(r.Groups), r.Duration.Round(time.Millisecond).String(), r.Error})
	}
	if results == nil {
		results = []ldapsync.Result{}
	}
	return e.print(results, t)
}

// reviewItem is one entry of the review queue, with candidates named by employee ID.
type reviewItem struct {
	directory.LDAPEntry
	CandidateEmployeeIDs []string `json:"candidate_employee_ids,omitempty"`
}

func (e *env) ldapConflictsCommand() *cobra.Command {
	var source string
	var unmatched bool
	cmd := &cobra.Command{
		Use:   "conflicts",
		Short: "List silo entries waiting for a decision: ambiguous correlations (and, with --unmatched, entries matching nobody)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			f := directory.LDAPEntryFilter{Source: source, Links: []directory.LinkState{directory.LinkConflict},
				Statuses: []directory.LDAPEntryStatus{directory.LDAPEntryActive, directory.LDAPEntryDisabled}}
			if unmatched {
				f.Links = append(f.Links, directory.LinkUnmatched)
			}
			entries, err := s.ListLDAPEntries(ctx, f)
			if err != nil {
				return err
			}
			items := []reviewItem{}
			t := table{headers: []string{"SOURCE", "ENTRY", "USERNAME", "EMAIL", "EMPLOYEE_NUMBER", "STATE", "CANDIDATES", "WHY", "KEY"}}
			for _, en := range entries {
				it := reviewItem{LDAPEntry: en}
				for _, id := range en.Candidates {
					label := id
					if p, err := s.GetPerson(ctx, id); err == nil {
						label = p.EmployeeID
					}
					it.CandidateEmployeeIDs = append(it.CandidateEmployeeIDs, label)
				}
				items = append(items, it)
				t.rows = append(t.rows, []string{en.Source, en.DN, en.Username, en.Email, en.EmployeeNumber, string(en.Link),
					strings.Join(it.CandidateEmployeeIDs, " "), en.LinkNote, en.Key})
			}
			return e.print(items, t)
		},
	}
	cmd.Flags().StringVar(&source, "source", "", "only this source")
	cmd.Flags().BoolVar(&unmatched, "unmatched", false, "also list entries no correlation rule matched")
	return cmd
}

// findEntry resolves ENTRY (the stable key, the DN or the username) within a source.
func findEntry(ctx context.Context, s directory.Store, source, ref string) (directory.LDAPEntry, error) {
	if en, err := s.GetLDAPEntry(ctx, source, ref); err == nil {
		return en, nil
	} else if !errors.Is(err, identity.ErrNotFound) {
		return en, err
	}
	all, err := s.ListLDAPEntries(ctx, directory.LDAPEntryFilter{Source: source})
	if err != nil {
		return directory.LDAPEntry{}, err
	}
	var found []directory.LDAPEntry
	for _, en := range all {
		if strings.EqualFold(en.DN, ref) || en.Username == strings.ToLower(ref) {
			found = append(found, en)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return directory.LDAPEntry{}, &identity.NotFoundError{Kind: "ldap entry", Key: source + "/" + ref}
	}
	return directory.LDAPEntry{}, fmt.Errorf("ldap entry %s/%s: %d entries match; give the key or the DN", source, ref, len(found))
}

func (e *env) ldapLinkCommand() *cobra.Command {
	var nobody bool
	cmd := &cobra.Command{
		Use:   "link SOURCE ENTRY [PERSON]",
		Short: "Link a silo entry (key, DN or username) to a person, or with --nobody mark it as belonging to no one",
		Long:  "The decision is an administrator's: later syncs keep it. PERSON is an employee ID, username or work email.",
		Args: func(cmd *cobra.Command, args []string) error {
			if nobody {
				return exactArgs(2, "SOURCE", "ENTRY")(cmd, args)
			}
			return exactArgs(3, "SOURCE", "ENTRY", "PERSON")(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := e.actorContext(cmd.Context())
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			en, err := findEntry(ctx, s, args[0], args[1])
			if err != nil {
				return err
			}
			personID := ""
			if !nobody {
				p, err := s.LookupPerson(ctx, args[2])
				if err != nil {
					return err
				}
				personID = p.ID
			}
			en, err = s.LinkLDAPEntry(ctx, en.Source, en.Key, personID)
			if err != nil {
				return err
			}
			return e.printEntry(en)
		},
	}
	cmd.Flags().BoolVar(&nobody, "nobody", false, "the entry belongs to no person (a service account, say)")
	return cmd
}

func (e *env) ldapUnlinkCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "unlink SOURCE ENTRY",
		Short: "Undo a link or decision: the correlation rules decide again at the next sync",
		Args:  exactArgs(2, "SOURCE", "ENTRY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := e.actorContext(cmd.Context())
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			en, err := findEntry(ctx, s, args[0], args[1])
			if err != nil {
				return err
			}
			if en, err = s.UnlinkLDAPEntry(ctx, en.Source, en.Key); err != nil {
				return err
			}
			return e.printEntry(en)
		},
	}
}

func (e *env) printEntry(en directory.LDAPEntry) error {
	return e.print(en, table{headers: []string{"SOURCE", "ENTRY", "STATE", "PERSON_ID", "KEY"},
		rows: [][]string{{en.Source, en.DN, string(en.Link), en.PersonID, en.Key}}})
}

func (e *env) ldapTestCommand() *cobra.Command {
	var source string
	var limit int
	cmd := &cobra.Command{
		Use:   "test --source NAME",
		Short: "Check a source: connect, bind, and show how a few entries map and would correlate (writes nothing)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := e.requireLDAPSources(); err != nil {
				return err
			}
			if source == "" {
				return usagef("--source is required")
			}
			if err := e.checkSourceNames([]string{source}); err != nil {
				return err
			}
			if limit < 1 {
				return usagef("--limit %d: must be at least 1", limit)
			}
			ctx := cmd.Context()
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			sy := &ldapsync.Syncer{Store: s, Config: e.cfg.LDAP, Getenv: e.getenv, Clock: e.clock, Logger: e.logger}
			entries, err := sy.Preview(ctx, source, limit)
			if err != nil {
				return err
			}
			t := table{headers: []string{"ENTRY", "KEY", "USERNAME", "EMAIL", "EMPLOYEE_NUMBER", "STATUS", "WOULD_LINK", "PERSON", "RULE"}}
			for _, en := range entries {
				person := ""
				if en.PersonID != "" {
					if p, err := s.GetPerson(ctx, en.PersonID); err == nil {
						person = p.EmployeeID
					}
				}
				t.rows = append(t.rows, []string{en.DN, en.Key, en.Username, en.Email, en.EmployeeNumber, string(en.Status),
					string(en.Link), person, en.LinkRule})
			}
			if entries == nil {
				entries = []directory.LDAPEntry{}
			}
			return e.print(entries, t)
		},
	}
	cmd.Flags().StringVar(&source, "source", "", "the source to check")
	cmd.Flags().IntVar(&limit, "limit", 5, "how many entries to read")
	return cmd
}
