package lifecycle

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// Options configure an Engine. The zero value works: UTC, start of day, no pre-hire period.
type Options struct {
	Clock   func() time.Time // time.Now when nil
	Naming  Naming
	Breaker Breaker
	// PreHireDays makes new people exist in pre_hire this many days before their start date.
	PreHireDays int
	// Location is the company's time zone, in which HR dates and LeaveTime are read.
	Location *time.Location
	// LeaveTime is the time of day a dated termination takes effect (17h for 17:00).
	LeaveTime time.Duration
	Logger    *slog.Logger
	// Wake, when set, is called after future events are stored, so a scheduler re-arms.
	Wake func()
	// Changed, when set, is called after events were applied, with the IDs of the people they
	// changed, so provisioning reconciles them at once instead of at its next full pass.
	Changed func(personIDs []string)
}

// Engine applies HR events to the directory.
type Engine struct {
	store directory.Store
	opt   Options
	// oneByOne turns the bulk path off, so benchmarks can measure what it saves.
	oneByOne bool
}

// New returns an engine over s.
func New(s directory.Store, opt Options) *Engine {
	if opt.Clock == nil {
		opt.Clock = time.Now
	}
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	return &Engine{store: s, opt: opt}
}

func (e *Engine) now() time.Time { return e.opt.Clock().UTC().Truncate(time.Microsecond) }

// StartAt is when an HR date begins in the company's time zone.
func (e *Engine) StartAt(day time.Time) time.Time {
	y, m, d := day.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, e.opt.Location).UTC()
}

// LeaveAt is when a termination dated day takes effect: LeaveTime on that day.
func (e *Engine) LeaveAt(day time.Time) time.Time { return e.StartAt(day).Add(e.opt.LeaveTime) }

// SubmitOptions change how a batch is handled.
type SubmitOptions struct {
	DryRun          bool // report what would happen, change nothing
	AllowMassChange bool // release the breaker; the release is audited
}

// Outcome is what became of one submitted event.
type Outcome struct {
	Event identity.Event `json:"event"`
	// Duplicate means an event with the same external ID was already known; nothing was done.
	Duplicate bool `json:"duplicate,omitempty"`
}

// Report sums up a batch.
type Report struct {
	Outcomes   []Outcome  `json:"outcomes"`
	Applied    int        `json:"applied"`
	Scheduled  int        `json:"scheduled"`
	Rejected   int        `json:"rejected"`
	Duplicates int        `json:"duplicates"`
	Superseded int        `json:"superseded,omitempty"`
	Held       *HeldError `json:"held,omitempty"`
	DryRun     bool       `json:"dry_run,omitempty"`
}

func (r *Report) add(o Outcome) {
	r.Outcomes = append(r.Outcomes, o)
	switch {
	case o.Duplicate:
		r.Duplicates++
	case o.Event.State == identity.EventApplied:
		r.Applied++
	case o.Event.State == identity.EventPending:
		r.Scheduled++
	case o.Event.State == identity.EventRejected:
		r.Rejected++
	}
}

// typeOrder applies joiners before movers before leavers at the same moment, so a new
// manager exists before reports move under them.
var typeOrder = map[identity.EventType]int{identity.Hire: 0, identity.Rehire: 0, identity.Return: 1,
	identity.Transfer: 2, identity.ManagerChange: 3, identity.AttributeChange: 4, identity.Leave: 5,
	identity.Terminate: 6, identity.ContractEnd: 6}

// order sorts events by effective moment and type, and joiners so managers come first. Every
// event already due happens now, so a contract that ended last year is applied after the hire
// of the same batch, not before it.
func order(events []identity.Event, now time.Time) []identity.Event {
	out := slices.Clone(events)
	at := func(e identity.Event) time.Time {
		if e.EffectiveAt.Before(now) {
			return now
		}
		return e.EffectiveAt
	}
	slices.SortStableFunc(out, func(a, b identity.Event) int {
		return cmp.Or(at(a).Compare(at(b)), typeOrder[a.Type]-typeOrder[b.Type])
	})
	// Within a run of joiners at one moment, a manager joining in the same run goes first.
	for i := 0; i < len(out); {
		j := i
		for j < len(out) && at(out[j]).Equal(at(out[i])) && typeOrder[out[j].Type] == 0 {
			j++
		}
		if j > i+1 {
			managersFirst(out[i:j])
		}
		i = max(j, i+1)
	}
	return out
}

func managersFirst(run []identity.Event) {
	pos := make(map[string]int, len(run))
	mgr := make([]string, len(run))
	for i, ev := range run {
		pos[ev.EmployeeID], mgr[i] = i, managerOf(ev)
	}
	// depth is the number of managers above someone within the run; the walk is bounded by
	// the run's length, so a cycle (which the roster check rejects anyway) cannot hang it.
	depth := make([]int, len(run))
	for i := range run {
		for k, ok := pos[mgr[i]]; ok && depth[i] < len(run); k, ok = pos[mgr[k]] {
			depth[i]++
		}
	}
	idx := make([]int, len(run))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return depth[a] - depth[b] })
	sorted := make([]identity.Event, len(run))
	for i, k := range idx {
		sorted[i] = run[k]
	}
	copy(run, sorted)
}

func managerOf(ev identity.Event) string {
	var d struct {
		ManagerID string `json:"manager_id"`
	}
	_ = json.Unmarshal(ev.Payload, &d)
	return d.ManagerID
}

// Submit takes a batch of events: those due now are applied, future ones stored for the
// scheduler, all in one transaction. A batch the breaker holds changes nothing and returns a
// *HeldError (the hold itself is audited); illegal transitions are rejected and recorded
// without stopping the rest. Any other failure rolls the whole batch back.
func (e *Engine) Submit(ctx context.Context, events []identity.Event, opt SubmitOptions) (Report, error) {
	return e.run(ctx, opt, len(events) > 50, func(context.Context, directory.Store, *index, time.Time) ([]identity.Event, []string, error) {
		return events, nil, nil
	})
}

// deriveFunc produces a batch from the directory as the transaction sees it: the events and
// the pending events they replace. now is the batch's one moment: events derived as "now" must
// be due by the clock the batch is applied with, or they would wait for the scheduler while
// older events of the same person (a past termination) went first.
type deriveFunc func(ctx context.Context, s directory.Store, idx *index, now time.Time) ([]identity.Event, []string, error)

// run derives a batch and applies it inside one write transaction, so what the batch was
// computed from cannot change before it is applied. full loads every person up front, which
// pays off for batches touching many.
func (e *Engine) run(ctx context.Context, opt SubmitOptions, full bool, derive deriveFunc) (Report, error) {
	now := e.now()
	prepare := func(s directory.Store) (*index, []identity.Event, []string, *HeldError, error) {
		idx, err := loadIndex(ctx, s, full)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		events, sup, err := derive(ctx, s, idx, now)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		for i := range events {
			if events[i].State == "" {
				events[i].State = identity.EventPending
			}
			if err := events[i].Validate(); err != nil {
				return nil, nil, nil, nil, fmt.Errorf("event %d (%s %s): %w", i+1, events[i].Type, events[i].EmployeeID, err)
			}
		}
		events = order(events, now)
		active, err := idx.active(ctx, s)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		var he *HeldError
		errors.As(e.opt.Breaker.Check(breakerScope(events, idx.pending), active), &he)
		return idx, events, sup, he, nil
	}
	if opt.DryRun {
		idx, events, sup, he, err := prepare(e.store)
		if err != nil {
			return Report{DryRun: true}, err
		}
		rep, err := e.simulate(ctx, idx, events, Report{DryRun: true, Held: he, Superseded: len(sup)})
		if err == nil && he != nil && !opt.AllowMassChange {
			err = he
		}
		return rep, err
	}
	var rep Report
	scheduled := false
	err := e.store.InTx(ctx, func(tx directory.Store) error {
		idx, events, sup, he, err := prepare(tx)
		if err != nil {
			return err
		}
		rep = Report{Held: he}
		if he != nil {
			if !opt.AllowMassChange {
				return he // rolled back: a held batch changes nothing
			}
			if _, err := tx.AppendAudit(ctx, identity.AuditRecord{Action: "hr.batch.mass_change_allowed", Target: "hr:batch",
				After: mustJSON(he), Reason: "--allow-mass-change: " + he.Error()}); err != nil {
				return err
			}
		}
		if err := supersede(ctx, tx, idx, sup); err != nil {
			return err
		}
		rep.Superseded = len(sup)
		h := hires{oneByOne: e.oneByOne}
		var m moves
		for i, ev := range events {
			moved, err := e.move(ctx, tx, idx, &m, &h, ev, now, &rep)
			if err != nil {
				return fmt.Errorf("event %d (%s %s): %w", i+1, ev.Type, ev.EmployeeID, err)
			}
			if moved {
				continue
			}
			if err := m.flush(ctx, tx, idx, &rep); err != nil {
				return err
			}
			buffered, err := e.buffer(ctx, tx, idx, &h, ev, now)
			if err != nil {
				return fmt.Errorf("event %d (%s %s): %w", i+1, ev.Type, ev.EmployeeID, err)
			}
			if !buffered {
				buffered, err = h.schedule(ctx, tx, idx, ev, now)
				if err != nil {
					return err
				}
			}
			if buffered {
				scheduled = scheduled || ev.EffectiveAt.After(now)
				continue
			}
			if err := h.flush(ctx, tx, idx, &rep); err != nil {
				return err
			}
			o, err := e.submitOne(ctx, tx, idx, ev, now)
			if err != nil {
				return fmt.Errorf("event %d (%s %s): %w", i+1, ev.Type, ev.EmployeeID, err)
			}
			scheduled = scheduled || o.Event.State == identity.EventPending
			rep.add(o)
		}
		if err := m.flush(ctx, tx, idx, &rep); err != nil {
			return err
		}
		if err := h.flush(ctx, tx, idx, &rep); err != nil {
			return err
		}
		return h.flushLater(ctx, tx, idx, &rep)
	})
	var he *HeldError
	if errors.As(err, &he) {
		// The hold is a fact worth keeping even though the batch left no other trace.
		if _, aerr := e.store.AppendAudit(ctx, identity.AuditRecord{Action: "hr.batch.held", Target: "hr:batch",
			After: mustJSON(he), Reason: he.Error()}); aerr != nil {
			return Report{Held: he}, aerr
		}
		return Report{Held: he}, he
	}
	if err != nil {
		return Report{Held: rep.Held}, err
	}
	if scheduled && e.opt.Wake != nil {
		e.opt.Wake()
	}
	e.notifyChanged(rep.Outcomes)
	return rep, nil
}

// notifyChanged passes the people whose events were applied to Options.Changed.
func (e *Engine) notifyChanged(outcomes []Outcome) {
	if e.opt.Changed == nil {
		return
	}
	var ids []string
	seen := map[string]bool{}
	for _, o := range outcomes {
		if o.Duplicate || o.Event.State != identity.EventApplied || o.Event.PersonID == "" || seen[o.Event.PersonID] {
			continue
		}
		seen[o.Event.PersonID] = true
		ids = append(ids, o.Event.PersonID)
	}
	if len(ids) > 0 {
		e.opt.Changed(ids)
	}
}

func (e *Engine) submitOne(ctx context.Context, tx directory.Store, idx *index, ev identity.Event, now time.Time) (Outcome, error) {
	if dup, ok, err := idx.seen(ctx, tx, ev); err != nil || ok {
		return Outcome{Event: dup, Duplicate: ok}, err
	}
	if ev.EffectiveAt.After(now) {
		ev.State = identity.EventPending
		stored, err := tx.CreateEvent(ctx, ev)
		if err == nil && stored.ExternalID != "" {
			idx.pending[stored.ExternalID] = stored
		}
		return Outcome{Event: stored}, err
	}
	ev, err := e.apply(ctx, tx, idx, ev, now)
	if err != nil {
		return Outcome{}, err
	}
	stored, err := tx.CreateEvent(ctx, ev)
	return Outcome{Event: stored}, err
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// breakerScope is what the breaker weighs: new changes to people already here. Events already
// stored are not new, and the scheduled end of someone joining in the same batch disrupts
// nobody today.
func breakerScope(events []identity.Event, pending map[string]identity.Event) []identity.Event {
	joining := map[string]bool{}
	for _, ev := range events {
		if ev.Type == identity.Hire || ev.Type == identity.Rehire {
			joining[ev.EmployeeID] = true
		}
	}
	var out []identity.Event
	for _, ev := range events {
		if _, dup := pending[ev.ExternalID]; (dup && ev.ExternalID != "") || joining[ev.EmployeeID] {
			continue
		}
		out = append(out, ev)
	}
	return out
}

func supersede(ctx context.Context, tx directory.Store, idx *index, ids []string) error {
	for _, id := range ids {
		ev, err := tx.UpdateEvent(ctx, id, func(x *identity.Event) error {
			if x.State != identity.EventPending {
				return fmt.Errorf("event %s is %s, not pending: %w", id, x.State, identity.ErrConflict)
			}
			x.State, x.Error = identity.EventRejected, "superseded: the roster no longer implies it"
			return nil
		})
		if err != nil {
			return err
		}
		delete(idx.pending, ev.ExternalID)
	}
	return nil
}
