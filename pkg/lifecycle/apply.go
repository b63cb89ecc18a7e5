package lifecycle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/hr"
	"github.com/tenure-id/tenure/pkg/identity"
)

// rejection is an event that cannot take effect for a reason HR must fix (illegal transition,
// unknown manager, a work email someone else holds). It is recorded, not a failure of the batch.
type rejection struct{ err error }

func (r rejection) Error() string { return r.err.Error() }
func (r rejection) Unwrap() error { return r.err }

func reject(format string, args ...any) error { return rejection{fmt.Errorf(format, args...)} }

// apply makes one due event take effect and returns it marked applied or rejected. What could
// reject it is checked before the person is written, so a rejected event changes no one and
// leaves its own record.
func (e *Engine) apply(ctx context.Context, tx directory.Store, idx *index, ev identity.Event, now time.Time) (identity.Event, error) {
	if audit.Reason(ctx) == "" {
		ctx = audit.WithReason(ctx, reasonFor(ev))
	}
	person, err := e.change(ctx, tx, idx, ev, now)
	var rej rejection
	if errors.As(err, &rej) {
		return e.rejected(ctx, tx, ev, rej)
	}
	if err != nil {
		return ev, err
	}
	ev.State, ev.PersonID, ev.Error = identity.EventApplied, person.ID, ""
	applied := now
	ev.AppliedAt = &applied
	return ev, nil
}

// rejected marks ev rejected and audits why.
func (e *Engine) rejected(ctx context.Context, tx directory.Store, ev identity.Event, rej rejection) (identity.Event, error) {
	ev.State, ev.Error = identity.EventRejected, rej.Error()
	if _, err := tx.AppendAudit(ctx, identity.AuditRecord{Action: "hr.event.rejected", Target: "employee:" + ev.EmployeeID,
		After: mustJSON(ev), Reason: rej.Error()}); err != nil {
		return ev, err
	}
	e.opt.Logger.Debug("hr event rejected", "type", ev.Type, "employee_id", ev.EmployeeID, "err", rej.Error())
	return ev, nil
}

// change performs the event's effect on the person.
func (e *Engine) change(ctx context.Context, tx directory.Store, idx *index, ev identity.Event, now time.Time) (identity.Person, error) {
	data, cur, exists, to, err := e.prologue(ctx, tx, idx, ev)
	if err != nil {
		return identity.Person{}, err
	}
	if !exists {
		return e.hire(ctx, tx, idx, ev, data, now)
	}
	next, err := e.successor(ctx, tx, idx, ev, data, cur, to, now)
	if err != nil {
		return identity.Person{}, err
	}
	updated, err := tx.UpdatePerson(ctx, cur.ID, func(p *identity.Person) error {
		if p.Version != cur.Version {
			return fmt.Errorf("person %s changed during the batch: %w", cur.EmployeeID, identity.ErrStale)
		}
		*p = next
		return nil
	})
	if err != nil {
		return identity.Person{}, invalidAsRejection(err)
	}
	idx.put(updated)
	return updated, e.changed(ctx, tx, idx, updated, ev, data)
}

// prologue reads the event's data and the person it is about, and the state the event moves
// them to; an illegal transition is a rejection.
func (e *Engine) prologue(ctx context.Context, tx directory.Store, idx *index, ev identity.Event) (data hr.Data, cur identity.Person,
	exists bool, to identity.Status, err error) {
	if len(ev.Payload) > 0 {
		if err := json.Unmarshal(ev.Payload, &data); err != nil {
			return data, cur, false, "", reject("payload: %v", err)
		}
	}
	cur, exists, err = idx.person(ctx, tx, ev.EmployeeID)
	if err != nil {
		return data, cur, false, "", err
	}
	from, et := absent, data.EmploymentType
	if exists {
		from, et = cur.Status, cur.EmploymentType
	}
	if et == "" {
		et = identity.Employee
	}
	to, err = Transition(ev.EmployeeID, from, ev.Type, et)
	if err != nil {
		return data, cur, exists, "", rejection{err}
	}
	return data, cur, exists, to, nil
}

// successor is what someone already stored becomes through the event, not yet written.
func (e *Engine) successor(ctx context.Context, tx directory.Store, idx *index, ev identity.Event, data hr.Data, cur identity.Person,
	to identity.Status, now time.Time) (identity.Person, error) {
	next := cur
	next.Attributes = cloneAttrs(cur.Attributes)
	switch ev.Type {
	case identity.Hire:
		if data.StartDate == nil || !e.StartAt(*data.StartDate).After(now) {
			next.Status = to
		}
	case identity.Rehire:
		if err := e.fill(ctx, tx, idx, &next, data, true); err != nil {
			return identity.Person{}, err
		}
		next.Status, next.EndDate = to, data.EndDate
		if err := e.preHire(ctx, tx, idx, &next, data, now); err != nil {
			return identity.Person{}, err
		}
		if next.Username == "" {
			// Released after the no-reuse period: the returning person gets a fresh one.
			if err := e.name(ctx, tx, idx, &next, data); err != nil {
				return identity.Person{}, err
			}
		}
	case identity.Transfer:
		if len(data.OrgPath()) > 0 {
			unit, err := idx.ensureUnits(ctx, tx, data.OrgPath())
			if err != nil {
				return identity.Person{}, err
			}
			next.OrgUnitID = unit
		}
		next.JobTitle, next.JobCode = data.JobTitle, data.JobCode
		if data.KeepAccessUntil != nil {
			if next.Attributes == nil {
				next.Attributes = map[string]string{}
			}
			next.Attributes["keep_access_until"] = data.KeepAccessUntil.UTC().Format(time.RFC3339)
			next.Attributes["previous_org_unit"] = cur.OrgUnitID
		}
	case identity.ManagerChange:
		mgr, err := e.manager(ctx, tx, idx, data.ManagerID)
		if err != nil {
			return identity.Person{}, err
		}
		next.ManagerID = mgr
	case identity.AttributeChange:
		if err := e.fill(ctx, tx, idx, &next, data, false); err != nil {
			return identity.Person{}, err
		}
		if cur.Status == identity.PreHire && !sameDay(cur.StartDate, next.StartDate) {
			if err := e.preHire(ctx, tx, idx, &next, data, now); err != nil {
				return identity.Person{}, err
			}
		}
	case identity.Leave, identity.Return:
		next.Status = to
	case identity.Terminate, identity.ContractEnd:
		next.Status = to
		y, m, d := ev.EffectiveAt.In(e.opt.Location).Date()
		last := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		if next.EndDate == nil || last.Before(*next.EndDate) || ev.Type == identity.Terminate {
			next.EndDate = &last
		}
		if next.StartDate != nil && next.EndDate.Before(*next.StartDate) {
			next.EndDate = next.StartDate
		}
	}
	if err := e.checkEmailFree(ctx, tx, idx, cur, next); err != nil {
		return identity.Person{}, err
	}
	return next, nil
}

// changed follows up on a stored change: the scheduled end of a contract.
func (e *Engine) changed(ctx context.Context, tx directory.Store, idx *index, updated identity.Person, ev identity.Event, data hr.Data) error {
	if ev.Type == identity.Rehire || ev.Type == identity.AttributeChange {
		return e.contractEnd(ctx, tx, idx, updated, ev, data)
	}
	return nil
}

func sameDay(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

// invalidAsRejection turns a validation failure of HR's data (a malformed email, say) into a
// rejection: the store checks those before writing, so the transaction stays usable.
func invalidAsRejection(err error) error {
	var fe *identity.FieldError
	if errors.As(err, &fe) {
		return rejection{err}
	}
	return err
}

// checkEmailFree turns a work email someone else holds into a rejection before the write, where
// the unique index would fail the whole batch.
func (e *Engine) checkEmailFree(ctx context.Context, tx directory.Store, idx *index, cur, next identity.Person) error {
	if next.WorkEmail == "" || strings.EqualFold(next.WorkEmail, cur.WorkEmail) {
		return nil
	}
	taken, err := idx.taken(ctx, tx)(strings.ToLower(next.WorkEmail))
	if err != nil {
		return err
	}
	if taken {
		return reject("work email %s belongs to someone else", next.WorkEmail)
	}
	return nil
}

// hire creates a new person from HR's data.
func (e *Engine) hire(ctx context.Context, tx directory.Store, idx *index, ev identity.Event, data hr.Data, now time.Time) (identity.Person, error) {
	p := identity.Person{EmployeeID: ev.EmployeeID, Status: identity.Active, EmploymentType: data.EmploymentType}
	if p.EmploymentType == "" {
		p.EmploymentType = identity.Employee
	}
	if data.WorkEmail != "" {
		taken, err := idx.taken(ctx, tx)(data.WorkEmail)
		if err != nil {
			return identity.Person{}, err
		}
		if taken {
			return identity.Person{}, reject("work email %s belongs to someone else", data.WorkEmail)
		}
	}
	if err := e.fill(ctx, tx, idx, &p, data, true); err != nil {
		return identity.Person{}, err
	}
	if err := e.name(ctx, tx, idx, &p, data); err != nil {
		return identity.Person{}, err
	}
	if err := e.preHire(ctx, tx, idx, &p, data, now); err != nil {
		return identity.Person{}, err
	}
	created, err := tx.CreatePerson(ctx, p)
	if err != nil {
		return identity.Person{}, invalidAsRejection(err)
	}
	idx.put(created)
	return created, e.contractEnd(ctx, tx, idx, created, ev, data)
}

// preHire keeps a person whose start date is ahead in pre_hire and schedules the activation
// for that moment, replacing one scheduled for an earlier start date. A start date moved into
// the past activates the person now.
func (e *Engine) preHire(ctx context.Context, tx directory.Store, idx *index, p *identity.Person, data hr.Data, now time.Time) error {
	known := p.ID != "" // only someone already stored can have an activation to replace
	if data.StartDate == nil || !e.StartAt(*data.StartDate).After(now) {
		if p.Status != identity.PreHire {
			return nil
		}
		p.Status = identity.Active
		return e.schedule(ctx, tx, idx, p.EmployeeID, identity.Hire, "lifecycle:start_date", nil, data, known)
	}
	start := e.StartAt(*data.StartDate)
	p.Status = identity.PreHire
	return e.schedule(ctx, tx, idx, p.EmployeeID, identity.Hire, "lifecycle:start_date", &start, data, known)
}

// contractEnd keeps one scheduled contract_end at the end date of a contractor, vendor or
// intern hired or changed by a single event. Rosters schedule their own, from the same data.
func (e *Engine) contractEnd(ctx context.Context, tx directory.Store, idx *index, p identity.Person, ev identity.Event, data hr.Data) error {
	if strings.HasPrefix(ev.Source, "roster:") || p.EmploymentType == identity.Employee || p.Status == identity.Terminated {
		return nil
	}
	var at *time.Time
	if p.EndDate != nil {
		t := e.LeaveAt(*p.EndDate)
		at = &t
	}
	return e.schedule(ctx, tx, idx, p.EmployeeID, identity.ContractEnd, "lifecycle:end_date", at, data, ev.Type != identity.Hire)
}

// schedule makes the pending event of this type and source for the person the one at at (none
// when at is nil): with replace, others are marked superseded; a missing one is created.
func (e *Engine) schedule(ctx context.Context, tx directory.Store, idx *index, emp string, t identity.EventType, source string,
	at *time.Time, data hr.Data, replace bool) error {
	key := ""
	if at != nil {
		key = hr.EventKey(emp, t, *at)
	}
	for k, ev := range idx.pending {
		if !replace {
			break
		}
		if ev.EmployeeID != emp || ev.Type != t || ev.Source != source || k == key || ev.ID == "" {
			continue
		}
		if _, err := tx.UpdateEvent(ctx, ev.ID, func(x *identity.Event) error {
			x.State, x.Error = identity.EventRejected, "superseded: the date it was scheduled for has changed"
			return nil
		}); err != nil {
			return err
		}
		delete(idx.pending, k)
	}
	if at == nil {
		return nil
	}
	if _, ok := idx.pending[key]; ok {
		return nil
	}
	stored, err := tx.CreateEvent(ctx, identity.Event{Type: t, EmployeeID: emp, EffectiveAt: *at, Source: source,
		ExternalID: key, Payload: mustJSON(data), State: identity.EventPending})
	if err == nil {
		idx.pending[key] = stored
	}
	return err
}

// name gives the person a username and work email when they have none.
func (e *Engine) name(ctx context.Context, tx directory.Store, idx *index, p *identity.Person, data hr.Data) error {
	if p.Username != "" {
		return nil
	}
	if u := strings.ToLower(strings.TrimSpace(data.Username)); u != "" {
		taken, err := idx.taken(ctx, tx)(u)
		if err != nil {
			return err
		}
		if taken {
			return reject("username %s belongs to someone else", u)
		}
		p.Username = u
		return nil
	}
	first := data.PreferredName
	if first == "" {
		first = p.LegalFirstName
	}
	u, mail, err := e.opt.Naming.Generate(first, p.LegalLastName, idx.taken(ctx, tx))
	if errors.Is(err, errNameCheck) {
		return err
	}
	if err != nil {
		return reject("%v", err)
	}
	p.Username = u
	if p.WorkEmail == "" {
		p.WorkEmail = mail
	}
	return nil
}

// fill copies HR's attributes onto the person; whole is for (re)hires, which also set the
// position and manager.
func (e *Engine) fill(ctx context.Context, tx directory.Store, idx *index, p *identity.Person, d hr.Data, whole bool) error {
	p.LegalFirstName, p.LegalLastName, p.PreferredName = d.FirstName, d.LastName, d.PreferredName
	if d.WorkEmail != "" {
		p.WorkEmail = d.WorkEmail
	}
	if d.EmploymentType != "" {
		p.EmploymentType = d.EmploymentType
	}
	p.PersonalEmail, p.CostCenter, p.Location, p.Country = d.PersonalEmail, d.CostCenter, d.Location, d.Country
	if d.StartDate != nil {
		p.StartDate = d.StartDate
	}
	p.EndDate = d.EndDate
	if !whole {
		return nil
	}
	p.JobTitle, p.JobCode = d.JobTitle, d.JobCode
	// The manager is checked before any unit is created, so a rejection writes nothing.
	mgr, err := e.manager(ctx, tx, idx, d.ManagerID)
	if err != nil {
		return err
	}
	p.ManagerID = mgr
	p.OrgUnitID, err = idx.ensureUnits(ctx, tx, d.OrgPath())
	return err
}

func (e *Engine) manager(ctx context.Context, tx directory.Store, idx *index, emp string) (string, error) {
	if emp == "" {
		return "", nil
	}
	m, ok, err := idx.person(ctx, tx, emp)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", reject("unknown manager %s", emp)
	}
	return m.ID, nil
}

func cloneAttrs(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
