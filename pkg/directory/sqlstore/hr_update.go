package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// updatePersonSQL writes every column but id and created_at, as UpdatePerson's gorm update
// does, without gorm's per-row reflection; the version in the WHERE clause is the stale check.
const updatePersonSQL = `UPDATE people SET employee_id = ?, legal_first_name = ?, legal_last_name = ?,
preferred_name = ?, username = ?, work_email = ?, personal_email = ?, employment_type = ?, status = ?, job_title = ?,
job_code = ?, org_unit_id = ?, manager_id = ?, location = ?, country = ?, cost_center = ?, start_date = ?,
end_date = ?, attributes = ?, version = ?, updated_at = ? WHERE id = ? AND version = ?`

// UpdatePeople stores many changed people in one transaction; see directory.HRBulk. The people
// are read once for the audit records' before, references are checked with one query per chunk,
// and the audit records are appended together with the chain head kept in memory.
func (s *Store) UpdatePeople(ctx context.Context, in []directory.PersonUpdate) ([]identity.Person, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]identity.Person, len(in))
	where := func(i int) string {
		return fmt.Sprintf("update %d (person %s, employee ID %q)", i+1, in[i].Person.ID, in[i].Person.EmployeeID)
	}
	err := s.write(ctx, func(tx *Store) error {
		cur, err := tx.peopleByID(ctx, in)
		if err != nil {
			return err
		}
		befores := make([]identity.Person, len(in))
		var moved []int // updates that change an org unit or a manager: their references are checked
		now := tx.now()
		for i, u := range in {
			before, ok := cur[u.Person.ID]
			if !ok {
				return fmt.Errorf("%s: %w", where(i), &identity.NotFoundError{Kind: "person", Key: u.Person.ID})
			}
			if before.Version != u.Person.Version {
				return fmt.Errorf("%s: computed from version %d, stored is %d: %w", where(i), u.Person.Version, before.Version, identity.ErrStale)
			}
			next := u.Person
			next.Attributes = cloneMap(u.Person.Attributes)
			next.ID, next.Version, next.CreatedAt = before.ID, before.Version, before.CreatedAt
			next.Normalize()
			if err := next.Validate(); err != nil {
				return fmt.Errorf("%s: %w", where(i), err)
			}
			if next.OrgUnitID != before.OrgUnitID || next.ManagerID != before.ManagerID {
				moved = append(moved, i)
			}
			next.Version++
			next.UpdatedAt = now
			befores[i], out[i], cur[next.ID] = before, next, next
		}
		if err := tx.checkMoved(ctx, out, moved, cur, where); err != nil {
			return err
		}
		recs := make([]identity.AuditRecord, len(in))
		for i, next := range out {
			r := toPersonRow(next)
			res := tx.db.WithContext(ctx).Exec(updatePersonSQL, r.EmployeeID, r.LegalFirstName, r.LegalLastName,
				r.PreferredName, r.Username, r.WorkEmail, r.PersonalEmail, r.EmploymentType, r.Status, r.JobTitle,
				r.JobCode, r.OrgUnitID, r.ManagerID, r.Location, r.Country, r.CostCenter, r.StartDate, r.EndDate,
				r.Attributes, r.Version, r.UpdatedAt, r.ID, befores[i].Version)
			if res.Error != nil {
				return fmt.Errorf("%s: %w", where(i), conflict(res.Error, "person", personValues(next)))
			}
			if res.RowsAffected != 1 {
				return fmt.Errorf("%s: %w", where(i), identity.ErrStale)
			}
			before, err := marshalAudit(befores[i])
			if err != nil {
				return err
			}
			after, err := marshalAudit(next)
			if err != nil {
				return err
			}
			recs[i] = identity.AuditRecord{Action: "person.update", Target: "person:" + next.ID, Before: before, After: after,
				Reason: in[i].Reason}
		}
		return tx.appendAudits(ctx, recs)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// peopleByID reads the people the updates name, locking their rows on PostgreSQL.
func (s *Store) peopleByID(ctx context.Context, in []directory.PersonUpdate) (map[string]identity.Person, error) {
	ids := make([]string, 0, len(in))
	for _, u := range in {
		ids = append(ids, u.Person.ID)
	}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	out := make(map[string]identity.Person, len(ids))
	for chunk := range slices.Chunk(ids, bulkRows) {
		var rows []personRow
		if err := s.lockRow(s.db.WithContext(ctx)).Where("id IN ?", chunk).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("read people to update: %w", err)
		}
		for _, r := range rows {
			p, err := r.person()
			if err != nil {
				return nil, err
			}
			out[p.ID] = p
		}
	}
	return out, nil
}

// checkMoved checks, for the updates in moved, that org units and managers exist and that no
// manager chain loops once every update is applied. Chains are walked level by level, one
// query per chunk of managers not yet known, with the batch's new managers taking precedence.
func (s *Store) checkMoved(ctx context.Context, out []identity.Person, moved []int, cur map[string]identity.Person, where func(int) string) error {
	if len(moved) == 0 {
		return nil
	}
	people := make([]identity.Person, len(moved))
	for k, i := range moved {
		people[k] = out[i]
	}
	if err := s.checkUnits(ctx, people, func(k int) string { return where(moved[k]) }); err != nil {
		return err
	}
	managerOf := make(map[string]string, len(cur))
	for id, p := range cur {
		managerOf[id] = p.ManagerID
	}
	missing, visited := map[string]bool{}, map[string]bool{}
	var frontier []string
	for _, p := range people {
		frontier = append(frontier, p.ManagerID)
	}
	// visited bounds the walk: each person is expanded once, whatever loops the data holds.
	for len(frontier) > 0 {
		var ask, next []string
		for _, id := range frontier {
			if id == "" || visited[id] {
				continue
			}
			visited[id] = true
			if m, known := managerOf[id]; known {
				next = append(next, m)
			} else {
				ask = append(ask, id)
			}
		}
		found := map[string]bool{}
		for chunk := range slices.Chunk(ask, bulkRows) {
			var rows []personRow
			if err := s.db.WithContext(ctx).Select("id", "manager_id").Where("id IN ?", chunk).Find(&rows).Error; err != nil {
				return fmt.Errorf("check managers: %w", err)
			}
			for _, r := range rows {
				managerOf[r.ID], found[r.ID] = r.ManagerID, true
			}
		}
		for _, id := range ask {
			if found[id] {
				next = append(next, managerOf[id])
			} else {
				missing[id] = true
			}
		}
		frontier = next
	}
	for _, i := range moved {
		p := out[i]
		if p.ManagerID == "" {
			continue
		}
		if missing[p.ManagerID] {
			return fmt.Errorf("%s: %w", where(i), &identity.FieldError{Field: "manager_id", Reason: fmt.Sprintf("no person %q", p.ManagerID)})
		}
		seen := map[string]bool{}
		for m := p.ManagerID; m != ""; m = managerOf[m] {
			if m == p.ID {
				return fmt.Errorf("%s: %w", where(i), &identity.FieldError{Field: "manager_id",
					Reason: fmt.Sprintf("%s reports to %s already, directly or not: that would be a cycle", p.ManagerID, p.ID)})
			}
			if seen[m] || len(seen) >= maxChain {
				return fmt.Errorf("%s: manager chain loops at %s", where(i), m)
			}
			seen[m] = true
		}
	}
	return nil
}

// allPeopleSQL names personRow's columns in the order AllPeople scans them.
const allPeopleSQL = `SELECT id, employee_id, legal_first_name, legal_last_name, preferred_name, username, work_email,
personal_email, employment_type, status, job_title, job_code, org_unit_id, manager_id, location, country, cost_center,
start_date, end_date, attributes, version, created_at, updated_at FROM people ORDER BY employee_id`

// AllPeople returns every person ordered by employee ID, as ListPeople with no filter does,
// scanning the columns directly: gorm's reflection per row was most of the cost of reading a
// whole directory.
func (s *Store) AllPeople(ctx context.Context) ([]identity.Person, error) {
	var n int64
	if err := s.read(ctx).Model(&personRow{}).Count(&n).Error; err != nil {
		return nil, fmt.Errorf("list people: %w", err)
	}
	rows, err := s.read(ctx).Raw(allPeopleSQL).Rows()
	if err != nil {
		return nil, fmt.Errorf("list people: %w", err)
	}
	defer rows.Close()
	out := make([]identity.Person, 0, n)
	for rows.Next() {
		var r personRow
		var attrs sql.NullString
		if err := rows.Scan(&r.ID, &r.EmployeeID, &r.LegalFirstName, &r.LegalLastName, &r.PreferredName, &r.Username,
			&r.WorkEmail, &r.PersonalEmail, &r.EmploymentType, &r.Status, &r.JobTitle, &r.JobCode, &r.OrgUnitID,
			&r.ManagerID, &r.Location, &r.Country, &r.CostCenter, &r.StartDate, &r.EndDate, &attrs, &r.Version,
			&r.CreatedAt, &r.UpdatedAt); err != nil {
			return nil, fmt.Errorf("list people: %w", err)
		}
		r.Attributes = attrs.String
		p, err := r.person()
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list people: %w", err)
	}
	return out, nil
}
