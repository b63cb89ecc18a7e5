package admin

import (
	"context"
	"slices"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
)

// OpsListing is the outbox as `tenure ops list -o json` shows it: the ops, and the apps with
// failures or a quarantine.
type OpsListing struct {
	Ops  []OpView              `json:"ops"`
	Apps []directory.OutboxApp `json:"apps"`
}

// OpView is an op without its payload's full account (which the plan shows).
type OpView struct {
	ID            int64     `json:"id"`
	App           string    `json:"app"`
	Kind          string    `json:"kind"`
	PersonID      string    `json:"person_id,omitempty"`
	Urgent        bool      `json:"urgent,omitempty"`
	State         string    `json:"state"`
	Attempts      int       `json:"attempts"`
	NextAttemptAt time.Time `json:"next_attempt_at"`
	LastError     string    `json:"last_error,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// OpsReader is what listing the outbox reads.
type OpsReader interface {
	ListOps(ctx context.Context, f directory.OutboxFilter) ([]directory.OutboxOp, error)
	OutboxApps(ctx context.Context) ([]directory.OutboxApp, error)
}

// OpsFilter parses states (pending, running, done, failed, dead) for one app or all.
func OpsFilter(states []string, app string) (directory.OutboxFilter, error) {
	f := directory.OutboxFilter{App: app}
	for _, st := range states {
		if !slices.Contains(directory.OpStates, directory.OpState(st)) {
			return f, usage("state", "state %q: use one of pending, running, done, failed, dead", st)
		}
		f.States = append(f.States, directory.OpState(st))
	}
	return f, nil
}

// ListOps lists the ops oldest first, with the failing and quarantined apps.
func ListOps(ctx context.Context, s OpsReader, f directory.OutboxFilter) (OpsListing, error) {
	ops, err := s.ListOps(ctx, f)
	if err != nil {
		return OpsListing{}, err
	}
	apps, err := s.OutboxApps(ctx)
	if err != nil {
		return OpsListing{}, err
	}
	out := OpsListing{Ops: make([]OpView, len(ops)), Apps: apps}
	if out.Apps == nil {
		out.Apps = []directory.OutboxApp{}
	}
	for i, o := range ops {
		out.Ops[i] = OpView{ID: o.ID, App: o.App, Kind: o.Kind, PersonID: o.PersonID, Urgent: o.Urgent, State: string(o.State),
			Attempts: o.Attempts, NextAttemptAt: o.NextAttemptAt, LastError: o.LastError, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
	}
	return out, nil
}

// CheckRetry says whether a retry request is well formed: an app or IDs, not both.
func CheckRetry(r directory.OutboxRetry) error {
	if r.App != "" && len(r.IDs) > 0 {
		return usage("ids", "give an app or operation IDs, not both")
	}
	for _, id := range r.IDs {
		if id <= 0 {
			return usage("ids", "operation ID %d: want a positive number as the ops listing shows", id)
		}
	}
	return nil
}
