package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// moves collects the due changes of a large batch to people already stored — movers and
// leavers — so they are written with one UpdatePeople and one CreateEvents instead of a round
// of queries each. Each change is computed exactly as the one-by-one path computes it, against
// the index, which holds the changes buffered so far; what the store would refuse (an invalid
// person, a manager cycle) is found here first and recorded as a rejection.
type moves struct {
	updates []directory.PersonUpdate
	events  []identity.Event
	// keys are the external IDs of the buffered events, so a repeat in the same batch goes
	// the one-by-one way and finds the first one stored.
	keys map[string]bool
}

// movable are the events whose whole effect is an update of the person.
var movable = map[identity.EventType]bool{identity.Transfer: true, identity.ManagerChange: true,
	identity.AttributeChange: true, identity.Leave: true, identity.Return: true, identity.Terminate: true,
	identity.ContractEnd: true}

// move takes ev if it is a due change of someone already stored; ok is false when the
// one-by-one path must handle it. A rejected event is recorded here, after what was buffered
// before it, so the audit trail keeps the batch's order.
func (e *Engine) move(ctx context.Context, tx directory.Store, idx *index, m *moves, h *hires, ev identity.Event, now time.Time,
	rep *Report) (bool, error) {
	if e.oneByOne || !idx.full || !movable[ev.Type] || ev.EffectiveAt.After(now) || m.keys[ev.ExternalID] {
		return false, nil
	}
	held := idx.byEmp[ev.EmployeeID]
	// A pre-hire's changed start date reschedules the activation: the one-by-one path does that.
	if held == nil || (ev.Type == identity.AttributeChange && held.Status == identity.PreHire) {
		return false, nil
	}
	if _, dup, err := idx.seen(ctx, tx, ev); err != nil || dup {
		return false, err
	}
	// A new manager or unit may be among the hires waiting to be written.
	if err := h.flush(ctx, tx, idx, rep); err != nil {
		return false, err
	}
	actx := ctx
	if audit.Reason(ctx) == "" {
		actx = audit.WithReason(ctx, reasonFor(ev))
	}
	data, cur, _, to, err := e.prologue(actx, tx, idx, ev)
	var next identity.Person
	if err == nil {
		next, err = e.successor(actx, tx, idx, ev, data, cur, to, now)
	}
	if err == nil {
		err = checkSuccessor(idx, cur, &next)
	}
	var rej rejection
	if errors.As(err, &rej) {
		if err := m.flush(ctx, tx, idx, rep); err != nil {
			return false, err
		}
		ev, err := e.rejected(actx, tx, ev, rej)
		if err != nil {
			return false, err
		}
		stored, err := tx.CreateEvent(ctx, ev)
		if err != nil {
			return false, err
		}
		rep.add(Outcome{Event: stored})
		return true, nil
	}
	if err != nil {
		return false, err
	}
	u := directory.PersonUpdate{Person: next}
	if audit.Reason(ctx) == "" {
		u.Reason = reasonFor(ev)
	}
	// The index holds the person as the store will: later events of the batch start from it.
	stored := next
	stored.Version++
	idx.put(stored)
	if m.keys == nil {
		m.keys = map[string]bool{}
	}
	m.updates = append(m.updates, u)
	ev.State, ev.PersonID, ev.Error = identity.EventApplied, cur.ID, ""
	applied := now
	ev.AppliedAt = &applied
	m.events = append(m.events, ev)
	if ev.ExternalID != "" {
		m.keys[ev.ExternalID] = true
	}
	return true, e.changed(actx, tx, idx, stored, ev, data)
}

// checkSuccessor normalizes next and finds what the store would refuse: invalid data, or a
// new manager who reports to the person already. Both are rejections, as in the one-by-one
// path, where the store's validation and reference checks turn them into field errors.
func checkSuccessor(idx *index, cur identity.Person, next *identity.Person) error {
	next.Normalize()
	if err := next.Validate(); err != nil {
		return rejection{err}
	}
	if next.ManagerID == cur.ManagerID && next.OrgUnitID == cur.OrgUnitID {
		return nil
	}
	for m, n := next.ManagerID, 0; m != "" && n < maxManagers; n++ {
		if m == cur.ID {
			return rejection{&identity.FieldError{Field: "manager_id",
				Reason: fmt.Sprintf("%s reports to %s already, directly or not: that would be a cycle", next.ManagerID, cur.ID)}}
		}
		p := idx.byID[m]
		if p == nil {
			break
		}
		m = p.ManagerID
	}
	return nil
}

// maxManagers bounds the walk up a manager chain; a longer or looping chain is left for the
// store to refuse.
const maxManagers = 64

// flush writes the buffered changes and their events.
func (m *moves) flush(ctx context.Context, tx directory.Store, idx *index, rep *Report) error {
	if len(m.updates) == 0 {
		return nil
	}
	updated, err := tx.UpdatePeople(ctx, m.updates)
	if err != nil {
		return fmt.Errorf("changing %d people: %w", len(m.updates), err)
	}
	for _, p := range updated {
		idx.put(p)
	}
	stored, err := tx.CreateEvents(ctx, m.events)
	if err != nil {
		return err
	}
	for _, ev := range stored {
		rep.add(Outcome{Event: ev})
	}
	m.updates, m.events = m.updates[:0], m.events[:0]
	clear(m.keys)
	return nil
}
