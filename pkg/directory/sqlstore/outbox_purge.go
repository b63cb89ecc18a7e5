package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// purgeBatch bounds one purge transaction, so a first purge of a long-running outbox holds the
// writers' lock for short turns rather than one long one.
const purgeBatch = 2000

// PurgeOps deletes done ops finished before doneBefore; see directory.Outbox.
func (s *Store) PurgeOps(ctx context.Context, doneBefore time.Time) (int, error) {
	if doneBefore.IsZero() {
		return 0, fmt.Errorf("purge outbox: %w", &identity.FieldError{Field: "done_before", Reason: "required"})
	}
	before := utc(doneBefore)
	total := 0
	for {
		n := 0
		err := s.write(ctx, func(tx *Store) error {
			db := tx.db.WithContext(ctx)
			var ids []int64
			if err := db.Model(&outboxRow{}).Where("state = ? AND updated_at < ?", string(directory.OpDone), before).
				Order("id").Limit(purgeBatch).Pluck("id", &ids).Error; err != nil {
				return fmt.Errorf("purge outbox: %w", err)
			}
			if len(ids) == 0 {
				return nil
			}
			res := db.Where("id IN ? AND state = ?", ids, string(directory.OpDone)).Delete(&outboxRow{})
			if res.Error != nil {
				return fmt.Errorf("purge outbox: %w", res.Error)
			}
			n = int(res.RowsAffected)
			return tx.audit(ctx, "provision.outbox_purge", "outbox", nil,
				map[string]any{"ops": n, "done_before": before, "first_id": ids[0], "last_id": ids[len(ids)-1]})
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < purgeBatch {
			return total, nil
		}
	}
}
