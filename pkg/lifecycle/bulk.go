package lifecycle

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/hr"
	"github.com/tenure-id/tenure/pkg/identity"
)

// hires collects the plain hires of a large batch so they are written with one CreatePeople
// and one CreateEvents instead of a round of queries each: what makes an initial import of a
// whole company quick. Anything unusual about a hire (a rejection to record, say) sends it down
// the one-by-one path instead, which handles every case.
type hires struct {
	people []directory.NewPerson
	events []identity.Event
	// later are future events (contract ends, mostly) stored together at the end.
	later    []identity.Event
	oneByOne bool
}

// schedule takes a future event of a large batch to store with the others at the end.
func (h *hires) schedule(ctx context.Context, tx directory.Store, idx *index, ev identity.Event, now time.Time) (bool, error) {
	if h.oneByOne || !idx.full || !ev.EffectiveAt.After(now) {
		return false, nil
	}
	if _, dup, err := idx.seen(ctx, tx, ev); err != nil || dup {
		return false, err
	}
	ev.State = identity.EventPending
	if ev.ExternalID != "" {
		idx.pending[ev.ExternalID] = ev
	}
	h.later = append(h.later, ev)
	return true, nil
}

// buffer takes ev if it is a due hire of someone new whose data is sound; ok is false when the
// one-by-one path must handle it.
func (e *Engine) buffer(ctx context.Context, tx directory.Store, idx *index, h *hires, ev identity.Event, now time.Time) (bool, error) {
	if e.oneByOne || !idx.full || ev.Type != identity.Hire || ev.EffectiveAt.After(now) || idx.byEmp[ev.EmployeeID] != nil || idx.buffered[ev.EmployeeID] {
		return false, nil
	}
	if _, dup, err := idx.seen(ctx, tx, ev); err != nil || dup {
		return false, err
	}
	var data hr.Data
	if len(ev.Payload) > 0 && json.Unmarshal(ev.Payload, &data) != nil {
		return false, nil
	}
	if m := data.ManagerID; m != "" && idx.byEmp[m] == nil && !idx.buffered[m] {
		return false, nil
	}
	if data.WorkEmail != "" && idx.names[data.WorkEmail] {
		return false, nil
	}
	p := identity.Person{EmployeeID: ev.EmployeeID, Status: identity.Active, EmploymentType: identity.Employee}
	// fill with no manager: the store resolves ManagerEmployeeID, which may be a person of this
	// very batch and so has no ID yet.
	mgr := data.ManagerID
	data.ManagerID = ""
	if err := e.fill(ctx, tx, idx, &p, data, true); err != nil {
		return false, err
	}
	data.ManagerID = mgr
	first := data.PreferredName
	if first == "" {
		first = p.LegalFirstName
	}
	if p.Username == "" {
		u, mail, _, err := e.opt.Naming.generate(first, p.LegalLastName, idx.taken(ctx, tx), idx.suffix)
		if err != nil {
			return false, nil
		}
		p.Username = u
		if p.WorkEmail == "" {
			p.WorkEmail = mail
		}
	}
	if err := p.Validate(); err != nil {
		return false, nil
	}
	if err := e.preHire(ctx, tx, idx, &p, data, now); err != nil {
		return false, err
	}
	idx.buffered[p.EmployeeID] = true
	idx.names[p.Username], idx.names[p.WorkEmail] = true, true
	np := directory.NewPerson{Person: p, ManagerEmployeeID: mgr}
	if audit.Reason(ctx) == "" {
		np.Reason = reasonFor(ev)
	}
	h.people = append(h.people, np)
	applied := now
	ev.State, ev.AppliedAt = identity.EventApplied, &applied
	h.events = append(h.events, ev)
	return true, nil
}

// flushLater stores the buffered future events.
func (h *hires) flushLater(ctx context.Context, tx directory.Store, idx *index, rep *Report) error {
	if len(h.later) == 0 {
		return nil
	}
	stored, err := tx.CreateEvents(ctx, h.later)
	if err != nil {
		return fmt.Errorf("scheduling %d events: %w", len(h.later), err)
	}
	for _, ev := range stored {
		if ev.ExternalID != "" {
			idx.pending[ev.ExternalID] = ev
		}
		rep.add(Outcome{Event: ev})
	}
	h.later = nil
	return nil
}

// flush writes the buffered hires and their events.
func (h *hires) flush(ctx context.Context, tx directory.Store, idx *index, rep *Report) error {
	if len(h.people) == 0 {
		return nil
	}
	created, err := tx.CreatePeople(ctx, h.people)
	if err != nil {
		return fmt.Errorf("hiring %d people: %w", len(h.people), err)
	}
	for i, p := range created {
		idx.put(p)
		delete(idx.buffered, p.EmployeeID)
		h.events[i].PersonID = p.ID
	}
	stored, err := tx.CreateEvents(ctx, h.events)
	if err != nil {
		return err
	}
	for _, ev := range stored {
		rep.add(Outcome{Event: ev})
	}
	h.people, h.events = h.people[:0], h.events[:0]
	return nil
}

// reasonFor is the audit reason of an event's changes when the caller gave none.
func reasonFor(ev identity.Event) string {
	return fmt.Sprintf("hr %s %s (%s)", ev.Type, ev.EmployeeID, ev.Source)
}
