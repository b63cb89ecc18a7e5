package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm/clause"

	"github.com/tenure-id/tenure/pkg/identity"
)

func (r groupRow) group() identity.Group {
	return identity.Group{ID: r.ID, Name: r.Name, Source: r.Source, ExternalID: r.ExternalID,
		Description: r.Description, CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt)}
}

// CreateGroup adds a group; Source defaults to "local".
func (s *Store) CreateGroup(ctx context.Context, g identity.Group) (identity.Group, error) {
	g.ID = newID()
	g.Name = strings.TrimSpace(g.Name)
	if g.Source == "" {
		g.Source = "local"
	}
	if err := g.Validate(); err != nil {
		return identity.Group{}, err
	}
	err := s.write(ctx, func(tx *Store) error {
		now := tx.now()
		g.CreatedAt, g.UpdatedAt = now, now
		row := groupRow{ID: g.ID, Name: g.Name, Source: g.Source, ExternalID: g.ExternalID,
			Description: g.Description, CreatedAt: now, UpdatedAt: now}
		if err := tx.db.WithContext(ctx).Create(&row).Error; err != nil {
			return conflict(err, "group", map[string]string{"name": g.Name})
		}
		return tx.audit(ctx, "group.create", "group:"+g.ID, nil, g)
	})
	if err != nil {
		return identity.Group{}, err
	}
	return g, nil
}

// GetGroup reads one group.
func (s *Store) GetGroup(ctx context.Context, id string) (identity.Group, error) {
	var row groupRow
	if err := s.read(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return identity.Group{}, notFound(err, "group", id)
	}
	return row.group(), nil
}

// ListGroups returns every group by source and name.
func (s *Store) ListGroups(ctx context.Context) ([]identity.Group, error) {
	var rows []groupRow
	if err := s.read(ctx).Order("source, name").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	out := make([]identity.Group, len(rows))
	for i, r := range rows {
		out[i] = r.group()
	}
	return out, nil
}

// DeleteGroup removes a group and its memberships.
func (s *Store) DeleteGroup(ctx context.Context, id string) error {
	return s.write(ctx, func(tx *Store) error {
		g, err := tx.GetGroup(ctx, id)
		if err != nil {
			return err
		}
		db := tx.db.WithContext(ctx)
		if err := db.Where("group_id = ?", id).Delete(&groupMemberRow{}).Error; err != nil {
			return err
		}
		if err := db.Where("id = ?", id).Delete(&groupRow{}).Error; err != nil {
			return err
		}
		return tx.audit(ctx, "group.delete", "group:"+id, g, nil)
	})
}

type membership struct {
	Group  string `json:"group"`
	Person string `json:"person"`
}

// AddGroupMember adds a person to a group; a second add changes and records nothing.
func (s *Store) AddGroupMember(ctx context.Context, groupID, personID string) error {
	return s.write(ctx, func(tx *Store) error {
		if err := tx.checkMember(ctx, groupID, personID); err != nil {
			return err
		}
		res := tx.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).
			Create(&groupMemberRow{GroupID: groupID, PersonID: personID, CreatedAt: tx.now()})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		return tx.audit(ctx, "group.add_member", "group:"+groupID, nil, membership{groupID, personID})
	})
}

// RemoveGroupMember removes a person from a group; removing a non-member changes nothing.
func (s *Store) RemoveGroupMember(ctx context.Context, groupID, personID string) error {
	return s.write(ctx, func(tx *Store) error {
		if err := tx.checkMember(ctx, groupID, personID); err != nil {
			return err
		}
		res := tx.db.WithContext(ctx).Where("group_id = ? AND person_id = ?", groupID, personID).Delete(&groupMemberRow{})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		return tx.audit(ctx, "group.remove_member", "group:"+groupID, membership{groupID, personID}, nil)
	})
}

func (s *Store) checkMember(ctx context.Context, groupID, personID string) error {
	if _, err := s.GetGroup(ctx, groupID); err != nil {
		return err
	}
	_, err := s.GetPerson(ctx, personID)
	return err
}

// GroupMembers returns the group's members by employee ID.
func (s *Store) GroupMembers(ctx context.Context, groupID string) ([]identity.Person, error) {
	if _, err := s.GetGroup(ctx, groupID); err != nil {
		return nil, err
	}
	var rows []personRow
	err := s.read(ctx).Where("id IN (?)", s.read(ctx).Model(&groupMemberRow{}).Select("person_id").Where("group_id = ?", groupID)).
		Order("employee_id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("members of group %s: %w", groupID, err)
	}
	return peopleFromRows(rows)
}

// PersonGroups returns the groups a person belongs to.
func (s *Store) PersonGroups(ctx context.Context, personID string) ([]identity.Group, error) {
	if _, err := s.GetPerson(ctx, personID); err != nil {
		return nil, err
	}
	var rows []groupRow
	err := s.read(ctx).Where("id IN (?)", s.read(ctx).Model(&groupMemberRow{}).Select("group_id").Where("person_id = ?", personID)).
		Order("source, name").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("groups of person %s: %w", personID, err)
	}
	out := make([]identity.Group, len(rows))
	for i, r := range rows {
		out[i] = r.group()
	}
	return out, nil
}
