package lifecycle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// simulate is a dry run: every event goes through the state machine against the directory as
// it is, and nothing is written.
func (e *Engine) simulate(ctx context.Context, idx *index, events []identity.Event, rep Report) (Report, error) {
	now := e.now()
	status := map[string]identity.Status{}
	for _, ev := range events {
		if dup, ok := idx.pending[ev.ExternalID]; ok && ev.ExternalID != "" {
			rep.add(Outcome{Event: dup, Duplicate: true})
			continue
		}
		if ev.EffectiveAt.After(now) {
			ev.State = identity.EventPending
			rep.add(Outcome{Event: ev})
			continue
		}
		from, ok := status[ev.EmployeeID]
		et := payloadType(ev)
		if p, exists, err := idx.person(ctx, e.store, ev.EmployeeID); err != nil {
			return rep, err
		} else if exists {
			et = p.EmploymentType
			if !ok {
				from = p.Status
			}
		}
		to, err := Transition(ev.EmployeeID, from, ev.Type, et)
		if err != nil {
			ev.State, ev.Error = identity.EventRejected, err.Error()
		} else {
			ev.State, status[ev.EmployeeID] = identity.EventApplied, to
		}
		rep.add(Outcome{Event: ev})
	}
	return rep, nil
}

// payloadType is the employment type an event's payload carries, which is what counts for
// someone the directory does not hold yet.
func payloadType(ev identity.Event) identity.EmploymentType {
	var d struct {
		EmploymentType identity.EmploymentType `json:"employment_type"`
	}
	if raw := ev.Payload; len(raw) > 0 {
		_ = json.Unmarshal(raw, &d)
	}
	if d.EmploymentType == "" {
		return identity.Employee
	}
	return d.EmploymentType
}

// ApplyDue applies every stored pending event whose moment has come, oldest first, each in its
// own transaction so one bad event cannot hold up the rest. It returns how many it handled.
func (e *Engine) ApplyDue(ctx context.Context) (int, error) {
	now := e.now()
	due, err := e.store.ListEvents(ctx, directory.EventFilter{States: []identity.EventState{identity.EventPending}, DueBy: &now})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ev := range order(due, now) {
		if err := e.applyStored(ctx, ev.ID, now); err != nil {
			return n, fmt.Errorf("event %s (%s %s): %w", ev.ID, ev.Type, ev.EmployeeID, err)
		}
		n++
	}
	return n, nil
}

// NextDue is the effective moment of the earliest pending event; ok is false when none waits.
func (e *Engine) NextDue(ctx context.Context) (at time.Time, ok bool, err error) {
	next, err := e.store.ListEvents(ctx, directory.EventFilter{States: []identity.EventState{identity.EventPending}, Limit: 1})
	if err != nil || len(next) == 0 {
		return time.Time{}, false, err
	}
	return next[0].EffectiveAt, true, nil
}

func (e *Engine) applyStored(ctx context.Context, id string, now time.Time) error {
	var applied identity.Event
	err := e.store.InTx(ctx, func(tx directory.Store) error {
		ev, err := tx.GetEvent(ctx, id)
		if err != nil {
			return err
		}
		if ev.State != identity.EventPending {
			return nil // another replica got to it first
		}
		idx, err := loadIndex(ctx, tx, false)
		if err != nil {
			return err
		}
		res, err := e.apply(ctx, tx, idx, ev, now)
		if err != nil {
			return err
		}
		applied, err = tx.UpdateEvent(ctx, id, func(x *identity.Event) error {
			x.State, x.Error, x.PersonID, x.AppliedAt = res.State, res.Error, res.PersonID, res.AppliedAt
			return nil
		})
		return err
	})
	if err == nil {
		e.notifyChanged([]Outcome{{Event: applied}})
	}
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	// A failure that is not HR's doing still must not retry forever: record it on the event.
	e.opt.Logger.Error("scheduled hr event failed", "event", id, "err", err)
	_, uerr := e.store.UpdateEvent(ctx, id, func(x *identity.Event) error {
		x.State, x.Error = identity.EventRejected, "failed: "+err.Error()
		return nil
	})
	return uerr
}
