package provision

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// Queue is what the workers need from the store: the outbox, and the account records that
// name an account created earlier in the same plan.
type Queue interface {
	ClaimOps(ctx context.Context, c directory.OutboxClaim) ([]directory.OutboxOp, error)
	FinishOps(ctx context.Context, owner string, results []directory.OutboxResult) ([]int64, error)
	OutboxApps(ctx context.Context) ([]directory.OutboxApp, error)
	ListAccounts(ctx context.Context, f directory.AccountFilter) ([]identity.Account, error)
	GetAccount(ctx context.Context, app, externalID string) (identity.Account, error)
}

// ExecutorConfig tunes the workers. Zero values take the defaults noted.
type ExecutorConfig struct {
	// Owner names this process in leases; a random one per Executor when empty.
	Owner string
	// Workers bounds requests in flight across all apps (8); urgent ops do not wait for it.
	Workers int
	// MaxAttempts is how often a retryable op is tried before it is dead (8).
	MaxAttempts int
	// BaseBackoff and MaxBackoff bound the retry delay (1s, 5m).
	BaseBackoff, MaxBackoff time.Duration
	// Lease is how long a claimed op is ours before another worker may take it over (2m).
	Lease time.Duration
	// Poll is how often an idle executor looks for new work (1s); Notify wakes it sooner.
	Poll time.Duration
	// Prefetch is how many ops per unit of an app's concurrency are claimed ahead (16): deep
	// enough that claiming is a fraction of the work, while urgent ops skip the queue anyway.
	Prefetch int
	// Apps override each app's traits (config rate, burst, concurrency, quarantine_after).
	Apps map[string]AppLimits
	// Clock dates retries; the store compares them with its own clock (time.Now).
	Clock func() time.Time
	// Rand draws the jitter in [0,1) (math/rand/v2).
	Rand   func() float64
	Logger *slog.Logger
	// Observer hears each attempt's result (metrics); nothing when nil.
	Observer Observer
}

// Executor runs outbox ops against their apps: per-app token buckets, pauses and concurrency,
// a global bound on requests in flight, retries with backoff, and quarantine of failing apps.
type Executor struct {
	q    Queue
	cfg  ExecutorConfig
	apps map[string]*appRunner
	// names are the apps this executor claims for, sorted.
	names  []string
	global chan struct{}

	results chan outcome
	wake    chan struct{}
}

// NewExecutor returns an executor over the given apps' connectors.
func NewExecutor(q Queue, conns map[string]connector.Connector, cfg ExecutorConfig) *Executor {
	if cfg.Owner == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		cfg.Owner = fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.Workers, 8)
	def(&cfg.MaxAttempts, 8)
	def(&cfg.Prefetch, 16)
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur(&cfg.BaseBackoff, time.Second)
	defDur(&cfg.MaxBackoff, 5*time.Minute)
	defDur(&cfg.Lease, 2*time.Minute)
	defDur(&cfg.Poll, time.Second)
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = mathrand.Float64
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	x := &Executor{q: q, cfg: cfg, apps: map[string]*appRunner{}, global: make(chan struct{}, cfg.Workers),
		results: make(chan outcome, 1024), wake: make(chan struct{}, 1)}
	for name, c := range conns {
		x.apps[name] = newAppRunner(name, c, cfg.Apps[name], cfg.Prefetch)
		x.names = append(x.names, name)
	}
	slices.Sort(x.names)
	return x
}

// Owner is the lease owner this executor claims as.
func (x *Executor) Owner() string { return x.cfg.Owner }

// Notify tells the executor new work was enqueued, so it claims now instead of at its next poll.
func (x *Executor) Notify() {
	for _, a := range x.apps {
		a.setDrained(false)
	}
	signal(x.wake)
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Run claims and applies ops until ctx ends. Ops still queued locally are handed back. An
// Executor runs once.
func (x *Executor) Run(ctx context.Context) error {
	return x.RunUntil(ctx, nil)
}

// RunUntil is Run that also stops, returning nil, once done reports true; done is asked after
// each batch of results is recorded and at every poll.
func (x *Executor) RunUntil(ctx context.Context, done func(context.Context) (bool, error)) error {
	ctx = audit.WithActor(ctx, "provisioner")
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var workers sync.WaitGroup
	for _, name := range x.names {
		a := x.apps[name]
		for range a.conc {
			workers.Go(func() { x.work(runCtx, a) })
		}
	}
	err := x.loop(runCtx, done)
	cancel()
	for _, a := range x.apps {
		a.wakeAll()
	}
	// Record what the workers still finish, then hand back what they never started.
	go func() { workers.Wait(); close(x.results) }()
	final := context.WithoutCancel(ctx)
	for o := range x.results {
		x.record(final, o)
	}
	var back []outcome
	for _, name := range x.names {
		for _, op := range x.apps[name].takeQueued() {
			back = append(back, outcome{app: x.apps[name], res: release(op)})
		}
	}
	x.recordBatch(final, back)
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// doneEvery spaces RunUntil's done checks.
const doneEvery = 50 * time.Millisecond

// loop claims work whenever results come in, new work is announced, or the poll ticks.
func (x *Executor) loop(ctx context.Context, done func(context.Context) (bool, error)) error {
	tick := time.NewTicker(x.cfg.Poll)
	defer tick.Stop()
	if err := x.refreshQuarantine(ctx); err != nil {
		return err
	}
	var checked time.Time
	for {
		if err := x.dispatch(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			x.cfg.Logger.Warn("outbox claim failed; retrying at the next poll", "err", err)
		}
		ticked := false
		select {
		case <-ctx.Done():
			return ctx.Err()
		case o := <-x.results:
			x.record(context.WithoutCancel(ctx), o)
		case <-x.wake:
		case <-tick.C:
			ticked = true
			for _, a := range x.apps {
				a.setDrained(false)
			}
			if err := x.refreshQuarantine(ctx); err != nil {
				x.cfg.Logger.Warn("outbox: reading quarantined apps failed", "err", err)
			}
		}
		// While ops are in hand the work is rarely settled: ask at every poll then (done may
		// give up on ops held by a paused app), otherwise at most every doneEvery, as results
		// arrive in bursts and asking after each would cost more than the work.
		if done != nil && (ticked || !x.busy() && time.Since(checked) >= doneEvery) {
			checked = time.Now()
			ok, err := done(ctx)
			if err != nil || ok {
				return err
			}
		}
	}
}

// busy reports whether any app holds claimed ops not yet recorded.
func (x *Executor) busy() bool {
	for _, a := range x.apps {
		a.mu.Lock()
		n := a.inflight
		a.mu.Unlock()
		if n > 0 {
			return true
		}
	}
	return false
}

// dispatch claims urgent ops for every app first, then fills each app's local queue up to its
// prefetch depth. Urgent ops ignore the depth: a leaver's disable must not wait behind a
// backlog claimed a moment earlier.
func (x *Executor) dispatch(ctx context.Context) error {
	var skip []string
	for _, name := range x.names {
		if a := x.apps[name]; a.blocked() {
			skip = append(skip, name)
		}
	}
	if len(skip) == len(x.names) {
		return nil
	}
	urgent, err := x.q.ClaimOps(ctx, directory.OutboxClaim{Owner: x.cfg.Owner, Limit: 64, Lease: x.cfg.Lease,
		Apps: x.names, Skip: skip, UrgentOnly: true})
	if err != nil {
		return err
	}
	for _, op := range urgent {
		x.apps[op.App].push(op)
	}
	for _, name := range x.names {
		a := x.apps[name]
		room := a.room()
		if room <= 0 || a.blocked() || a.isDrained() {
			continue
		}
		ops, err := x.q.ClaimOps(ctx, directory.OutboxClaim{Owner: x.cfg.Owner, Limit: room, Lease: x.cfg.Lease, Apps: []string{name}})
		if err != nil {
			return err
		}
		if len(ops) < room {
			a.setDrained(true)
		}
		for _, op := range ops {
			a.push(op)
		}
	}
	return nil
}

// record writes o and whatever other results are waiting, in one transaction. Claiming and
// recording both run on the loop's goroutine: SQLite takes one writer at a time, and writers
// of one process queuing on its busy timeout would sleep instead of working.
func (x *Executor) record(ctx context.Context, o outcome) {
	batch := []outcome{o}
more:
	for len(batch) < 512 {
		select {
		case o, ok := <-x.results:
			if !ok {
				break more
			}
			batch = append(batch, o)
		default:
			break more
		}
	}
	x.recordBatch(ctx, batch)
}

func (x *Executor) recordBatch(ctx context.Context, batch []outcome) {
	if len(batch) == 0 {
		return
	}
	res := make([]directory.OutboxResult, len(batch))
	for i, o := range batch {
		res[i] = o.res
	}
	stale, err := x.finish(ctx, res)
	if err != nil {
		// The ops stay leased; when the lease runs out they are retried, which Apply's
		// idempotency makes safe.
		x.cfg.Logger.Error("outbox: recording results failed", "ops", len(res), "err", err)
	}
	if len(stale) > 0 {
		x.cfg.Logger.Warn("outbox: results for ops whose lease had passed to another worker were dropped", "ops", stale)
	}
	for _, o := range batch {
		o.app.finished()
	}
}

// finish records results, retrying a failed write a few times: a result lost here means the op
// runs again after its lease.
func (x *Executor) finish(ctx context.Context, res []directory.OutboxResult) ([]int64, error) {
	var err error
	for try := range 5 {
		var stale []int64
		if stale, err = x.q.FinishOps(ctx, x.cfg.Owner, res); err == nil {
			return stale, nil
		}
		time.Sleep(time.Duration(try+1) * 100 * time.Millisecond)
	}
	return nil, err
}
