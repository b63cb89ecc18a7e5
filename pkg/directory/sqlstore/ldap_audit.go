package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// ldapEntryAudit is what the audit log keeps of a silo entry: what the silo says and how it
// is linked, without the store's bookkeeping (version and timestamps), which the record's
// own sequence and time already carry. A full sync writes one record per new or changed
// entry, so after a large import these are most of the log.
type ldapEntryAudit struct {
	ID             string            `json:"id"`
	DN             string            `json:"dn"`
	Username       string            `json:"username,omitempty"`
	Email          string            `json:"email,omitempty"`
	EmployeeNumber string            `json:"employee_number,omitempty"`
	DisplayName    string            `json:"display_name,omitempty"`
	FirstName      string            `json:"first_name,omitempty"`
	LastName       string            `json:"last_name,omitempty"`
	Attributes     map[string]string `json:"attributes,omitempty"`
	Status         string            `json:"status"`
	Stamp          string            `json:"stamp,omitempty"`
	PersonID       string            `json:"person_id,omitempty"`
	Link           string            `json:"link"`
	LinkRule       string            `json:"link_rule,omitempty"`
	Candidates     []string          `json:"candidates,omitempty"`
	LinkNote       string            `json:"link_note,omitempty"`
	RemovedAt      *time.Time        `json:"removed_at,omitempty"`
}

// ldapAudit is e as the audit log shows it; the source and key are in the record's target.
func ldapAudit(e directory.LDAPEntry) *ldapEntryAudit {
	return &ldapEntryAudit{ID: e.ID, DN: e.DN, Username: e.Username, Email: e.Email, EmployeeNumber: e.EmployeeNumber,
		DisplayName: e.DisplayName, FirstName: e.FirstName, LastName: e.LastName, Attributes: e.Attributes, Status: string(e.Status), Stamp: e.Stamp,
		PersonID: e.PersonID, Link: string(e.Link), LinkRule: e.LinkRule, Candidates: e.Candidates,
		LinkNote: e.LinkNote, RemovedAt: e.RemovedAt}
}

// auditRecord builds an unlinked record; appendAuditBatch links and stores it.
func auditRecord(action, target string, before, after any) (identity.AuditRecord, error) {
	rec := identity.AuditRecord{Action: action, Target: target}
	var err error
	if rec.Before, err = marshalAudit(before); err != nil {
		return rec, err
	}
	if rec.After, err = marshalAudit(after); err != nil {
		return rec, err
	}
	return rec, nil
}

// appendAuditBatch appends many records to the chain in the caller's transaction. It reads the
// chain head once and inserts in batches, so a sync that changes 100k silo entries still
// records every change, one record each, without 100k round trips for the head.
func (s *Store) appendAuditBatch(ctx context.Context, recs []identity.AuditRecord) error {
	if len(recs) == 0 {
		return nil
	}
	if !s.inTx {
		panic("sqlstore: audit append outside a write transaction")
	}
	prev, err := s.chainHead(ctx)
	if err != nil {
		return err
	}
	actor, reason, now := audit.Actor(ctx), audit.Reason(ctx), s.now()
	rows := make([][]any, len(recs))
	for i, r := range recs {
		// Before and After come from json.Marshal, which is already the compact form
		// audit.Normalize would produce, and now is already at the stored precision.
		r.Actor, r.Reason, r.Time = actor, reason, now
		r = audit.Link(prev, r)
		prev = &r
		rows[i] = auditRow{Seq: r.Seq, Time: r.Time, Actor: r.Actor, Action: r.Action, Target: r.Target,
			Before: string(r.Before), After: string(r.After), Reason: r.Reason, PrevHash: r.PrevHash, Hash: r.Hash}.values()
	}
	if err := s.insertRows(ctx, "audit_records", auditCols, rows); err != nil {
		return fmt.Errorf("audit: append: %w", err)
	}
	return nil
}

// insertRows inserts rows with multi-row INSERT statements straight on the transaction's
// connection. Bulk sync writes go this way because gorm's per-field reflection cost more than
// the database itself; cols must be the table's column names, each row one value per column.
// Full-size chunks share one prepared statement: preparing a statement of thousands of
// parameters costs as much as running it.
func (s *Store) insertRows(ctx context.Context, table string, cols []string, rows [][]any) error {
	perStmt := max(1, 4000/len(cols)) // well under every backend's parameter limit
	pool := s.db.Statement.ConnPool
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	args := make([]any, 0, perStmt*len(cols))
	for start := 0; start < len(rows); start += perStmt {
		chunk := rows[start:min(start+perStmt, len(rows))]
		args = args[:0]
		for _, row := range chunk {
			args = append(args, row...)
		}
		var err error
		if len(chunk) == perStmt {
			if full == nil {
				if full, err = pool.PrepareContext(ctx, s.insertSQL(table, cols, perStmt)); err != nil {
					return fmt.Errorf("insert into %s: %w", table, err)
				}
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = pool.ExecContext(ctx, s.insertSQL(table, cols, len(chunk)), args...)
		}
		if err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
	}
	return nil
}

// insertSQL is an INSERT of n rows with the backend's placeholders.
func (s *Store) insertSQL(table string, cols []string, n int) string {
	var sb strings.Builder
	sb.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
	p := 0
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteByte('(')
		for j := range cols {
			if j > 0 {
				sb.WriteString(", ")
			}
			p++
			if s.kind == Postgres {
				sb.WriteString("$" + strconv.Itoa(p))
			} else {
				sb.WriteByte('?')
			}
		}
		sb.WriteByte(')')
	}
	return sb.String()
}

var auditCols = []string{"seq", "time", "actor", "action", "target", "before", "after", "reason", "prev_hash", "hash"}

func (r auditRow) values() []any {
	return []any{r.Seq, r.Time, r.Actor, r.Action, r.Target, r.Before, r.After, r.Reason, r.PrevHash, r.Hash}
}

var ldapEntryCols = []string{"id", "source", "entry_key", "dn", "username", "email", "employee_number", "display_name",
	"first_name", "last_name", "attributes", "status", "stamp", "person_id", "link", "link_rule", "candidates", "link_note", "removed_at",
	"version", "created_at", "updated_at"}

func (r ldapEntryRow) values() []any {
	var removed any
	if r.RemovedAt != nil {
		removed = *r.RemovedAt
	}
	return []any{r.ID, r.Source, r.Key, r.DN, r.Username, r.Email, r.EmployeeNumber, r.DisplayName, r.FirstName, r.LastName, r.Attributes,
		r.Status, r.Stamp, r.PersonID, r.Link, r.LinkRule, r.Candidates, r.LinkNote, removed, r.Version, r.CreatedAt, r.UpdatedAt}
}
