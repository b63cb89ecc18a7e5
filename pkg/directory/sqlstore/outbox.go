package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// outboxRow is one provisioning operation. The claim index is in claim order within an app and
// state (urgent first, then oldest), so a claim reads as many rows as it takes however long the
// queue; the chain index serves the "no older op of this account is still open" check.
type outboxRow struct {
	ID            int64     `gorm:"primaryKey;autoIncrement;index:ix_outbox_ops_claim,priority:4"`
	Key           string    `gorm:"column:op_key;size:64;not null;index"`
	App           string    `gorm:"size:100;not null;index;index:ix_outbox_ops_claim,priority:1"`
	Kind          string    `gorm:"size:32;not null"`
	PersonID      string    `gorm:"size:36;index"`
	Chain         string    `gorm:"size:500;not null;index:ix_outbox_ops_chain,priority:1"`
	Urgent        bool      `gorm:"not null;index:ix_outbox_ops_claim,priority:3,sort:desc"`
	Payload       string    `gorm:"type:text;not null"`
	State         string    `gorm:"size:16;not null;index:ix_outbox_ops_claim,priority:2"`
	Attempts      int       `gorm:"not null"`
	NextAttemptAt time.Time `gorm:"not null"`
	LastError     string    `gorm:"type:text"`
	LeaseOwner    string    `gorm:"size:200"`
	LeaseUntil    *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time `gorm:"autoUpdateTime:false"`
}

func (outboxRow) TableName() string { return "outbox_ops" }

// outboxAppRow is an app's failure count and quarantine.
type outboxAppRow struct {
	App           string `gorm:"primaryKey;size:100"`
	Failures      int    `gorm:"not null"`
	QuarantinedAt *time.Time
	LastError     string    `gorm:"type:text"`
	UpdatedAt     time.Time `gorm:"autoUpdateTime:false"`
}

func (outboxAppRow) TableName() string { return "outbox_apps" }

func init() { registerModels(&outboxRow{}, &outboxAppRow{}) }

var _ directory.Outbox = (*Store)(nil)

func (r outboxRow) op() directory.OutboxOp {
	return directory.OutboxOp{ID: r.ID, Key: r.Key, App: r.App, Kind: r.Kind, PersonID: r.PersonID, Chain: r.Chain,
		Urgent: r.Urgent, Payload: json.RawMessage(r.Payload), State: directory.OpState(r.State), Attempts: r.Attempts,
		NextAttemptAt: utc(r.NextAttemptAt), LastError: r.LastError, LeaseOwner: r.LeaseOwner, LeaseUntil: utcPtr(r.LeaseUntil),
		CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt)}
}

func opsOf(rows []outboxRow) []directory.OutboxOp {
	out := make([]directory.OutboxOp, len(rows))
	for i, r := range rows {
		out[i] = r.op()
	}
	return out
}

// skipLocked lets PostgreSQL claimers pass over rows another claimer holds.
var skipLocked = clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"}

var openStates = []string{string(directory.OpPending), string(directory.OpRunning)}

// EnqueueOps stores new ops, keeping the one already open under each key; see directory.Outbox.
func (s *Store) EnqueueOps(ctx context.Context, ops []directory.OutboxOp) ([]directory.OutboxOp, error) {
	for i, op := range ops {
		field := ""
		switch {
		case op.Key == "":
			field = "key"
		case op.App == "":
			field = "app"
		case op.Kind == "":
			field = "kind"
		case len(op.Payload) == 0 || !json.Valid(op.Payload):
			field = "payload"
		}
		if field != "" {
			return nil, fmt.Errorf("outbox op %d: %w", i+1, &identity.FieldError{Field: field, Reason: "required (payload: valid JSON)"})
		}
	}
	out := make([]directory.OutboxOp, len(ops))
	err := s.write(ctx, func(tx *Store) error {
		db := tx.db.WithContext(ctx)
		open := map[string]directory.OutboxOp{}
		keys := make([]string, len(ops))
		for i, op := range ops {
			keys[i] = op.Key
		}
		for chunk := range slices.Chunk(keys, bulkRows) {
			var rows []outboxRow
			if err := db.Where("op_key IN ? AND state IN ?", chunk, openStates).Find(&rows).Error; err != nil {
				return fmt.Errorf("outbox: read open ops: %w", err)
			}
			for _, r := range rows {
				open[r.Key] = r.op()
			}
		}
		now := tx.now()
		var fresh []outboxRow
		var at []int
		for i, op := range ops {
			if o, ok := open[op.Key]; ok {
				out[i] = o
				continue
			}
			chain := op.Chain
			if chain == "" {
				chain = op.App + "/" + op.Key
			}
			next := now
			if !op.NextAttemptAt.IsZero() {
				next = utc(op.NextAttemptAt)
			}
			fresh = append(fresh, outboxRow{Key: op.Key, App: op.App, Kind: op.Kind, PersonID: op.PersonID, Chain: chain,
				Urgent: op.Urgent, Payload: string(op.Payload), State: string(directory.OpPending), NextAttemptAt: next,
				CreatedAt: now, UpdatedAt: now})
			at = append(at, i)
			open[op.Key] = directory.OutboxOp{} // a repeat within the batch is the same op
		}
		if len(fresh) > 0 {
			if err := db.CreateInBatches(fresh, bulkRows).Error; err != nil {
				return fmt.Errorf("outbox: store ops: %w", err)
			}
		}
		byKey := map[string]directory.OutboxOp{}
		for j, r := range fresh {
			out[at[j]] = r.op()
			byKey[r.Key] = out[at[j]]
		}
		for i := range out {
			if out[i].ID == 0 {
				out[i] = byKey[ops[i].Key]
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ClaimOps leases due ops; see directory.Outbox. On PostgreSQL it takes row locks with SKIP
// LOCKED outside the writers' lock, so replicas claim side by side; SQLite's single writer
// already makes the read-then-update atomic.
func (s *Store) ClaimOps(ctx context.Context, c directory.OutboxClaim) ([]directory.OutboxOp, error) {
	if c.Owner == "" || c.Limit <= 0 || c.Lease <= 0 {
		return nil, &identity.FieldError{Field: "claim", Reason: "owner, a positive limit and a positive lease are required"}
	}
	var rows []outboxRow
	// Two queries, so each walks the claim index in order and stops at its limit however many
	// ops are queued: expired leases first (work a crashed worker held), then pending ops.
	find := func(db *gorm.DB, state directory.OpState, due string, now time.Time, limit int) ([]int64, error) {
		q := db.Model(&outboxRow{}).Select("id").Where("state = ? AND "+due+" <= ?", state, now).
			Where("app NOT IN (?)", db.Session(&gorm.Session{NewDB: true}).Model(&outboxAppRow{}).Select("app").
				Where("quarantined_at IS NOT NULL")).
			Where("NOT EXISTS (SELECT 1 FROM outbox_ops o2 WHERE o2.chain = outbox_ops.chain AND o2.id < outbox_ops.id AND o2.state IN ?)", openStates)
		if len(c.Apps) > 0 {
			q = q.Where("app IN ?", c.Apps)
		}
		if len(c.Skip) > 0 {
			q = q.Where("app NOT IN ?", c.Skip)
		}
		if len(c.IDs) > 0 {
			q = q.Where("id IN ?", c.IDs)
		}
		if c.UrgentOnly {
			q = q.Where("urgent = ?", true)
		}
		q = q.Order("urgent DESC, id").Limit(limit)
		if s.kind == Postgres {
			q = q.Clauses(skipLocked)
		}
		var ids []int64
		if err := q.Find(&ids).Error; err != nil {
			return nil, fmt.Errorf("outbox: claim: %w", err)
		}
		return ids, nil
	}
	claim := func(db *gorm.DB, now time.Time) error {
		ids, err := find(db, directory.OpRunning, "lease_until", now, c.Limit)
		if err != nil {
			return err
		}
		if len(ids) < c.Limit {
			more, err := find(db, directory.OpPending, "next_attempt_at", now, c.Limit-len(ids))
			if err != nil {
				return err
			}
			ids = append(ids, more...)
		}
		if len(ids) == 0 {
			return nil
		}
		until := now.Add(c.Lease)
		if err := db.Model(&outboxRow{}).Where("id IN ?", ids).Updates(map[string]any{
			"state": directory.OpRunning, "lease_owner": c.Owner, "lease_until": until,
			"attempts": gorm.Expr("attempts + 1"), "updated_at": now}).Error; err != nil {
			return fmt.Errorf("outbox: lease: %w", err)
		}
		return db.Where("id IN ?", ids).Order("urgent DESC, id").Find(&rows).Error
	}
	var err error
	if s.kind == Postgres && !s.inTx {
		err = s.db.WithContext(ctx).Transaction(func(db *gorm.DB) error { return claim(db, s.now()) })
	} else {
		err = s.write(ctx, func(tx *Store) error { return claim(tx.db.WithContext(ctx), tx.now()) })
	}
	if err != nil {
		return nil, err
	}
	return opsOf(rows), nil
}

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
					set["attempts"], set["last_error"] = gorm.Expr("attempts - 1"), row.LastError
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
	reset     bool // a success came first (the streak restarts before the failures below)
	failures  int
	lastError string
	threshold int
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
		if c.failures == 0 {
			if exists && row.Failures != 0 {
				if err := db.Model(&outboxAppRow{}).Where("app = ?", app).Updates(map[string]any{"failures": 0, "updated_at": now}).Error; err != nil {
					return err
				}
			}
			continue
		}
		if c.reset {
			row.Failures = 0
		}
		row.App, row.Failures, row.LastError, row.UpdatedAt = app, row.Failures+c.failures, c.lastError, now
		if row.QuarantinedAt == nil && c.threshold > 0 && row.Failures >= c.threshold {
			row.QuarantinedAt = &now
			after, _ := marshalAudit(map[string]any{"app": app, "consecutive_failures": row.Failures})
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

// OpenOps counts open ops among ids, per app; see directory.Outbox.
func (s *Store) OpenOps(ctx context.Context, ids []int64) (map[string]int, error) {
	out := map[string]int{}
	for chunk := range slices.Chunk(ids, bulkRows) {
		var rows []struct {
			App string
			N   int
		}
		if err := s.read(ctx).Model(&outboxRow{}).Select("app, COUNT(*) AS n").Where("id IN ? AND state IN ?", chunk, openStates).
			Group("app").Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("count open outbox ops: %w", err)
		}
		for _, r := range rows {
			out[r.App] += r.N
		}
	}
	return out, nil
}

// GetOp reads one op.
func (s *Store) GetOp(ctx context.Context, id int64) (directory.OutboxOp, error) {
	var row outboxRow
	if err := s.read(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return directory.OutboxOp{}, notFound(err, "outbox op", strconv.FormatInt(id, 10))
	}
	return row.op(), nil
}

// ListOps returns ops in the order they were enqueued.
func (s *Store) ListOps(ctx context.Context, f directory.OutboxFilter) ([]directory.OutboxOp, error) {
	q := s.read(ctx)
	if len(f.States) > 0 {
		q = q.Where("state IN ?", f.States)
	}
	if f.App != "" {
		q = q.Where("app = ?", f.App)
	}
	if len(f.IDs) > 0 {
		q = q.Where("id IN ?", f.IDs)
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	var rows []outboxRow
	if err := q.Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list outbox ops: %w", err)
	}
	return opsOf(rows), nil
}

// RetryOps requeues failed and dead ops and lifts quarantines; see directory.Outbox.
func (s *Store) RetryOps(ctx context.Context, r directory.OutboxRetry) (int, error) {
	n := 0
	err := s.write(ctx, func(tx *Store) error {
		db := tx.db.WithContext(ctx)
		now := tx.now()
		q := db.Model(&outboxRow{}).Where("state IN ?", []directory.OpState{directory.OpFailed, directory.OpDead})
		apps := db.Model(&outboxAppRow{})
		switch {
		case len(r.IDs) > 0:
			q = q.Where("id IN ?", r.IDs)
			var names []string
			if err := db.Model(&outboxRow{}).Distinct("app").Where("id IN ?", r.IDs).Find(&names).Error; err != nil {
				return err
			}
			apps = apps.Where("app IN ?", names)
		case r.App != "":
			q = q.Where("app = ?", r.App)
			apps = apps.Where("app = ?", r.App)
		default:
			apps = apps.Where("1 = 1")
		}
		res := q.Updates(map[string]any{"state": directory.OpPending, "attempts": 0, "next_attempt_at": now,
			"lease_owner": "", "lease_until": nil, "updated_at": now})
		if res.Error != nil {
			return fmt.Errorf("outbox: retry: %w", res.Error)
		}
		n = int(res.RowsAffected)
		if err := apps.Updates(map[string]any{"failures": 0, "quarantined_at": nil, "updated_at": now}).Error; err != nil {
			return fmt.Errorf("outbox: lift quarantine: %w", err)
		}
		target := "outbox:" + r.App
		if r.App == "" {
			target = "outbox:*"
		}
		after, _ := marshalAudit(map[string]any{"app": r.App, "ids": r.IDs, "requeued": n})
		_, err := tx.appendAudit(ctx, identity.AuditRecord{Action: "provision.retry", Target: target, After: after})
		return err
	})
	return n, err
}

// OutboxApps lists apps with failures or a quarantine.
func (s *Store) OutboxApps(ctx context.Context) ([]directory.OutboxApp, error) {
	var rows []outboxAppRow
	if err := s.read(ctx).Where("failures > 0 OR quarantined_at IS NOT NULL").Order("app").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("outbox apps: %w", err)
	}
	out := make([]directory.OutboxApp, len(rows))
	for i, r := range rows {
		out[i] = directory.OutboxApp{App: r.App, Failures: r.Failures, QuarantinedAt: utcPtr(r.QuarantinedAt), LastError: r.LastError}
	}
	return out, nil
}
