package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// purgeAudit is the one record a purge run leaves: counts and cutoffs, no identifiers (the
// rows' creation records name them).
type purgeAudit struct {
	directory.AuthnPurged
	Now            time.Time  `json:"now"`
	IdleBefore     *time.Time `json:"idle_before,omitempty"`
	ThrottleBefore *time.Time `json:"throttle_before,omitempty"`
}

func nonZero(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := utc(t)
	return &u
}

// PurgeAuthn removes dead sign-in rows; see directory.Authn.
func (s *Store) PurgeAuthn(ctx context.Context, p directory.AuthnPurge) (directory.AuthnPurged, error) {
	var out directory.AuthnPurged
	if p.Now.IsZero() {
		return out, &identity.FieldError{Field: "now", Reason: "required"}
	}
	now := utc(p.Now)
	err := s.write(ctx, func(tx *Store) error {
		db := tx.db.WithContext(ctx)
		sessions := db.Where("expires_at <= ?", now)
		if !p.IdleBefore.IsZero() {
			sessions = db.Where("expires_at <= ? OR last_seen <= ?", now, utc(p.IdleBefore))
		}
		res := sessions.Delete(&authSessionRow{})
		if res.Error != nil {
			return fmt.Errorf("purge sessions: %w", res.Error)
		}
		out.Sessions = int(res.RowsAffected)
		// Sessions go here without DeleteAuthSession, so their participants are collected as
		// the rows whose session no longer exists (which also catches any left behind).
		res = db.Where("session_id NOT IN (?)", tx.db.Model(&authSessionRow{}).Select("id")).Delete(&samlParticipantRow{})
		if res.Error != nil {
			return fmt.Errorf("purge session participants: %w", res.Error)
		}
		out.SAMLParticipants = int(res.RowsAffected)
		res = db.Where("used_at IS NOT NULL OR expires_at <= ?", now).Delete(&activationRow{})
		if res.Error != nil {
			return fmt.Errorf("purge activation links: %w", res.Error)
		}
		out.Activations = int(res.RowsAffected)
		if !p.ThrottleBefore.IsZero() {
			res = db.Where("last_failure <= ? AND locked_until <= ?", utc(p.ThrottleBefore), now).Delete(&throttleRow{})
			if res.Error != nil {
				return fmt.Errorf("purge throttle counters: %w", res.Error)
			}
			out.Throttle = int(res.RowsAffected)
		}
		res = db.Where("expires_at <= ?", now).Delete(&samlParkedRow{})
		if res.Error != nil {
			return fmt.Errorf("purge parked requests: %w", res.Error)
		}
		out.SAMLRequests = int(res.RowsAffected)
		res = db.Where("expires_at <= ?", now).Delete(&samlReplayRow{})
		if res.Error != nil {
			return fmt.Errorf("purge replay marks: %w", res.Error)
		}
		out.SAMLReplays = int(res.RowsAffected)
		if out.Sessions+out.Activations == 0 {
			return nil
		}
		return tx.audit(ctx, "authn.purge", "authn:expired", nil,
			purgeAudit{AuthnPurged: out, Now: now, IdleBefore: nonZero(p.IdleBefore), ThrottleBefore: nonZero(p.ThrottleBefore)})
	})
	if err != nil {
		return directory.AuthnPurged{}, err
	}
	return out, nil
}
