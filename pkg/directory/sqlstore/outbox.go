package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
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
