// Package ldapsync federates LDAP directory silos into the directory: it reads each source
// with paged searches (all of it, or only what changed since the last run), links silo
// entries to people by correlation rules, queues ambiguous cases for review, mirrors silo
// groups, and checks passwords against a silo for people whose password lives there.
//
// Entries that correlate to nobody stay unlinked silo accounts in the review queue; they never
// become people, because people come from HR. Entries gone from a silo are marked removed from
// that source (and, with on_removed: unlink, unlinked); no person is ever deleted or changed.
package ldapsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// Store is what a sync needs from the directory.
type Store interface {
	directory.LDAPFederation
	ListPeople(ctx context.Context, f directory.PersonFilter) ([]identity.Person, error)
	GetPerson(ctx context.Context, id string) (identity.Person, error)
	// UpdatePerson is used only for attribute precedence, which fills Person.Attributes.
	UpdatePerson(ctx context.Context, id string, fn func(*identity.Person) error) (identity.Person, error)
	groupStore
}

// Syncer runs syncs of the configured sources.
type Syncer struct {
	Store  Store
	Config config.LDAP
	Getenv func(string) string
	Clock  func() time.Time
	Logger *slog.Logger
	// Progress, if set, is told how many user entries each source has read so far. It is
	// called from each source's goroutine, so several calls may run at once.
	Progress func(source string, read int)

	running busy // sources with a scheduled run in progress
	// precedence orders the attribute-precedence passes of sources syncing at once: each pass
	// reads every silo's entries and then writes people, so two interleaved passes could each
	// write a value computed before the other's entries were stored, leaving the loser's
	// stale value in place until the next sync.
	precedence sync.Mutex
}

// Result is what one source's run did. Counts are over the entries the run looked at: every
// entry of the source for a full sync; for an incremental one, the changed entries and those
// linked to the same people.
type Result struct {
	Source    string `json:"source"`
	Full      bool   `json:"full"`
	Read      int    `json:"read"`
	Created   int    `json:"created"`
	Updated   int    `json:"updated"`
	Unchanged int    `json:"unchanged"`
	Linked    int    `json:"linked"`
	Conflicts int    `json:"conflicts"`
	Unmatched int    `json:"unmatched"`
	Removed   int    `json:"removed"`
	Groups    int    `json:"groups"`
	// PeopleUpdated counts people whose attributes changed by precedence.
	PeopleUpdated int           `json:"people_updated"`
	Duration      time.Duration `json:"duration_ns"`
	Error         string        `json:"error,omitempty"`
}

// ErrUnknownSource means a name that is not in the configuration.
var ErrUnknownSource = errors.New("unknown ldap source")

// writeBatch is how many entries go into one transaction.
const writeBatch = 2000

// Sync runs the named sources (all when names is empty; a name given twice runs once) at the
// same time. Each source succeeds or fails on its own: a silo that is down or slow gives an
// error in its Result and delays nobody else. Results follow the configuration's order.
func (s *Syncer) Sync(ctx context.Context, names []string, full bool) ([]Result, error) {
	want := map[string]bool{}
	for _, name := range names {
		if _, ok := s.Config.Source(name); !ok {
			return nil, fmt.Errorf("%w %q", ErrUnknownSource, name)
		}
		want[name] = true
	}
	var sources []config.LDAPSource
	for _, src := range s.Config.Sources {
		if len(names) == 0 || want[src.Name] {
			sources = append(sources, src)
		}
	}
	results := make([]Result, len(sources))
	var wg sync.WaitGroup
	for i, src := range sources {
		wg.Go(func() {
			res, err := s.SyncSource(ctx, src, full)
			if err != nil {
				res.Error = err.Error()
				s.logger().Warn("ldap sync failed", "source", src.Name, "full", res.Full, "err", err)
			} else {
				s.logger().Info("ldap sync", "source", src.Name, "full", res.Full, "read", res.Read, "created", res.Created,
					"updated", res.Updated, "linked", res.Linked, "conflicts", res.Conflicts, "removed", res.Removed, "duration", res.Duration)
			}
			results[i] = res
		})
	}
	wg.Wait()
	return results, nil
}

func (s *Syncer) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func (s *Syncer) now() time.Time {
	if s.Clock == nil {
		return time.Now().UTC()
	}
	return s.Clock().UTC()
}

// SyncSource runs one source: a full sync when asked or when it never completed one, else an
// incremental sync from the high-water mark. The sync state records the outcome either way.
func (s *Syncer) SyncSource(ctx context.Context, src config.LDAPSource, full bool) (Result, error) {
	start := s.now()
	res := Result{Source: src.Name}
	state, err := s.Store.LDAPSyncState(ctx, src.Name)
	if err != nil {
		return res, err
	}
	res.Full = full || state.HighWater == ""
	err = s.run(ctx, src, &state, &res)
	res.Duration = s.now().Sub(start)
	at := s.now()
	state.LastSync = &at
	state.LastError = ""
	if err != nil {
		state.LastError = err.Error()
	} else if res.Full {
		state.LastFull = &at
	}
	summary, _ := json.Marshal(res)
	state.LastResult = string(summary)
	// A cancelled run still records its failure.
	if perr := s.Store.PutLDAPSyncState(context.WithoutCancel(ctx), state); perr != nil && err == nil {
		err = perr
	}
	return res, err
}

func (s *Syncer) run(ctx context.Context, src config.LDAPSource, state *directory.LDAPSyncState, res *Result) error {
	if res.Full {
		percent := s.Config.FullSyncGCPercent
		if percent == 0 {
			percent = DefaultFullSyncGCPercent
		}
		defer raiseGC(percent)()
	}
	m := newMapping(src)
	conn, err := dial(ctx, src, s.Getenv)
	if err != nil {
		return err
	}
	defer conn.Close()
	filter := m.userFilter
	if !res.Full {
		filter = m.sinceFilter(state.HighWater)
	}
	// The search starts before the directory is read, so the silo answers the first page
	// while people and stored entries load.
	search := startPagedSearch(conn, src.BaseDN, filter, m.userAttributes(), src.PageSizeOrDefault())
	defer search.close()
	people, err := s.Store.ListPeople(ctx, directory.PersonFilter{})
	if err != nil {
		return err
	}
	corr := newCorrelator(s.Config.Rules(), people)
	// existing holds the stored entries this run looks at: all of the source for a full
	// sync, which must notice deletions; for an incremental one, only those it reads again
	// and those linked to the same people.
	existing := map[string]directory.LDAPEntry{}
	if res.Full {
		if err := s.loadExisting(ctx, directory.LDAPEntryFilter{Source: src.Name}, existing); err != nil {
			return err
		}
	}
	// working is every looked-at entry as it stands after this run.
	working := make(map[string]*directory.LDAPEntry, len(existing))
	for k, e := range existing {
		working[k] = &e
	}
	// A full sync writes while it reads, so the directory's write time overlaps the silo's
	// read time; an incremental one writes its few changes at the end.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := newBatchWriter(ctx, s.Store, existing)
	defer w.abort()
	claims := claimedPeople(existing)
	seen := make(map[string]bool, len(existing))
	// held are entries a full sync did not stream because their person was already claimed.
	var held []string
	highWater := state.HighWater
	err = search.each(func(page []*ldap.Entry) error {
		mapped := make([]directory.LDAPEntry, 0, len(page))
		for _, le := range page {
			e, err := m.entry(le)
			if err != nil {
				return fmt.Errorf("ldap source %s: %w", src.Name, err)
			}
			if seen[e.Key] {
				return fmt.Errorf("ldap source %s: %s and another entry share the key %s", src.Name, e.DN, e.Key)
			}
			seen[e.Key] = true
			mapped = append(mapped, e)
		}
		if !res.Full {
			keys := make([]string, len(mapped))
			for i, e := range mapped {
				keys[i] = e.Key
			}
			if err := s.loadExisting(ctx, directory.LDAPEntryFilter{Source: src.Name, Keys: keys}, existing); err != nil {
				return err
			}
		}
		// working points into the page's slice: one allocation per page, not per entry.
		for i := range mapped {
			e := &mapped[i]
			var prev *directory.LDAPEntry
			if p, ok := existing[e.Key]; ok {
				prev = &p
			}
			link(e, prev, corr.correlate(*e))
			working[e.Key] = e
			if m.laterStamp(e.Stamp, highWater) {
				highWater = e.Stamp
			}
			if !res.Full {
				continue
			}
			// An entry claiming a person another entry of this source already has waits for
			// the final pass, which turns both into conflicts: two automatic links to one
			// person are never stored, not even for a moment.
			if e.PersonID != "" {
				if k, ok := claims[e.PersonID]; ok && k != e.Key {
					held = append(held, e.Key)
					continue
				}
				claims[e.PersonID] = e.Key
			}
			if err := w.add(*e); err != nil {
				return err
			}
		}
		res.Read += len(page)
		if s.Progress != nil {
			s.Progress(src.Name, res.Read)
		}
		return ctx.Err()
	})
	if err != nil {
		return fmt.Errorf("ldap source %s: %w", src.Name, err)
	}
	// The final pass stores what changed after streaming: for a full sync, the held
	// entries, those gone from the silo and those the shared-person check turned into
	// conflicts (every other entry was streamed as it now stands); for an incremental one,
	// every entry it looked at, since nothing was streamed.
	var final []string
	if res.Full {
		final = append(held, s.markRemoved(src, existing, seen, working)...)
	} else if err := s.loadClaimants(ctx, src.Name, existing, working); err != nil {
		return err
	} else {
		final = slices.Collect(maps.Keys(working))
	}
	final = append(final, flagSharedPeople(working)...)
	if err := w.flush(); err != nil {
		return err
	}
	slices.Sort(final)
	for _, k := range slices.Compact(final) {
		if err := w.add(*working[k]); err != nil {
			return err
		}
	}
	if err := w.close(); err != nil {
		return err
	}
	count(existing, working, res)
	state.HighWater = highWater
	groups, err := s.syncGroups(ctx, conn, src, m)
	res.Groups = groups
	if err != nil {
		return err
	}
	res.PeopleUpdated, err = s.applyPrecedence(ctx, src.Name)
	return err
}

// loadExisting adds the stored entries f selects to existing.
func (s *Syncer) loadExisting(ctx context.Context, f directory.LDAPEntryFilter, existing map[string]directory.LDAPEntry) error {
	if f.Keys != nil {
		// Only keys not loaded yet.
		f.Keys = slices.DeleteFunc(f.Keys, func(k string) bool { _, ok := existing[k]; return ok })
		if len(f.Keys) == 0 {
			return nil
		}
	}
	got, err := s.Store.ListLDAPEntries(ctx, f)
	if err != nil {
		return err
	}
	for _, e := range got {
		existing[e.Key] = e
	}
	return nil
}

// loadClaimants adds, for an incremental run, the stored entries linked to the people the
// changed entries now point at, so two entries claiming one person are still caught.
func (s *Syncer) loadClaimants(ctx context.Context, source string, existing map[string]directory.LDAPEntry, working map[string]*directory.LDAPEntry) error {
	var ids []string
	for _, e := range working {
		if e.PersonID != "" {
			ids = append(ids, e.PersonID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	got, err := s.Store.ListLDAPEntries(ctx, directory.LDAPEntryFilter{Source: source, PersonIDs: ids})
	if err != nil {
		return err
	}
	for _, e := range got {
		if _, ok := working[e.Key]; !ok {
			existing[e.Key] = e
			working[e.Key] = &e
		}
	}
	return nil
}

// claimedPeople maps each person to the live entry linked to them.
func claimedPeople(existing map[string]directory.LDAPEntry) map[string]string {
	out := map[string]string{}
	for k, e := range existing {
		if e.PersonID != "" && e.Status != directory.LDAPEntryRemoved {
			out[e.PersonID] = k
		}
	}
	return out
}

// markRemoved marks entries a full sync did not find. Only a complete enumeration gets here,
// so a failed or partial read never marks anything removed.
func (s *Syncer) markRemoved(src config.LDAPSource, existing map[string]directory.LDAPEntry, seen map[string]bool, working map[string]*directory.LDAPEntry) (changed []string) {
	now := s.now()
	for k, prev := range existing {
		if seen[k] || prev.Status == directory.LDAPEntryRemoved {
			continue
		}
		e := prev
		e.Status, e.RemovedAt = directory.LDAPEntryRemoved, &now
		if src.OnRemoved == "unlink" && e.Link != directory.LinkExcluded {
			e.Link, e.PersonID, e.LinkRule, e.Candidates, e.LinkNote = directory.LinkUnmatched, "", "", nil, ""
		}
		working[k] = &e
		changed = append(changed, k)
	}
	return changed
}

// count compares the source before and after the run.
func count(existing map[string]directory.LDAPEntry, working map[string]*directory.LDAPEntry, res *Result) {
	for k, ep := range working {
		e := *ep
		prev, had := existing[k]
		if e.Link == directory.LinkUnmatched && e.Status != directory.LDAPEntryRemoved {
			res.Unmatched++
		}
		switch {
		case !had:
			res.Created++
		case prev.SameSynced(e):
			res.Unchanged++
			continue
		default:
			res.Updated++
		}
		if e.PersonID != "" && prev.PersonID != e.PersonID {
			res.Linked++
		}
		if e.Link == directory.LinkConflict && prev.Link != directory.LinkConflict {
			res.Conflicts++
		}
		if e.Status == directory.LDAPEntryRemoved && prev.Status != directory.LDAPEntryRemoved {
			res.Removed++
		}
	}
}
