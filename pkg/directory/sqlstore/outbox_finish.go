package sqlstore

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// FinishOps records attempts; see directory.Outbox. A batch is written with few statements:
// one UPDATE for all its successes, one per app for failure counts, and one INSERT for the
// account records it creates, so workers can record thousands of results a second.
func (s *Store) FinishOps(ctx context.Context, owner string, results []directory.OutboxResult) ([]int64, error) {
	var stale []int64
	err := s.write(ctx, func(tx *Store) error {
		stale = stale[:0]
		db := tx.db.WithContext(ctx)
		ids := make([]int64, len(results))
		for i, r := range results {
			ids[i] = r.ID
		}
		rows := map[int64]outboxRow{}
		for chunk := range slices.Chunk(ids, bulkRows) {
			var got []outboxRow
			if err := db.Select("id", "app", "kind", "state", "lease_owner", "last_error", "next_attempt_at").
				Where("id IN ?", chunk).Find(&got).Error; err != nil {
				return fmt.Errorf("outbox: read leased ops: %w", err)
			}
			for _, r := range got {
				rows[r.ID] = r
			}
		}
		now := tx.now()
		var recs []identity.AuditRecord
		var done []int64
		var accounts []identity.Account
		apps := appCounts{}
		for _, res := range results {
			row, ok := rows[res.ID]
			if !ok || row.State != string(directory.OpRunning) || row.LeaseOwner != owner {
				stale = append(stale, res.ID)
				continue
			}
			if !slices.Contains([]directory.OpState{directory.OpDone, directory.OpPending, directory.OpFailed, directory.OpDead}, res.State) {
				return fmt.Errorf("outbox op %d: %w", res.ID, &identity.FieldError{Field: "state", Reason: fmt.Sprintf("%q is not a result", res.State)})
			}
			if res.Release && res.State != directory.OpPending {
				return fmt.Errorf("outbox op %d: %w", res.ID, &identity.FieldError{Field: "state", Reason: "a released op goes back to pending"})
			}
			row.State = "" // a repeated ID in one batch is stale the second time
			rows[res.ID] = row
			if res.State == directory.OpDone && res.Error == "" {
				done = append(done, row.ID)
			} else {
				next := row.NextAttemptAt
				if res.State == directory.OpPending {
					next = utc(res.NextAttemptAt)
				}
				set := map[string]any{"state": res.State, "last_error": res.Error, "next_attempt_at": next,
					"lease_owner": "", "lease_until": nil, "updated_at": now}
				if res.Release {
					set["attempts"] = gorm.Expr("attempts - 1")
					if res.Error == "" {
						set["last_error"] = row.LastError
					}
				}
				if err := db.Model(&outboxRow{}).Where("id = ?", row.ID).Updates(set).Error; err != nil {
					return fmt.Errorf("outbox op %d: %w", row.ID, err)
				}
			}
			if res.Release {
				continue
			}
			apps.note(row.App, res)
			if res.State == directory.OpDone && res.Account != nil {
				accounts = append(accounts, *res.Account)
			}
			if res.State == directory.OpPending {
				continue // the attempt is not an outcome yet
			}
			after, err := marshalAudit(res.Audit)
			if err != nil {
				return err
			}
			recs = append(recs, identity.AuditRecord{Action: "provision." + row.Kind + "." + string(res.State),
				Target: "outbox:" + strconv.FormatInt(row.ID, 10), After: after, Reason: res.Error})
		}
		for chunk := range slices.Chunk(done, bulkRows) {
			if err := db.Model(&outboxRow{}).Where("id IN ?", chunk).Updates(map[string]any{"state": directory.OpDone,
				"last_error": "", "lease_owner": "", "lease_until": nil, "updated_at": now}).Error; err != nil {
				return fmt.Errorf("outbox: record done ops: %w", err)
			}
		}
		if err := tx.saveAppCounts(ctx, apps, now); err != nil {
			return err
		}
		accRecs, err := tx.putAccounts(ctx, accounts)
		if err != nil {
			return err
		}
		recs = append(accRecs, recs...)
		if len(recs) == 0 {
			return nil
		}
		return tx.appendAudits(ctx, recs)
	})
	if err != nil {
		return nil, err
	}
	return stale, nil
}

// appCounts is how a batch of results moves each app's failure streak, in result order.
type appCounts map[string]*appCount

type appCount struct {
	reset bool // a success came in the batch
	// lead counts the failures before the batch's first success, which extend the stored
	// streak; failures those since its last success (lead when none came); longest the
	// longest run of failures after a success. A streak that reached the threshold quarantines
	// the app even if a success follows in the same batch (a request already in flight when
	// the app broke): the executor quarantined it on seeing the same results in order.
	lead, failures, longest int
	lastError               string
	threshold               int
}

func (c appCounts) note(app string, res directory.OutboxResult) {
	a := c[app]
	if a == nil {
		a = &appCount{}
		c[app] = a
	}
	if res.State == directory.OpDone {
		a.reset, a.failures = true, 0
		return
	}
	a.failures++
	if a.reset {
		a.longest = max(a.longest, a.failures)
	} else {
		a.lead++
	}
	a.lastError, a.threshold = res.Error, res.QuarantineAfter
}

// saveAppCounts writes the streaks, quarantining an app that reached its threshold.
func (s *Store) saveAppCounts(ctx context.Context, counts appCounts, now time.Time) error {
	db := s.db.WithContext(ctx)
	for _, app := range slices.Sorted(maps.Keys(counts)) {
		c := counts[app]
		var row outboxAppRow
		if err := db.Where("app = ?", app).Limit(1).Find(&row).Error; err != nil {
			return fmt.Errorf("outbox app %s: %w", app, err)
		}
		exists := row.App != ""
		run := max(row.Failures+c.lead, c.longest) // the longest streak the batch saw
		reached := c.threshold > 0 && run >= c.threshold
		if c.failures == 0 && !reached {
			if exists && row.Failures != 0 {
				if err := db.Model(&outboxAppRow{}).Where("app = ?", app).Updates(map[string]any{"failures": 0, "updated_at": now}).Error; err != nil {
					return err
				}
			}
			continue
		}
		if c.reset {
			row.Failures = c.failures
		} else {
			row.Failures += c.failures
		}
		row.App, row.LastError, row.UpdatedAt = app, c.lastError, now
		if row.QuarantinedAt == nil && reached {
			row.QuarantinedAt = &now
			after, _ := marshalAudit(map[string]any{"app": app, "consecutive_failures": run})
			if _, err := s.appendAudit(ctx, identity.AuditRecord{Action: "provision.quarantine", Target: "app:" + app,
				After: after, Reason: c.lastError}); err != nil {
				return err
			}
		}
		var err error
		if exists {
			err = db.Model(&outboxAppRow{}).Where("app = ?", app).Select("failures", "last_error", "quarantined_at", "updated_at").Updates(&row).Error
		} else {
			err = db.Create(&row).Error
		}
		if err != nil {
			return fmt.Errorf("outbox app %s: %w", app, err)
		}
	}
	return nil
}

// putAccounts records the accounts successful ops left, as PutAccount does, but inserts the
// new ones together and returns their audit records for the caller to append. An account
// already recorded, or named twice in the batch, goes through PutAccount.
func (s *Store) putAccounts(ctx context.Context, accounts []identity.Account) ([]identity.AuditRecord, error) {
	type key struct{ app, ext string }
	count := map[key]int{}
	byApp := map[string][]string{}
	for _, a := range accounts {
		if err := a.Validate(); err != nil {
			return nil, fmt.Errorf("account %s/%s: %w", a.App, a.ExternalID, err)
		}
		k := key{a.App, a.ExternalID}
		if count[k] == 0 {
			byApp[a.App] = append(byApp[a.App], a.ExternalID)
		}
		count[k]++
	}
	known := map[key]bool{}
	for app, exts := range byApp {
		for chunk := range slices.Chunk(exts, bulkRows) {
			var have []string
			if err := s.db.WithContext(ctx).Model(&accountRow{}).Where("app = ? AND external_id IN ?", app, chunk).
				Pluck("external_id", &have).Error; err != nil {
				return nil, fmt.Errorf("read account records: %w", err)
			}
			for _, ext := range have {
				known[key{app, ext}] = true
			}
		}
	}
	now := s.now()
	var rows []accountRow
	var recs []identity.AuditRecord
	for _, a := range accounts {
		k := key{a.App, a.ExternalID}
		if known[k] || count[k] > 1 {
			if _, err := s.PutAccount(ctx, a); err != nil {
				return nil, fmt.Errorf("account %s/%s: %w", a.App, a.ExternalID, err)
			}
			continue
		}
		a.ID, a.Version, a.CreatedAt, a.UpdatedAt = newID(), 1, now, now
		rows = append(rows, toAccountRow(a))
		after, err := marshalAudit(a)
		if err != nil {
			return nil, err
		}
		recs = append(recs, identity.AuditRecord{Action: "account.create", Target: "account:" + a.App + "/" + a.ExternalID, After: after})
	}
	if len(rows) > 0 {
		if err := s.db.WithContext(ctx).CreateInBatches(rows, bulkRows/4).Error; err != nil {
			return nil, conflict(err, "account", nil)
		}
	}
	return recs, nil
}
