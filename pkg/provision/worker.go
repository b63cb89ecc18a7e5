package provision

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// appRunner is one app's share of the executor: its connector, gate, local queue (urgent ops
// first) and failure streak.
type appRunner struct {
	name            string
	conn            connector.Connector
	gate            *gate
	conc, depth     int
	quarantineAfter int

	mu          sync.Mutex
	cond        *sync.Cond
	urgent      []directory.OutboxOp
	normal      []directory.OutboxOp
	inflight    int // claimed and not yet recorded
	drained     bool
	failures    int
	quarantined bool
	stopping    bool
}

// outcome is one attempt's result on its way to the store.
type outcome struct {
	app *appRunner
	res directory.OutboxResult
}

func newAppRunner(name string, c connector.Connector, o AppLimits, prefetch int) *appRunner {
	t := connector.TraitsOf(c)
	conc := concurrency(t, o)
	q := o.QuarantineAfter
	switch {
	case q == 0:
		q = DefaultQuarantineAfter
	case q < 0:
		q = 0
	}
	a := &appRunner{name: name, conn: c, gate: newGate(t, o), conc: conc, depth: conc * prefetch, quarantineAfter: q}
	a.cond = sync.NewCond(&a.mu)
	return a
}

func (a *appRunner) push(op directory.OutboxOp) {
	a.mu.Lock()
	if op.Urgent {
		a.urgent = append(a.urgent, op)
	} else {
		a.normal = append(a.normal, op)
	}
	a.inflight++
	a.mu.Unlock()
	a.cond.Signal()
}

// next takes the next op to run, urgent first; ok is false when the executor stops.
func (a *appRunner) next() (op directory.OutboxOp, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for {
		if a.stopping {
			return op, false
		}
		if len(a.urgent) > 0 {
			op, a.urgent = a.urgent[0], a.urgent[1:]
			return op, true
		}
		if len(a.normal) > 0 && !a.quarantined {
			op, a.normal = a.normal[0], a.normal[1:]
			return op, true
		}
		a.cond.Wait()
	}
}

// swapUrgent returns an urgent op waiting in the queue in op's place, putting op back at the
// head of the queue; op itself when none waits.
func (a *appRunner) swapUrgent(op directory.OutboxOp) directory.OutboxOp {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.urgent) == 0 {
		return op
	}
	u := a.urgent[0]
	a.urgent = a.urgent[1:]
	a.normal = append([]directory.OutboxOp{op}, a.normal...)
	return u
}

func (a *appRunner) wakeAll() {
	a.mu.Lock()
	a.stopping = true
	a.mu.Unlock()
	a.cond.Broadcast()
}

// takeQueued empties the local queue, for handing its ops back.
func (a *appRunner) takeQueued() []directory.OutboxOp {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := append(a.urgent, a.normal...)
	a.urgent, a.normal = nil, nil
	return out
}

// room is how many more ops the app may claim ahead.
func (a *appRunner) room() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.depth - a.inflight
}

func (a *appRunner) finished() {
	a.mu.Lock()
	a.inflight--
	a.drained = false // the next op of a chain may have become claimable
	a.mu.Unlock()
}

func (a *appRunner) setDrained(v bool) {
	a.mu.Lock()
	a.drained = v
	a.mu.Unlock()
}

func (a *appRunner) isDrained() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.drained
}

// blocked says the app takes no new work now: quarantined, or paused by a rate limit.
func (a *appRunner) blocked() bool {
	a.mu.Lock()
	q := a.quarantined
	a.mu.Unlock()
	return q || a.gate.pausedFor() > 0
}

// work runs ops of one app until the executor stops.
func (x *Executor) work(ctx context.Context, a *appRunner) {
	for {
		op, ok := a.next()
		if !ok {
			// Hand the op back if the executor stopped before we could run it; RunUntil does
			// the same for the rest of the queue.
			return
		}
		op, slot, held := x.admit(ctx, a, op)
		if held != nil {
			x.results <- outcome{app: a, res: *held}
			continue
		}
		start := time.Now()
		res := x.attempt(ctx, a, op)
		if r := attemptResult(res); r != "" {
			x.cfg.Observer.OpAttempted(a.name, r, time.Since(start))
		}
		if slot {
			<-x.global
		}
		x.results <- outcome{app: a, res: res}
		for _, q := range x.noteResult(a, res) {
			x.results <- outcome{app: a, res: release(q)}
		}
	}
}

// admit waits until op may be sent: the app not paused, a token from its bucket and, unless
// the op is urgent, one of the Workers slots. slot says a slot is held. A non-nil result hands
// the op back instead: the executor is stopping, or the app's pause would outlast the lease.
func (x *Executor) admit(ctx context.Context, a *appRunner, op directory.OutboxOp) (directory.OutboxOp, bool, *directory.OutboxResult) {
	for {
		// A pause longer than the lease would let the lease run out while the op waits here
		// and another replica take it: hand it back, due when the pause ends.
		if d := a.gate.pausedFor(); d > x.cfg.Lease/2 {
			res := release(op)
			res.NextAttemptAt = x.cfg.Clock().Add(d)
			return op, false, &res
		}
		if err := a.gate.wait(ctx); err != nil {
			res := release(op)
			return op, false, &res
		}
		// Urgent ops (a leaver's disables) are few and must not queue behind the backlog for
		// one of the Workers slots.
		if op.Urgent {
			return op, false, nil
		}
		select {
		case x.global <- struct{}{}:
		case <-ctx.Done():
			res := release(op)
			return op, false, &res
		}
		// The wait for a slot can be long, and another of the app's requests may have been
		// answered "rate limited" meanwhile: the slot goes back and the op waits out the pause.
		if a.gate.pausedFor() > 0 {
			<-x.global
			continue
		}
		// An op that waited for a slot gives way to an urgent op that arrived meanwhile.
		return a.swapUrgent(op), true, nil
	}
}

func release(op directory.OutboxOp) directory.OutboxResult {
	return directory.OutboxResult{ID: op.ID, State: directory.OpPending, NextAttemptAt: op.NextAttemptAt, Release: true}
}

// attempt applies one op and turns the app's answer into a result.
func (x *Executor) attempt(ctx context.Context, a *appRunner, op directory.OutboxOp) directory.OutboxResult {
	st, err := Decode(op)
	if err != nil {
		return x.failed(op, st, directory.OpFailed, err)
	}
	if st.AccountID == "" && st.Kind != connector.OpCreate {
		if st.AccountID, err = x.resolve(ctx, a, st); err != nil {
			return x.classify(ctx, a, op, st, err)
		}
	}
	acc, err := a.conn.Apply(ctx, st.Op)
	if err != nil {
		return x.classify(ctx, a, op, st, err)
	}
	a.gate.succeeded()
	if acc.ID == "" {
		acc.ID = st.AccountID
	}
	res := directory.OutboxResult{ID: op.ID, State: directory.OpDone, Audit: auditOf(op, st, "")}
	if acc.ID != "" {
		prev, err := x.known(ctx, st, acc.ID)
		if err != nil {
			// The op took effect; only the record of it is missing. The next reconcile reads
			// the app again, so the op is done and the record waits.
			x.cfg.Logger.Warn("provision: reading the account record", "app", st.App, "err", err)
		} else {
			rec := RecordResult(prev, st.Op, acc, x.cfg.Clock())
			res.Account = &rec
		}
	}
	return res
}

// known is the directory's record of the account, or nil. Recording an op as a change to it
// (RecordResult) keeps what earlier ops set: an app answering a membership change without the
// account's other memberships must not erase them from the record, or removing them later
// would look like drift instead of a revocation. A create's record is the app's answer alone,
// so creates (most of a large apply) skip the read; others read by the unique (app, account)
// key.
func (x *Executor) known(ctx context.Context, st Step, accountID string) (*identity.Account, error) {
	if st.Kind == connector.OpCreate {
		return nil, nil
	}
	rec, err := x.q.GetAccount(ctx, st.App, accountID)
	switch {
	case errors.Is(err, identity.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return &rec, nil
}

// resolve finds the app's ID of the account an op acts on when the plan could not know it (the
// account is created earlier in the same plan): the directory's record, else the app itself.
func (x *Executor) resolve(ctx context.Context, a *appRunner, st Step) (string, error) {
	if st.PersonID != "" {
		// By person alone: a person has a handful of accounts, while one app may hold thousands.
		recs, err := x.q.ListAccounts(ctx, directory.AccountFilter{PersonID: st.PersonID})
		if err != nil {
			return "", err
		}
		for _, r := range recs {
			if r.App == st.App && r.Status != identity.AccountDeleted {
				return r.ExternalID, nil
			}
		}
	}
	if f, ok := a.conn.(connector.Finder); ok {
		found, err := f.Find(ctx, connector.Match{ExternalID: st.Account.ExternalID, UserName: st.Account.UserName, Email: st.Account.Email})
		if err == nil {
			return found.ID, nil
		}
		if !errors.Is(err, connector.ErrNotFound) {
			return "", err
		}
	}
	return "", &connector.Error{Kind: connector.ErrNotFound, Detail: fmt.Sprintf("no account of person %s in %s to %s", st.PersonID, st.App, st.Kind)}
}

// classify decides what a failed attempt means: handed back (we are stopping), retried later,
// failed for good, or dead after too many tries.
func (x *Executor) classify(ctx context.Context, a *appRunner, op directory.OutboxOp, st Step, err error) directory.OutboxResult {
	if ctx.Err() != nil {
		return release(op)
	}
	wait := connector.RetryAfter(err)
	if errors.Is(err, connector.ErrRateLimited) {
		// The app is healthy and said "later": the op goes back to wait out the pause. It
		// is not a failed attempt, so a long quota storm neither kills ops nor quarantines
		// the app; the pause grows while the app keeps refusing.
		pause := a.gate.rateLimited(wait, x.cfg.BaseBackoff, x.cfg.MaxBackoff)
		res := release(op)
		res.NextAttemptAt, res.Error = x.cfg.Clock().Add(pause), err.Error()
		return res
	}
	switch {
	case !connector.Retryable(err):
		return x.failed(op, st, directory.OpFailed, err)
	case op.Attempts >= x.cfg.MaxAttempts:
		return x.failed(op, st, directory.OpDead, fmt.Errorf("gave up after %d attempts: %w", op.Attempts, err))
	}
	res := x.failed(op, st, directory.OpPending, err)
	res.NextAttemptAt = x.cfg.Clock().Add(backoff(op.Attempts, x.cfg.BaseBackoff, x.cfg.MaxBackoff, wait, x.cfg.Rand))
	return res
}

func (x *Executor) failed(op directory.OutboxOp, st Step, state directory.OpState, err error) directory.OutboxResult {
	msg := err.Error()
	return directory.OutboxResult{ID: op.ID, State: state, Error: msg, QuarantineAfter: x.apps[op.App].quarantineAfter,
		Audit: auditOf(op, st, msg)}
}

// opAudit is what the audit log keeps of an applied op: what was done and why, not the
// account's full attributes.
type opAudit struct {
	App         string   `json:"app"`
	Kind        string   `json:"kind"`
	PersonID    string   `json:"person_id,omitempty"`
	AccountID   string   `json:"account_id,omitempty"`
	UserName    string   `json:"user_name,omitempty"`
	Entitlement string   `json:"entitlement,omitempty"`
	Fields      []string `json:"fields,omitempty"`
	Reason      string   `json:"reason,omitempty"`
	Attempts    int      `json:"attempts"`
	Error       string   `json:"error,omitempty"`
}

func auditOf(op directory.OutboxOp, st Step, errMsg string) opAudit {
	return opAudit{App: op.App, Kind: op.Kind, PersonID: op.PersonID, AccountID: st.AccountID, UserName: st.Account.UserName,
		Entitlement: st.Entitlement, Fields: st.Fields, Reason: st.Reason, Attempts: op.Attempts, Error: errMsg}
}
