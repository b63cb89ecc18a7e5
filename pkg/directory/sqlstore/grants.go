package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

func (r grantRow) grant() identity.Grant {
	return identity.Grant{ID: r.ID, PersonID: r.PersonID, App: r.App, Entitlement: r.Entitlement, Role: r.Role,
		Source: identity.GrantSource(r.Source), Reason: r.Reason, Approver: r.Approver,
		GrantedAt: utc(r.GrantedAt), ExpiresAt: utcPtr(r.ExpiresAt)}
}

// CreateGrant records a decided grant for an existing person.
func (s *Store) CreateGrant(ctx context.Context, g identity.Grant) (identity.Grant, error) {
	g.ID = newID()
	if err := g.Validate(); err != nil {
		return identity.Grant{}, err
	}
	err := s.write(ctx, func(tx *Store) error {
		if _, err := tx.GetPerson(ctx, g.PersonID); errors.Is(err, identity.ErrNotFound) {
			return &identity.FieldError{Field: "person_id", Reason: fmt.Sprintf("no person %q", g.PersonID)}
		} else if err != nil {
			return err
		}
		if g.GrantedAt.IsZero() {
			g.GrantedAt = tx.now()
		}
		g.GrantedAt, g.ExpiresAt = utc(g.GrantedAt), utcPtr(g.ExpiresAt)
		row := grantRow{ID: g.ID, PersonID: g.PersonID, App: g.App, Entitlement: g.Entitlement, Role: g.Role,
			Source: string(g.Source), Reason: g.Reason, Approver: g.Approver, GrantedAt: g.GrantedAt, ExpiresAt: g.ExpiresAt}
		if err := tx.db.WithContext(ctx).Create(&row).Error; err != nil {
			return err
		}
		return tx.audit(ctx, "grant.create", "person:"+g.PersonID, nil, g)
	})
	if err != nil {
		return identity.Grant{}, err
	}
	return g, nil
}

// ListGrants returns grants by app, entitlement and time granted.
func (s *Store) ListGrants(ctx context.Context, f directory.GrantFilter) ([]identity.Grant, error) {
	q := s.read(ctx)
	if f.ID != "" {
		q = q.Where("id = ?", f.ID)
	}
	if f.PersonID != "" {
		q = q.Where("person_id = ?", f.PersonID)
	}
	if f.App != "" {
		q = q.Where("app = ?", f.App)
	}
	if f.Source != "" {
		q = q.Where("source = ?", f.Source)
	}
	var rows []grantRow
	if err := q.Order("app, entitlement, granted_at, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	out := make([]identity.Grant, len(rows))
	for i, r := range rows {
		out[i] = r.grant()
	}
	return out, nil
}

// DeleteGrant removes one grant.
func (s *Store) DeleteGrant(ctx context.Context, id string) error {
	return s.write(ctx, func(tx *Store) error {
		var row grantRow
		if err := tx.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
			return notFound(err, "grant", id)
		}
		if err := deleteOne(tx.db.WithContext(ctx), &grantRow{}, "grant", id, "id = ?", id); err != nil {
			return err
		}
		return tx.audit(ctx, "grant.delete", "person:"+row.PersonID, row.grant(), nil)
	})
}
