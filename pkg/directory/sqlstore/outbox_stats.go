package sqlstore

import (
	"context"
	"fmt"

	"github.com/tenure-id/tenure/pkg/directory"
)

// OutboxStats counts ops by app and state, with the enqueue time of each app's oldest pending
// op: what a metrics scrape reads. The counts come from the claim index; the oldest op is one
// indexed row per app with pending ops.
func (s *Store) OutboxStats(ctx context.Context) ([]directory.OutboxStat, error) {
	var rows []struct {
		App   string
		State string
		N     int
	}
	db := s.read(ctx)
	if err := db.Model(&outboxRow{}).Select("app, state, COUNT(*) AS n").Group("app, state").Order("app, state").
		Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("outbox stats: %w", err)
	}
	out := make([]directory.OutboxStat, len(rows))
	for i, r := range rows {
		out[i] = directory.OutboxStat{App: r.App, State: directory.OpState(r.State), Count: r.N}
		if out[i].State != directory.OpPending {
			continue
		}
		// One row per app rather than MIN(created_at): SQLite hands an aggregate of a time
		// column back as text, which the driver does not parse.
		var oldest outboxRow
		err := db.Select("created_at").Where("app = ? AND state = ?", r.App, r.State).Order("created_at, id").
			Limit(1).Take(&oldest).Error
		if err != nil {
			return nil, fmt.Errorf("outbox stats: oldest pending op of %s: %w", r.App, err)
		}
		out[i].Oldest = oldest.CreatedAt.UTC()
	}
	return out, nil
}
