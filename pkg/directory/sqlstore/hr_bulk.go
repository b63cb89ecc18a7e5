package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"gorm.io/gorm"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// bulkRows is how many rows one INSERT carries: well under the bind-parameter limits of
// SQLite (32,766) and PostgreSQL (65,535) for the widest row.
const bulkRows = 500

// CreatePeople stores many new people in one transaction; see directory.HRBulk.
func (s *Store) CreatePeople(ctx context.Context, in []directory.NewPerson) ([]identity.Person, error) {
	out := make([]identity.Person, len(in))
	byEmp := make(map[string]int, len(in))
	where := func(i int) string { return fmt.Sprintf("person %d (employee ID %q)", i+1, out[i].EmployeeID) }
	for i, np := range in {
		p := np.Person
		p.Normalize()
		p.ID = newID()
		out[i] = p
		if j, dup := byEmp[p.EmployeeID]; dup {
			return nil, fmt.Errorf("%s: also %s: %w", where(i), where(j),
				&identity.ConflictError{Kind: "person", Field: "employee_id", Value: p.EmployeeID})
		}
		byEmp[p.EmployeeID] = i
	}
	err := s.write(ctx, func(tx *Store) error {
		if err := tx.resolveManagers(ctx, in, out, byEmp, where); err != nil {
			return err
		}
		for i := range out {
			if err := out[i].Validate(); err != nil {
				return fmt.Errorf("%s: %w", where(i), err)
			}
		}
		if err := batchCycles(out, where); err != nil {
			return err
		}
		if err := tx.checkUnits(ctx, out, where); err != nil {
			return err
		}
		now := tx.now()
		rows := make([]personRow, len(out))
		recs := make([]identity.AuditRecord, len(out))
		for i := range out {
			out[i].Version, out[i].CreatedAt, out[i].UpdatedAt = 1, now, now
			rows[i] = toPersonRow(out[i])
			after, err := marshalAudit(out[i])
			if err != nil {
				return err
			}
			recs[i] = identity.AuditRecord{Action: "person.create", Target: "person:" + out[i].ID, After: after, Reason: in[i].Reason}
		}
		if err := tx.db.WithContext(ctx).CreateInBatches(rows, bulkRows).Error; err != nil {
			return conflict(err, "person", nil)
		}
		return tx.appendAudits(ctx, recs)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// resolveManagers turns ManagerEmployeeID into person IDs: first within the batch, then with
// one query per chunk of employee IDs for managers already in the directory.
func (s *Store) resolveManagers(ctx context.Context, in []directory.NewPerson, out []identity.Person, byEmp map[string]int, where func(int) string) error {
	var outside []string
	seen := map[string]bool{}
	for i, np := range in {
		m := np.ManagerEmployeeID
		if m == "" {
			continue
		}
		if j, ok := byEmp[m]; ok {
			out[i].ManagerID = out[j].ID
		} else if !seen[m] {
			seen[m] = true
			outside = append(outside, m)
		}
	}
	known := map[string]string{}
	for chunk := range slices.Chunk(outside, bulkRows) {
		var rows []personRow
		if err := s.db.WithContext(ctx).Select("id", "employee_id").Where("employee_id IN ?", chunk).Find(&rows).Error; err != nil {
			return fmt.Errorf("resolve managers: %w", err)
		}
		for _, r := range rows {
			known[r.EmployeeID] = r.ID
		}
	}
	var direct []string
	for i, np := range in {
		if m := np.ManagerEmployeeID; m != "" && out[i].ManagerID == "" {
			id, ok := known[m]
			if !ok {
				return fmt.Errorf("%s: %w", where(i), &identity.FieldError{Field: "manager_id", Reason: fmt.Sprintf("no person with employee ID %q", m)})
			}
			out[i].ManagerID = id
		} else if np.ManagerEmployeeID == "" && out[i].ManagerID != "" {
			direct = append(direct, out[i].ManagerID)
		}
	}
	// Managers given by ID must exist too.
	for chunk := range slices.Chunk(direct, bulkRows) {
		var n int64
		if err := s.db.WithContext(ctx).Model(&personRow{}).Where("id IN ?", chunk).Count(&n).Error; err != nil {
			return err
		}
		if int(n) != len(slices.Compact(slices.Sorted(slices.Values(chunk)))) {
			return &identity.FieldError{Field: "manager_id", Reason: "a manager_id names no person"}
		}
	}
	return nil
}

// batchCycles rejects manager loops among the new people; people already stored cannot report
// to someone being created, so no loop can pass through them.
func batchCycles(out []identity.Person, where func(int) string) error {
	pos := make(map[string]int, len(out))
	for i, p := range out {
		pos[p.ID] = i
	}
	done := make([]bool, len(out))
	for i := range out {
		seen := map[int]bool{}
		for j, ok := i, true; ok && !done[j]; j, ok = pos[out[j].ManagerID] {
			if seen[j] {
				return fmt.Errorf("%s: %w", where(j), &identity.FieldError{Field: "manager_id", Reason: "manager cycle within the batch"})
			}
			seen[j] = true
		}
		for j := range seen {
			done[j] = true
		}
	}
	return nil
}

func (s *Store) checkUnits(ctx context.Context, out []identity.Person, where func(int) string) error {
	var ids []string
	seen := map[string]bool{}
	for _, p := range out {
		if p.OrgUnitID != "" && !seen[p.OrgUnitID] {
			seen[p.OrgUnitID] = true
			ids = append(ids, p.OrgUnitID)
		}
	}
	found := map[string]bool{}
	for chunk := range slices.Chunk(ids, bulkRows) {
		var rows []orgUnitRow
		if err := s.db.WithContext(ctx).Select("id").Where("id IN ?", chunk).Find(&rows).Error; err != nil {
			return fmt.Errorf("check org units: %w", err)
		}
		for _, r := range rows {
			found[r.ID] = true
		}
	}
	for i, p := range out {
		if p.OrgUnitID != "" && !found[p.OrgUnitID] {
			return fmt.Errorf("%s: %w", where(i), &identity.FieldError{Field: "org_unit", Reason: fmt.Sprintf("no org unit %q", p.OrgUnitID)})
		}
	}
	return nil
}

// CreateEvents stores many events in one transaction; see directory.HRBulk.
func (s *Store) CreateEvents(ctx context.Context, in []identity.Event) ([]identity.Event, error) {
	out := make([]identity.Event, len(in))
	for i, e := range in {
		e.ID = newID()
		if e.State == "" {
			e.State = identity.EventPending
		}
		if err := e.Validate(); err != nil {
			return nil, fmt.Errorf("event %d (%s %s): %w", i+1, e.Type, e.EmployeeID, err)
		}
		out[i] = e
	}
	err := s.write(ctx, func(tx *Store) error {
		now := tx.now()
		rows := make([]eventRow, len(out))
		recs := make([]identity.AuditRecord, len(out))
		for i := range out {
			out[i].CreatedAt = now
			rows[i] = toEventRow(out[i])
			out[i] = rows[i].event()
			after, err := marshalAudit(out[i])
			if err != nil {
				return err
			}
			recs[i] = identity.AuditRecord{Action: "event.create", Target: "event:" + out[i].ID, After: after}
		}
		if err := tx.db.WithContext(ctx).CreateInBatches(rows, bulkRows).Error; err != nil {
			return conflict(err, "event", nil)
		}
		return tx.appendAudits(ctx, recs)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// appendAudits appends records in order, reading the chain head once and keeping it in memory:
// the write lock held by the transaction means nobody else can extend the chain meanwhile.
func (s *Store) appendAudits(ctx context.Context, recs []identity.AuditRecord) error {
	if !s.inTx {
		panic("sqlstore: audit append outside a write transaction")
	}
	var last auditRow
	var prev *identity.AuditRecord
	err := s.db.WithContext(ctx).Order("seq DESC").Limit(1).Take(&last).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
	case err != nil:
		return fmt.Errorf("audit: read chain head: %w", err)
	default:
		p := last.record()
		prev = &p
	}
	actor, reason, now := audit.Actor(ctx), audit.Reason(ctx), s.now()
	rows := make([]auditRow, len(recs))
	for i, r := range recs {
		if r.Actor == "" {
			r.Actor = actor
		}
		if r.Reason == "" {
			r.Reason = reason
		}
		if r.Time.IsZero() {
			r.Time = now
		}
		r, err := audit.Normalize(r)
		if err != nil {
			return err
		}
		r = audit.Link(prev, r)
		prev = &r
		rows[i] = auditRow{Seq: r.Seq, Time: r.Time, Actor: r.Actor, Action: r.Action, Target: r.Target,
			Before: string(r.Before), After: string(r.After), Reason: r.Reason, PrevHash: r.PrevHash, Hash: r.Hash}
	}
	if err := s.db.WithContext(ctx).CreateInBatches(rows, bulkRows).Error; err != nil {
		return fmt.Errorf("audit: append: %w", err)
	}
	return nil
}
