package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// maxChain bounds manager-chain walks; a real org is far shallower, and the bound turns a
// corrupted cycle into an error instead of a hang.
const maxChain = 64

// CreatePerson stores a new person; see directory.People.
func (s *Store) CreatePerson(ctx context.Context, p identity.Person) (identity.Person, error) {
	p.Normalize()
	p.ID = newID()
	if err := p.Validate(); err != nil {
		return identity.Person{}, err
	}
	err := s.write(ctx, func(tx *Store) error {
		if err := tx.checkPersonRefs(ctx, p); err != nil {
			return err
		}
		now := tx.now()
		p.Version, p.CreatedAt, p.UpdatedAt = 1, now, now
		row := toPersonRow(p)
		if err := tx.db.WithContext(ctx).Create(&row).Error; err != nil {
			return conflict(err, "person", personValues(p))
		}
		return tx.audit(ctx, "person.create", "person:"+p.ID, nil, p)
	})
	if err != nil {
		return identity.Person{}, err
	}
	return p, nil
}

func personValues(p identity.Person) map[string]string {
	return map[string]string{"employee_id": p.EmployeeID, "username": p.Username, "work_email": p.WorkEmail}
}

// checkPersonRefs checks the org unit and manager exist, and that the manager chain stays
// acyclic. It runs inside the write transaction, so nothing can change under it.
func (s *Store) checkPersonRefs(ctx context.Context, p identity.Person) error {
	if p.OrgUnitID != "" {
		if _, err := s.GetOrgUnit(ctx, p.OrgUnitID); err != nil {
			if errors.Is(err, identity.ErrNotFound) {
				return &identity.FieldError{Field: "org_unit", Reason: fmt.Sprintf("no org unit %q", p.OrgUnitID)}
			}
			return err
		}
	}
	if p.ManagerID == "" {
		return nil
	}
	if _, err := s.GetPerson(ctx, p.ManagerID); err != nil {
		if errors.Is(err, identity.ErrNotFound) {
			return &identity.FieldError{Field: "manager_id", Reason: fmt.Sprintf("no person %q", p.ManagerID)}
		}
		return err
	}
	chain, err := s.ManagerChain(ctx, p.ManagerID)
	if err != nil {
		return err
	}
	for _, m := range chain {
		if m.ID == p.ID {
			return &identity.FieldError{Field: "manager_id",
				Reason: fmt.Sprintf("%s reports to %s already, directly or not: that would be a cycle", p.ManagerID, p.ID)}
		}
	}
	return nil
}

// GetPerson reads one person by Tenure ID.
func (s *Store) GetPerson(ctx context.Context, id string) (identity.Person, error) {
	return s.getPerson(s.read(ctx), id)
}

func (s *Store) getPerson(db *gorm.DB, id string) (identity.Person, error) {
	var row personRow
	if err := db.Where("id = ?", id).Take(&row).Error; err != nil {
		return identity.Person{}, notFound(err, "person", id)
	}
	return row.person()
}

// LookupPerson finds a person by any of their keys; see directory.People.
func (s *Store) LookupPerson(ctx context.Context, key string) (identity.Person, error) {
	key = strings.TrimSpace(key)
	lower := strings.ToLower(key)
	var rows []personRow
	err := s.read(ctx).Where("id = ? OR employee_id = ? OR username = ? OR work_email = ?", key, key, lower, lower).
		Limit(3).Find(&rows).Error
	switch {
	case err != nil:
		return identity.Person{}, fmt.Errorf("look up person %q: %w", key, err)
	case len(rows) == 0:
		return identity.Person{}, &identity.NotFoundError{Kind: "person", Key: key}
	case len(rows) > 1:
		ids := make([]string, len(rows))
		for i, r := range rows {
			ids[i] = r.EmployeeID
		}
		return identity.Person{}, &identity.AmbiguousError{Kind: "person", Key: key, EmployeeID: ids}
	}
	return rows[0].person()
}

// ListPeople returns people ordered by employee ID; see directory.PersonFilter.
func (s *Store) ListPeople(ctx context.Context, f directory.PersonFilter) ([]identity.Person, error) {
	q := s.personQuery(ctx, f).Order("employee_id")
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	if f.Offset > 0 {
		q = q.Offset(f.Offset)
	}
	var rows []personRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list people: %w", err)
	}
	return peopleFromRows(rows)
}

// CountPeople counts the people ListPeople would return without Limit and Offset.
func (s *Store) CountPeople(ctx context.Context, f directory.PersonFilter) (int64, error) {
	var n int64
	if err := s.personQuery(ctx, f).Model(&personRow{}).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count people: %w", err)
	}
	return n, nil
}

func (s *Store) personQuery(ctx context.Context, f directory.PersonFilter) *gorm.DB {
	q := s.read(ctx).Model(&personRow{})
	if len(f.Statuses) > 0 {
		q = q.Where("status IN ?", f.Statuses)
	}
	if len(f.EmploymentTypes) > 0 {
		q = q.Where("employment_type IN ?", f.EmploymentTypes)
	}
	if f.ManagerID != "" {
		q = q.Where("manager_id = ?", f.ManagerID)
	}
	if f.OrgUnitID != "" {
		if f.Subtree {
			q = q.Where("org_unit_id IN ("+subtreeIDs+")", f.OrgUnitID)
		} else {
			q = q.Where("org_unit_id = ?", f.OrgUnitID)
		}
	}
	return q
}

func peopleFromRows(rows []personRow) ([]identity.Person, error) {
	out := make([]identity.Person, len(rows))
	for i, r := range rows {
		p, err := r.person()
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

// UpdatePerson changes one person in a transaction; see directory.People.
func (s *Store) UpdatePerson(ctx context.Context, id string, fn func(*identity.Person) error) (identity.Person, error) {
	var out identity.Person
	err := s.write(ctx, func(tx *Store) error {
		before, err := tx.getPerson(tx.lockRow(tx.db.WithContext(ctx)), id)
		if err != nil {
			return err
		}
		next := before
		next.Attributes = cloneMap(before.Attributes)
		if err := fn(&next); err != nil {
			return err
		}
		next.ID, next.Version, next.CreatedAt = before.ID, before.Version, before.CreatedAt
		next.Normalize()
		if err := next.Validate(); err != nil {
			return err
		}
		if next.OrgUnitID != before.OrgUnitID || next.ManagerID != before.ManagerID {
			if err := tx.checkPersonRefs(ctx, next); err != nil {
				return err
			}
		}
		next.Version++
		next.UpdatedAt = tx.now()
		row := toPersonRow(next)
		res := tx.db.WithContext(ctx).Model(&personRow{}).Where("id = ? AND version = ?", id, before.Version).
			Select("*").Omit("id", "created_at").Updates(&row)
		if res.Error != nil {
			return conflict(res.Error, "person", personValues(next))
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("update person %s: %w", id, identity.ErrStale)
		}
		out = next
		return tx.audit(ctx, "person.update", "person:"+id, before, next)
	})
	if err != nil {
		return identity.Person{}, err
	}
	return out, nil
}

// ManagerChain returns the person's managers, nearest first.
func (s *Store) ManagerChain(ctx context.Context, id string) ([]identity.Person, error) {
	p, err := s.GetPerson(ctx, id)
	if err != nil {
		return nil, err
	}
	var chain []identity.Person
	seen := map[string]bool{p.ID: true}
	for m := p.ManagerID; m != ""; {
		if seen[m] || len(chain) >= maxChain {
			return chain, fmt.Errorf("manager chain of %s loops at %s", p.EmployeeID, m)
		}
		seen[m] = true
		mgr, err := s.GetPerson(ctx, m)
		if err != nil {
			return chain, fmt.Errorf("manager chain of %s: %w", p.EmployeeID, err)
		}
		chain = append(chain, mgr)
		m = mgr.ManagerID
	}
	return chain, nil
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
