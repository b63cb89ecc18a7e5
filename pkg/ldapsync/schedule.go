package ldapsync

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/robfig/cron/v3"
)

// ErrBusy means the source is already syncing; a scheduled run that finds it so is skipped
// rather than queued, so a slow silo cannot pile up runs.
var ErrBusy = errors.New("ldap source is already syncing")

// Job is one source's scheduled sync, for whatever scheduler runs them (tenure serve's).
type Job struct {
	Source string
	// Spec is the source's cron schedule, five fields.
	Spec string
	// Run does one incremental sync (full when the source never completed one).
	Run func(ctx context.Context) (Result, error)
}

// busy tracks sources with a run in progress.
type busy struct {
	mu      sync.Mutex
	running map[string]bool
}

func (b *busy) acquire(source string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.running == nil {
		b.running = map[string]bool{}
	}
	if b.running[source] {
		return false
	}
	b.running[source] = true
	return true
}

func (b *busy) release(source string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.running, source)
}

// Jobs returns a job for every source with a schedule. Jobs of one Syncer never overlap for
// the same source.
func (s *Syncer) Jobs() ([]Job, error) {
	var out []Job
	for _, src := range s.Config.Sources {
		if src.Schedule == "" {
			continue
		}
		if _, err := cron.ParseStandard(src.Schedule); err != nil {
			return nil, fmt.Errorf("ldap source %s: schedule %q: %w", src.Name, src.Schedule, err)
		}
		out = append(out, Job{Source: src.Name, Spec: src.Schedule, Run: func(ctx context.Context) (Result, error) {
			if !s.running.acquire(src.Name) {
				return Result{Source: src.Name}, fmt.Errorf("%w: %s", ErrBusy, src.Name)
			}
			defer s.running.release(src.Name)
			res, err := s.SyncSource(ctx, src, false)
			if err != nil {
				s.logger().Warn("scheduled ldap sync failed", "source", src.Name, "err", err)
			}
			return res, err
		}})
	}
	return out, nil
}
