package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// Store is a directory.Store on SQLite or PostgreSQL. A Store made by InTx is bound to its
// transaction; the rest share a connection pool and are safe for concurrent use.
type Store struct {
	db    *gorm.DB
	kind  Kind
	clock func() time.Time
	inTx  bool
	// writers queues this process's SQLite writers in Go: SQLite's own wait for its write
	// lock sleeps and retries, and a writer that commits back to back (the outbox workers)
	// can starve one that is sleeping. Nil on PostgreSQL, whose lock waits are queued.
	writers *sync.Mutex
	// secrets seals second-factor secrets at rest; nil keeps them as given (see MFASecrets).
	secrets Sealer
}

var _ directory.Store = (*Store)(nil)

// Kind says which database the store runs on.
func (s *Store) Kind() Kind { return s.kind }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Close releases the connection pool. Closing a transaction-bound store does nothing.
func (s *Store) Close() error {
	if s.inTx {
		return nil
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// InTx runs fn in one transaction; see directory.Store.
func (s *Store) InTx(ctx context.Context, fn func(tx directory.Store) error) error {
	return s.write(ctx, func(tx *Store) error { return fn(tx) })
}

// auditLockKey identifies the PostgreSQL advisory lock that orders writers.
const auditLockKey = 0x7465_6e75_7265 // "tenure"

// write runs fn in a transaction, or inside the caller's when the store is already bound to
// one. Writers are serialized: SQLite does that by itself (BEGIN IMMEDIATE), PostgreSQL by an
// advisory lock taken first thing. One writer at a time is what keeps the single audit hash
// chain linear, and taking the lock before any row lock means writers cannot deadlock on it.
// It also makes the existence checks below (org unit, manager) race-free.
func (s *Store) write(ctx context.Context, fn func(tx *Store) error) error {
	if s.inTx {
		return fn(s)
	}
	if s.writers != nil {
		s.writers.Lock()
		defer s.writers.Unlock()
	}
	return s.db.WithContext(ctx).Transaction(func(db *gorm.DB) error {
		if s.kind == Postgres {
			if err := db.Exec("SELECT pg_advisory_xact_lock(?)", auditLockKey).Error; err != nil {
				return fmt.Errorf("lock writers: %w", err)
			}
		}
		return fn(&Store{db: db, kind: s.kind, clock: s.clock, inTx: true, secrets: s.secrets})
	})
}

// read gives a db handle for queries, bound to ctx.
func (s *Store) read(ctx context.Context) *gorm.DB { return s.db.WithContext(ctx) }

func (s *Store) now() time.Time { return utc(s.clock()) }

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// lockRow adds FOR UPDATE on PostgreSQL; SQLite's write lock already covers the whole file.
func (s *Store) lockRow(db *gorm.DB) *gorm.DB {
	if s.kind == Postgres {
		return db.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return db
}

// audit appends the record of one change, in the caller's transaction. before and after are
// domain values (nil when absent) turned into JSON.
func (s *Store) audit(ctx context.Context, action, target string, before, after any) error {
	rec := identity.AuditRecord{Action: action, Target: target}
	var err error
	if rec.Before, err = marshalAudit(before); err != nil {
		return err
	}
	if rec.After, err = marshalAudit(after); err != nil {
		return err
	}
	_, err = s.appendAudit(ctx, rec)
	return err
}

func marshalAudit(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	if a, ok := v.(interface{ appendJSON([]byte) []byte }); ok {
		return a.appendJSON(nil), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return b, nil
}

// AppendAudit appends a record that changes no row; see directory.AuditLog.
func (s *Store) AppendAudit(ctx context.Context, r identity.AuditRecord) (identity.AuditRecord, error) {
	var out identity.AuditRecord
	err := s.write(ctx, func(tx *Store) error {
		var err error
		out, err = tx.appendAudit(ctx, r)
		return err
	})
	return out, err
}

func (s *Store) appendAudit(ctx context.Context, r identity.AuditRecord) (identity.AuditRecord, error) {
	if !s.inTx {
		panic("sqlstore: audit append outside a write transaction")
	}
	if r.Action == "" || r.Target == "" {
		return r, &identity.FieldError{Field: "action", Reason: "audit records need an action and a target"}
	}
	if r.Actor == "" {
		r.Actor = audit.Actor(ctx)
	}
	if r.Reason == "" {
		r.Reason = audit.Reason(ctx)
	}
	if r.Time.IsZero() {
		r.Time = s.now()
	}
	r, err := audit.Normalize(r)
	if err != nil {
		return r, err
	}
	prev, err := s.chainHead(ctx)
	if err != nil {
		return r, err
	}
	r = audit.Link(prev, r)
	row := auditRow{Seq: r.Seq, Time: r.Time, Actor: r.Actor, Action: r.Action, Target: r.Target,
		Before: string(r.Before), After: string(r.After), Reason: r.Reason, PrevHash: r.PrevHash, Hash: r.Hash}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return r, fmt.Errorf("audit: append: %w", err)
	}
	return r, nil
}

// chainHead reads the last audit record, nil for an empty log. Callers hold the write lock (a
// write transaction), so the head cannot move until they commit; batch appenders read it once
// and link in memory.
func (s *Store) chainHead(ctx context.Context) (*identity.AuditRecord, error) {
	var last auditRow
	err := s.db.WithContext(ctx).Order("seq DESC").Limit(1).Take(&last).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("audit: read chain head: %w", err)
	}
	p := last.record()
	return &p, nil
}

func (r auditRow) record() identity.AuditRecord {
	rec := identity.AuditRecord{Seq: r.Seq, Time: utc(r.Time), Actor: r.Actor, Action: r.Action, Target: r.Target,
		Reason: r.Reason, PrevHash: r.PrevHash, Hash: r.Hash}
	if r.Before != "" {
		rec.Before = json.RawMessage(r.Before)
	}
	if r.After != "" {
		rec.After = json.RawMessage(r.After)
	}
	return rec
}

// AuditRecords pages through the log in order; see directory.AuditLog.
func (s *Store) AuditRecords(ctx context.Context, afterSeq int64, limit int) ([]identity.AuditRecord, error) {
	if limit <= 0 {
		limit = 1000
	}
	var rows []auditRow
	if err := s.read(ctx).Where("seq > ?", afterSeq).Order("seq").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("audit records: %w", err)
	}
	out := make([]identity.AuditRecord, len(rows))
	for i, r := range rows {
		out[i] = r.record()
	}
	return out, nil
}
