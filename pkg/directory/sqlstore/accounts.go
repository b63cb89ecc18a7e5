package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

func toAccountRow(a identity.Account) accountRow {
	return accountRow{ID: a.ID, App: a.App, ExternalID: a.ExternalID, PersonID: a.PersonID, Username: a.Username,
		Email: a.Email, Status: string(a.Status), Memberships: toJSON(a.Memberships), Attributes: toJSON(a.Attributes),
		LastSeenAt: utcPtr(a.LastSeenAt), Version: a.Version, CreatedAt: utc(a.CreatedAt), UpdatedAt: utc(a.UpdatedAt)}
}

func (r accountRow) account() (identity.Account, error) {
	members, err := fromJSON[[]string](r.Memberships)
	if err != nil {
		return identity.Account{}, fmt.Errorf("account %s/%s: memberships: %w", r.App, r.ExternalID, err)
	}
	attrs, err := fromJSON[map[string]string](r.Attributes)
	if err != nil {
		return identity.Account{}, fmt.Errorf("account %s/%s: attributes: %w", r.App, r.ExternalID, err)
	}
	return identity.Account{ID: r.ID, App: r.App, ExternalID: r.ExternalID, PersonID: r.PersonID, Username: r.Username,
		Email: r.Email, Status: identity.AccountStatus(r.Status), Memberships: members, Attributes: attrs,
		LastSeenAt: utcPtr(r.LastSeenAt), Version: r.Version, CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt)}, nil
}

// PutAccount creates or replaces the account with the same app and external ID.
func (s *Store) PutAccount(ctx context.Context, a identity.Account) (identity.Account, error) {
	if err := a.Validate(); err != nil {
		return identity.Account{}, err
	}
	err := s.write(ctx, func(tx *Store) error {
		db := tx.db.WithContext(ctx)
		now := tx.now()
		before, err := tx.GetAccount(ctx, a.App, a.ExternalID)
		target := "account:" + a.App + "/" + a.ExternalID
		switch {
		case errors.Is(err, identity.ErrNotFound):
			a.ID, a.Version, a.CreatedAt, a.UpdatedAt = newID(), 1, now, now
			row := toAccountRow(a)
			if err := db.Create(&row).Error; err != nil {
				return conflict(err, "account", map[string]string{"external_id": a.ExternalID})
			}
			return tx.audit(ctx, "account.create", target, nil, a)
		case err != nil:
			return err
		}
		a.ID, a.Version, a.CreatedAt, a.UpdatedAt = before.ID, before.Version+1, before.CreatedAt, now
		row := toAccountRow(a)
		res := db.Model(&accountRow{}).Where("id = ? AND version = ?", a.ID, before.Version).
			Select("*").Omit("id", "created_at").Updates(&row)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("update account %s: %w", target, identity.ErrStale)
		}
		return tx.audit(ctx, "account.update", target, before, a)
	})
	if err != nil {
		return identity.Account{}, err
	}
	return a, nil
}

// GetAccount reads one account by app and the app's own ID.
func (s *Store) GetAccount(ctx context.Context, app, externalID string) (identity.Account, error) {
	var row accountRow
	if err := s.read(ctx).Where("app = ? AND external_id = ?", app, externalID).Take(&row).Error; err != nil {
		return identity.Account{}, notFound(err, "account", app+"/"+externalID)
	}
	return row.account()
}

// ListAccounts returns accounts by app and external ID.
func (s *Store) ListAccounts(ctx context.Context, f directory.AccountFilter) ([]identity.Account, error) {
	q := s.read(ctx)
	if f.App != "" {
		q = q.Where("app = ?", f.App)
	}
	if f.PersonID != "" {
		q = q.Where("person_id = ?", f.PersonID)
	}
	var rows []accountRow
	if err := q.Order("app, external_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	out := make([]identity.Account, len(rows))
	for i, r := range rows {
		a, err := r.account()
		if err != nil {
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

// DeleteAccount forgets an account (after the app deleted it).
func (s *Store) DeleteAccount(ctx context.Context, app, externalID string) error {
	return s.write(ctx, func(tx *Store) error {
		a, err := tx.GetAccount(ctx, app, externalID)
		if err != nil {
			return err
		}
		if err := tx.db.WithContext(ctx).Where("id = ?", a.ID).Delete(&accountRow{}).Error; err != nil {
			return err
		}
		return tx.audit(ctx, "account.delete", "account:"+app+"/"+externalID, a, nil)
	})
}
