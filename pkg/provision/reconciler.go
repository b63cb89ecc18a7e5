package provision

import (
	"context"
	"log/slog"
	"slices"
	"sync"
)

// PeoplePlanner computes plans; *Planner is one.
type PeoplePlanner interface {
	Plan(ctx context.Context, apps ...string) (Plan, error)
	PlanPeople(ctx context.Context, personIDs []string, apps ...string) (Plan, error)
}

// Reconciler turns changes into queued work: the people a lifecycle change touched at once
// (Changed), and every person and app on a schedule (Full), which also catches drift and
// orphans. It only plans and enqueues; executors do the work.
type Reconciler struct {
	Planner PeoplePlanner
	Queue   Enqueuer
	// Notify, when set, is told after work was enqueued (Executor.Notify).
	Notify func()
	Logger *slog.Logger

	mu      sync.Mutex
	pending map[string]bool
	signal  chan struct{}
}

func (r *Reconciler) init() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.signal == nil {
		r.signal = make(chan struct{}, 1)
		r.pending = map[string]bool{}
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
}

// Changed notes people to reconcile. It never blocks: it is called right after an HR change
// commits, and Run plans them (several changes in a burst become one plan).
func (r *Reconciler) Changed(personIDs []string) {
	r.init()
	r.mu.Lock()
	for _, id := range personIDs {
		r.pending[id] = true
	}
	r.mu.Unlock()
	signal(r.signal)
}

// Run reconciles changed people until ctx ends.
func (r *Reconciler) Run(ctx context.Context) error {
	r.init()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.signal:
		}
		r.mu.Lock()
		ids := make([]string, 0, len(r.pending))
		for id := range r.pending {
			ids = append(ids, id)
		}
		clear(r.pending)
		r.mu.Unlock()
		if len(ids) == 0 {
			continue
		}
		slices.Sort(ids)
		if err := r.People(ctx, ids); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// The scheduled full reconciliation catches these people up.
			r.Logger.Error("reconciling changed people failed", "people", len(ids), "err", err)
		}
	}
}

// People plans and enqueues the given people's work now.
func (r *Reconciler) People(ctx context.Context, personIDs []string) error {
	plan, err := r.Planner.PlanPeople(ctx, personIDs)
	if err != nil {
		return err
	}
	return r.enqueue(ctx, plan, "people", len(personIDs))
}

// Full plans every person in every app and enqueues the work, drift and orphans included as
// each app's modes say.
func (r *Reconciler) Full(ctx context.Context) error {
	r.init()
	plan, err := r.Planner.Plan(ctx)
	if err != nil {
		return err
	}
	return r.enqueue(ctx, plan, "full", 0)
}

func (r *Reconciler) enqueue(ctx context.Context, plan Plan, scope string, people int) error {
	r.init()
	orphans := 0
	for _, a := range plan.Apps {
		orphans += len(a.Orphans)
		if a.Error != "" {
			r.Logger.Warn("reconcile: app not planned", "app", a.App, "err", a.Error)
		}
	}
	ops, err := Enqueue(ctx, r.Queue, plan)
	if err != nil {
		return err
	}
	r.Logger.Info("reconciled", "scope", scope, "people", people, "operations", len(ops), "orphans", orphans)
	if len(ops) > 0 && r.Notify != nil {
		r.Notify()
	}
	return nil
}
