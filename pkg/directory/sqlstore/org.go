package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/tenure-id/tenure/pkg/identity"
)

// subtreeIDs selects the IDs of a unit and everything below it; both SQLite and PostgreSQL
// run recursive CTEs, so the tree needs no extra path column kept in step.
const subtreeIDs = `WITH RECURSIVE sub(id) AS (
	SELECT id FROM org_units WHERE id = ?
	UNION SELECT o.id FROM org_units o JOIN sub ON o.parent_id = sub.id
) SELECT id FROM sub`

func toOrgRow(u identity.OrgUnit) orgUnitRow {
	return orgUnitRow{ID: u.ID, Name: u.Name, Kind: string(u.Kind), ParentID: u.ParentID, Code: u.Code,
		Version: u.Version, CreatedAt: utc(u.CreatedAt), UpdatedAt: utc(u.UpdatedAt)}
}

func (r orgUnitRow) unit() identity.OrgUnit {
	return identity.OrgUnit{ID: r.ID, Name: r.Name, Kind: identity.OrgUnitKind(r.Kind), ParentID: r.ParentID,
		Code: r.Code, Version: r.Version, CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt)}
}

// CreateOrgUnit adds a unit under an existing parent of a higher level.
func (s *Store) CreateOrgUnit(ctx context.Context, u identity.OrgUnit) (identity.OrgUnit, error) {
	u.ID = newID()
	if err := u.Validate(); err != nil {
		return identity.OrgUnit{}, err
	}
	err := s.write(ctx, func(tx *Store) error {
		if err := tx.checkParent(ctx, u); err != nil {
			return err
		}
		now := tx.now()
		u.Version, u.CreatedAt, u.UpdatedAt = 1, now, now
		row := toOrgRow(u)
		if err := tx.db.WithContext(ctx).Create(&row).Error; err != nil {
			return conflict(err, "org unit", map[string]string{"name": u.Name})
		}
		return tx.audit(ctx, "org_unit.create", "org_unit:"+u.ID, nil, u)
	})
	if err != nil {
		return identity.OrgUnit{}, err
	}
	return u, nil
}

func (s *Store) checkParent(ctx context.Context, u identity.OrgUnit) error {
	if u.ParentID == "" {
		return nil
	}
	parent, err := s.GetOrgUnit(ctx, u.ParentID)
	if errors.Is(err, identity.ErrNotFound) {
		return &identity.FieldError{Field: "parent_id", Reason: fmt.Sprintf("no org unit %q", u.ParentID)}
	}
	if err != nil {
		return err
	}
	if !identity.ValidParent(parent.Kind, u.Kind) {
		return &identity.FieldError{Field: "parent_id",
			Reason: fmt.Sprintf("a %s cannot sit under %s %q", u.Kind, parent.Kind, parent.Name)}
	}
	return nil
}

// GetOrgUnit reads one unit.
func (s *Store) GetOrgUnit(ctx context.Context, id string) (identity.OrgUnit, error) {
	var row orgUnitRow
	if err := s.read(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return identity.OrgUnit{}, notFound(err, "org unit", id)
	}
	return row.unit(), nil
}

// ListOrgUnits returns the whole tree, parents before children, siblings by name.
func (s *Store) ListOrgUnits(ctx context.Context) ([]identity.OrgUnit, error) {
	var rows []orgUnitRow
	if err := s.read(ctx).Order("name").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list org units: %w", err)
	}
	return treeOrder(rows, ""), nil
}

// treeOrder sorts units depth-first from the units whose parent is root ("" for the whole
// forest); units unreachable from root are left out.
func treeOrder(rows []orgUnitRow, root string) []identity.OrgUnit {
	children := map[string][]orgUnitRow{}
	for _, r := range rows {
		children[r.ParentID] = append(children[r.ParentID], r)
	}
	out := make([]identity.OrgUnit, 0, len(rows))
	var walk func(parent string)
	walk = func(parent string) {
		for _, r := range children[parent] {
			out = append(out, r.unit())
			walk(r.ID)
		}
	}
	walk(root)
	return out
}

// OrgSubtree returns the unit and every unit below it, parents first.
func (s *Store) OrgSubtree(ctx context.Context, id string) ([]identity.OrgUnit, error) {
	top, err := s.GetOrgUnit(ctx, id)
	if err != nil {
		return nil, err
	}
	var rows []orgUnitRow
	if err := s.read(ctx).Where("id IN ("+subtreeIDs+")", id).Order("name").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("org subtree %s: %w", id, err)
	}
	return append([]identity.OrgUnit{top}, treeOrder(rows, id)...), nil
}

// OrgAncestors returns the unit's ancestors, root first.
func (s *Store) OrgAncestors(ctx context.Context, id string) ([]identity.OrgUnit, error) {
	u, err := s.GetOrgUnit(ctx, id)
	if err != nil {
		return nil, err
	}
	var up []identity.OrgUnit
	for p := u.ParentID; p != ""; {
		if len(up) >= maxChain {
			return nil, fmt.Errorf("org unit %s: ancestors loop", id)
		}
		parent, err := s.GetOrgUnit(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("ancestors of org unit %s: %w", id, err)
		}
		up = append(up, parent)
		p = parent.ParentID
	}
	for i, j := 0, len(up)-1; i < j; i, j = i+1, j-1 {
		up[i], up[j] = up[j], up[i]
	}
	return up, nil
}

// UpdateOrgUnit changes one unit in a transaction; a move under its own subtree is refused.
func (s *Store) UpdateOrgUnit(ctx context.Context, id string, fn func(*identity.OrgUnit) error) (identity.OrgUnit, error) {
	var out identity.OrgUnit
	err := s.write(ctx, func(tx *Store) error {
		before, err := tx.GetOrgUnit(ctx, id)
		if err != nil {
			return err
		}
		next := before
		if err := fn(&next); err != nil {
			return err
		}
		next.ID, next.Version, next.CreatedAt = before.ID, before.Version, before.CreatedAt
		if err := next.Validate(); err != nil {
			return err
		}
		if next.ParentID != before.ParentID || next.Kind != before.Kind {
			if err := tx.checkMove(ctx, next); err != nil {
				return err
			}
		}
		next.Version++
		next.UpdatedAt = tx.now()
		row := toOrgRow(next)
		res := tx.db.WithContext(ctx).Model(&orgUnitRow{}).Where("id = ? AND version = ?", id, before.Version).
			Select("*").Omit("id", "created_at").Updates(&row)
		if res.Error != nil {
			return conflict(res.Error, "org unit", map[string]string{"name": next.Name})
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("update org unit %s: %w", id, identity.ErrStale)
		}
		out = next
		return tx.audit(ctx, "org_unit.update", "org_unit:"+id, before, next)
	})
	if err != nil {
		return identity.OrgUnit{}, err
	}
	return out, nil
}

// checkMove keeps the tree a tree with levels descending: the new parent must exist, be of a
// higher level, and not lie below the unit; the unit's children must stay below its level.
func (s *Store) checkMove(ctx context.Context, u identity.OrgUnit) error {
	if err := s.checkParent(ctx, u); err != nil {
		return err
	}
	sub, err := s.OrgSubtree(ctx, u.ID)
	if err != nil {
		return err
	}
	for _, d := range sub[1:] {
		if d.ID == u.ParentID {
			return &identity.FieldError{Field: "parent_id",
				Reason: fmt.Sprintf("%q lies below %q: moving there would make a cycle", d.Name, u.Name)}
		}
		if d.ParentID == u.ID && !identity.ValidParent(u.Kind, d.Kind) {
			return &identity.FieldError{Field: "kind",
				Reason: fmt.Sprintf("child %s %q cannot sit under a %s", d.Kind, d.Name, u.Kind)}
		}
	}
	return nil
}

// DeleteOrgUnit removes a unit that has no children and no people.
func (s *Store) DeleteOrgUnit(ctx context.Context, id string) error {
	return s.write(ctx, func(tx *Store) error {
		u, err := tx.GetOrgUnit(ctx, id)
		if err != nil {
			return err
		}
		db := tx.db.WithContext(ctx)
		var children, people int64
		if err := db.Model(&orgUnitRow{}).Where("parent_id = ?", id).Count(&children).Error; err != nil {
			return err
		}
		if err := db.Model(&personRow{}).Where("org_unit_id = ?", id).Count(&people).Error; err != nil {
			return err
		}
		if children > 0 || people > 0 {
			return fmt.Errorf("org unit %q still has %d units and %d people below it: %w", u.Name, children, people, identity.ErrConflict)
		}
		if err := db.Where("id = ?", id).Delete(&orgUnitRow{}).Error; err != nil {
			return err
		}
		return tx.audit(ctx, "org_unit.delete", "org_unit:"+id, u, nil)
	})
}
