package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/tenure-id/tenure/pkg/identity"
)

func (r appRow) app() (identity.App, error) {
	ents, err := fromJSON[[]identity.Entitlement](r.Entitlements)
	if err != nil {
		return identity.App{}, fmt.Errorf("app %s: entitlements: %w", r.Name, err)
	}
	return identity.App{ID: r.ID, Name: r.Name, Connector: r.Connector, Entitlements: ents,
		CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt)}, nil
}

// PutApp creates the app or replaces the one with the same name, keeping its ID.
func (s *Store) PutApp(ctx context.Context, a identity.App) (identity.App, error) {
	a.Name = strings.TrimSpace(a.Name)
	if err := a.Validate(); err != nil {
		return identity.App{}, err
	}
	err := s.write(ctx, func(tx *Store) error {
		db := tx.db.WithContext(ctx)
		now := tx.now()
		before, err := tx.GetApp(ctx, a.Name)
		switch {
		case errors.Is(err, identity.ErrNotFound):
			a.ID, a.CreatedAt, a.UpdatedAt = newID(), now, now
			row := appRow{ID: a.ID, Name: a.Name, Connector: a.Connector, Entitlements: toJSON(a.Entitlements), CreatedAt: now, UpdatedAt: now}
			if err := db.Create(&row).Error; err != nil {
				return conflict(err, "app", map[string]string{"name": a.Name})
			}
			return tx.audit(ctx, "app.create", "app:"+a.Name, nil, a)
		case err != nil:
			return err
		}
		a.ID, a.CreatedAt, a.UpdatedAt = before.ID, before.CreatedAt, now
		err = db.Model(&appRow{}).Where("id = ?", a.ID).
			Updates(map[string]any{"connector": a.Connector, "entitlements": toJSON(a.Entitlements), "updated_at": now}).Error
		if err != nil {
			return err
		}
		return tx.audit(ctx, "app.update", "app:"+a.Name, before, a)
	})
	if err != nil {
		return identity.App{}, err
	}
	return a, nil
}

// GetApp reads an app by name.
func (s *Store) GetApp(ctx context.Context, name string) (identity.App, error) {
	var row appRow
	if err := s.read(ctx).Where("name = ?", name).Take(&row).Error; err != nil {
		return identity.App{}, notFound(err, "app", name)
	}
	return row.app()
}

// ListApps returns the catalogue by name.
func (s *Store) ListApps(ctx context.Context) ([]identity.App, error) {
	var rows []appRow
	if err := s.read(ctx).Order("name").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list apps: %w", err)
	}
	out := make([]identity.App, len(rows))
	for i, r := range rows {
		a, err := r.app()
		if err != nil {
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

// DeleteApp removes an app from the catalogue.
func (s *Store) DeleteApp(ctx context.Context, name string) error {
	return s.write(ctx, func(tx *Store) error {
		a, err := tx.GetApp(ctx, name)
		if err != nil {
			return err
		}
		if err := tx.db.WithContext(ctx).Where("id = ?", a.ID).Delete(&appRow{}).Error; err != nil {
			return err
		}
		return tx.audit(ctx, "app.delete", "app:"+name, a, nil)
	})
}

// deleteOne deletes the rows matching where and reports ErrNotFound when there were none.
func deleteOne(db *gorm.DB, model any, kind, key, where string, args ...any) error {
	res := db.Where(where, args...).Delete(model)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return &identity.NotFoundError{Kind: kind, Key: key}
	}
	return nil
}
