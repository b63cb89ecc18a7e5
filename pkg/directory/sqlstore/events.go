package sqlstore

import (
	"context"
	"fmt"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

func toEventRow(e identity.Event) eventRow {
	return eventRow{ID: e.ID, ExternalID: nullable(e.ExternalID), Type: string(e.Type), EmployeeID: e.EmployeeID,
		PersonID: e.PersonID, EffectiveAt: utc(e.EffectiveAt), Source: e.Source, Payload: string(e.Payload),
		State: string(e.State), Error: e.Error, CreatedAt: utc(e.CreatedAt), AppliedAt: utcPtr(e.AppliedAt)}
}

func (r eventRow) event() identity.Event {
	e := identity.Event{ID: r.ID, ExternalID: deref(r.ExternalID), Type: identity.EventType(r.Type), EmployeeID: r.EmployeeID,
		PersonID: r.PersonID, EffectiveAt: utc(r.EffectiveAt), Source: r.Source, State: identity.EventState(r.State),
		Error: r.Error, CreatedAt: utc(r.CreatedAt), AppliedAt: utcPtr(r.AppliedAt)}
	if r.Payload != "" {
		e.Payload = []byte(r.Payload)
	}
	return e
}

// CreateEvent stores an event; a repeated ExternalID is ErrConflict.
func (s *Store) CreateEvent(ctx context.Context, e identity.Event) (identity.Event, error) {
	e.ID = newID()
	if e.State == "" {
		e.State = identity.EventPending
	}
	if err := e.Validate(); err != nil {
		return identity.Event{}, err
	}
	err := s.write(ctx, func(tx *Store) error {
		e.CreatedAt = tx.now()
		row := toEventRow(e)
		if err := tx.db.WithContext(ctx).Create(&row).Error; err != nil {
			return conflict(err, "event", map[string]string{"external_id": e.ExternalID})
		}
		e = row.event()
		return tx.audit(ctx, "event.create", "event:"+e.ID, nil, e)
	})
	if err != nil {
		return identity.Event{}, err
	}
	return e, nil
}

// GetEvent reads one event.
func (s *Store) GetEvent(ctx context.Context, id string) (identity.Event, error) {
	var row eventRow
	if err := s.read(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return identity.Event{}, notFound(err, "event", id)
	}
	return row.event(), nil
}

// ListEvents returns events by effective time, then creation.
func (s *Store) ListEvents(ctx context.Context, f directory.EventFilter) ([]identity.Event, error) {
	q := s.read(ctx)
	if len(f.States) > 0 {
		q = q.Where("state IN ?", f.States)
	}
	if f.EmployeeID != "" {
		q = q.Where("employee_id = ?", f.EmployeeID)
	}
	if f.DueBy != nil {
		q = q.Where("effective_at <= ?", utc(*f.DueBy))
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	var rows []eventRow
	if err := q.Order("effective_at, created_at, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	out := make([]identity.Event, len(rows))
	for i, r := range rows {
		out[i] = r.event()
	}
	return out, nil
}

// UpdateEvent changes one event in a transaction.
func (s *Store) UpdateEvent(ctx context.Context, id string, fn func(*identity.Event) error) (identity.Event, error) {
	var out identity.Event
	err := s.write(ctx, func(tx *Store) error {
		var row eventRow
		if err := tx.lockRow(tx.db.WithContext(ctx)).Where("id = ?", id).Take(&row).Error; err != nil {
			return notFound(err, "event", id)
		}
		before := row.event()
		next := before
		if err := fn(&next); err != nil {
			return err
		}
		next.ID, next.CreatedAt = before.ID, before.CreatedAt
		if err := next.Validate(); err != nil {
			return err
		}
		nrow := toEventRow(next)
		if err := tx.db.WithContext(ctx).Model(&eventRow{}).Where("id = ?", id).Select("*").Omit("id", "created_at").Updates(&nrow).Error; err != nil {
			return conflict(err, "event", map[string]string{"external_id": next.ExternalID})
		}
		out = nrow.event()
		return tx.audit(ctx, "event.update", "event:"+id, before, out)
	})
	if err != nil {
		return identity.Event{}, err
	}
	return out, nil
}
