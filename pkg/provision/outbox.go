package provision

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
)

// Enqueuer is the part of the outbox that takes new work.
type Enqueuer interface {
	EnqueueOps(ctx context.Context, ops []directory.OutboxOp) ([]directory.OutboxOp, error)
}

// Key is a step's idempotency key: the same change to the same account hashes the same, so
// planning it again while it is still queued adds nothing, while a different desired value (a
// new title) is new work.
func Key(st Step) string {
	acc := st.Account
	acc.ID = ""                   // the app's ID is known only after the create; AccountID says which
	b, _ := json.Marshal(struct { // a struct of strings and maps cannot fail to marshal
		App, Kind, Person, Account, Entitlement string
		Desired                                 any
	}{st.App, string(st.Kind), st.PersonID, st.AccountID, st.Entitlement, acc})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// chain keys the ops of one account, which must run in plan order: a person's account in an
// app, or for an orphan the app's account ID.
func chain(st Step) string {
	if st.PersonID != "" {
		return st.App + "/person/" + st.PersonID
	}
	if st.AccountID != "" {
		return st.App + "/account/" + st.AccountID
	}
	return st.App + "/user/" + st.Account.UserName
}

// Encode turns steps into outbox rows.
func Encode(steps []Step) ([]directory.OutboxOp, error) {
	out := make([]directory.OutboxOp, len(steps))
	for i, st := range steps {
		payload, err := json.Marshal(st)
		if err != nil {
			return nil, fmt.Errorf("step %d (%s %s): %w", i+1, st.App, st.Kind, err)
		}
		out[i] = directory.OutboxOp{Key: Key(st), App: st.App, Kind: string(st.Kind), PersonID: st.PersonID,
			Chain: chain(st), Urgent: st.Urgent, Payload: payload}
	}
	return out, nil
}

// Decode reads the step an outbox row carries.
func Decode(op directory.OutboxOp) (Step, error) {
	var st Step
	if err := json.Unmarshal(op.Payload, &st); err != nil {
		return Step{}, fmt.Errorf("outbox op %d: payload: %w", op.ID, err)
	}
	return st, nil
}

// Enqueue writes every step of plan to the outbox before anything is attempted, in plan order
// so each account's ops keep theirs. It returns the ops standing for the plan: new ones, and
// the ones already queued for the same work.
func Enqueue(ctx context.Context, q Enqueuer, plan Plan) ([]directory.OutboxOp, error) {
	var steps []Step
	for _, a := range plan.Apps {
		steps = append(steps, a.Ops...)
	}
	if len(steps) == 0 {
		return nil, nil
	}
	rows, err := Encode(steps)
	if err != nil {
		return nil, err
	}
	return q.EnqueueOps(ctx, rows)
}

// Watcher reads how queued ops stand.
type Watcher interface {
	ListOps(ctx context.Context, f directory.OutboxFilter) ([]directory.OutboxOp, error)
	OpenOps(ctx context.Context, ids []int64) (map[string]int, error)
	OutboxApps(ctx context.Context) ([]directory.OutboxApp, error)
}

// opsByID reads the ops with the given IDs, a chunk at a time to stay under bind limits.
func opsByID(ctx context.Context, w Watcher, ids []int64) ([]directory.OutboxOp, error) {
	var out []directory.OutboxOp
	for chunk := range slices.Chunk(ids, 500) {
		ops, err := w.ListOps(ctx, directory.OutboxFilter{IDs: chunk})
		if err != nil {
			return nil, err
		}
		out = append(out, ops...)
	}
	return out, nil
}

func quarantinedApps(ctx context.Context, w Watcher) (map[string]bool, error) {
	apps, err := w.OutboxApps(ctx)
	if err != nil {
		return nil, err
	}
	q := map[string]bool{}
	for _, a := range apps {
		if a.QuarantinedAt != nil {
			q[a.App] = true
		}
	}
	return q, nil
}

// Settled reports whether every op in ids is done, failed or dead, or waits on a quarantined
// app (which only `tenure ops retry` moves).
func Settled(ctx context.Context, w Watcher, ids []int64) (bool, error) {
	n, err := unsettled(ctx, w, ids)
	return n == 0 && err == nil, err
}

// unsettled counts the ops in ids still open in apps that are not quarantined.
func unsettled(ctx context.Context, w Watcher, ids []int64) (int, error) {
	open, err := w.OpenOps(ctx, ids)
	if err != nil || len(open) == 0 {
		return 0, err
	}
	q, err := quarantinedApps(ctx, w)
	if err != nil {
		return 0, err
	}
	n := 0
	for app, c := range open {
		if !q[app] {
			n += c
		}
	}
	return n, nil
}

// UntilSettled is Settled as a check for Executor.RunUntil. With idle > 0 it also gives up once
// no op has settled for that long (an app asked for a long pause, backoff grew long, a chain
// waits on one of them): what is left stays queued for the next apply or `tenure serve`. The
// idle time is real waiting, so it is measured on the wall clock.
func UntilSettled(w Watcher, ids []int64, idle time.Duration) func(context.Context) (bool, error) {
	last, since := -1, time.Now()
	return func(ctx context.Context) (bool, error) {
		n, err := unsettled(ctx, w, ids)
		switch {
		case err != nil:
			return false, err
		case n == 0:
			return true, nil
		case n != last:
			last, since = n, time.Now()
		case idle > 0 && time.Since(since) >= idle:
			return true, nil
		}
		return false, nil
	}
}

// AppSummary is how one app's share of an apply ended.
type AppSummary struct {
	App         string `json:"app"`
	Done        int    `json:"done"`
	Failed      int    `json:"failed"`
	Dead        int    `json:"dead"`
	Waiting     int    `json:"waiting"`
	Quarantined bool   `json:"quarantined,omitempty"`
	// Errors are the failed and dead ops, with the app's answer.
	Errors []OpError `json:"errors,omitempty"`
}

// OpError is one op that did not succeed.
type OpError struct {
	ID       int64  `json:"id"`
	Kind     string `json:"kind"`
	PersonID string `json:"person_id,omitempty"`
	State    string `json:"state"`
	Error    string `json:"error"`
}

// Summarize sums up the ops in ids per app, in app order.
func Summarize(ctx context.Context, w Watcher, ids []int64) ([]AppSummary, error) {
	ops, err := opsByID(ctx, w, ids)
	if err != nil {
		return nil, err
	}
	q, err := quarantinedApps(ctx, w)
	if err != nil {
		return nil, err
	}
	byApp := map[string]*AppSummary{}
	var names []string
	for _, o := range ops {
		s := byApp[o.App]
		if s == nil {
			s = &AppSummary{App: o.App, Quarantined: q[o.App]}
			byApp[o.App] = s
			names = append(names, o.App)
		}
		switch o.State {
		case directory.OpDone:
			s.Done++
		case directory.OpFailed:
			s.Failed++
		case directory.OpDead:
			s.Dead++
		default:
			s.Waiting++
		}
		if o.State == directory.OpFailed || o.State == directory.OpDead {
			s.Errors = append(s.Errors, OpError{ID: o.ID, Kind: o.Kind, PersonID: o.PersonID, State: string(o.State), Error: o.LastError})
		}
	}
	slices.Sort(names)
	out := make([]AppSummary, len(names))
	for i, n := range names {
		out[i] = *byApp[n]
	}
	return out, nil
}
