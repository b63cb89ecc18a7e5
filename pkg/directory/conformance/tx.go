package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

func txTests() []subTest {
	return []subTest{
		{"InTxCommit", testInTxCommit},
		{"InTxRollbackOnError", testInTxRollbackOnError},
		{"InTxRollbackOnPanic", testInTxRollbackOnPanic},
		{"InTxRollbackAfterFailedWrite", testInTxRollbackAfterFailedWrite},
		{"InTxReadsOwnWrites", testInTxReadsOwnWrites},
		{"InTxNested", testInTxNested},
	}
}

// wantNoPerson fails unless no person has this employee ID.
func wantNoPerson(t *testing.T, ctx context.Context, s directory.Store, employeeID string) {
	t.Helper()
	p, err := s.LookupPerson(ctx, employeeID)
	if err == nil {
		t.Errorf("person %q (id %s) exists, want it rolled back", employeeID, p.ID)
		return
	}
	if !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("LookupPerson(%q): %v, want ErrNotFound", employeeID, err)
	}
}

// auditCount is the number of audit records in the log.
func auditCount(t *testing.T, ctx context.Context, s directory.Store) int {
	t.Helper()
	recs, err := s.AuditRecords(ctx, 0, 100000)
	if err != nil {
		t.Fatalf("AuditRecords: %v", err)
	}
	return len(recs)
}

func testInTxCommit(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	var unit identity.OrgUnit
	var person identity.Person
	err := s.InTx(ctx, func(tx directory.Store) error {
		var err error
		if unit, err = tx.CreateOrgUnit(ctx, identity.OrgUnit{Name: "Acme", Kind: identity.Organization}); err != nil {
			return err
		}
		person, err = tx.CreatePerson(ctx, newPerson("E001", func(p *identity.Person) { p.OrgUnitID = unit.ID }))
		return err
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	if _, err := s.GetOrgUnit(ctx, unit.ID); err != nil {
		t.Errorf("GetOrgUnit after commit: %v", err)
	}
	checkPerson(t, "GetPerson after commit", person, mustGetPerson(t, ctx, s, person.ID))
	if n := auditCount(t, ctx, s); n != 2 {
		t.Errorf("after a committed transaction with two writes: %d audit records, want 2", n)
	}
}

func testInTxRollbackOnError(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	keep := mustCreatePerson(t, ctx, s, newPerson("E000"))
	before := auditCount(t, ctx, s)
	var created identity.Person
	err := s.InTx(ctx, func(tx directory.Store) error {
		var err error
		if created, err = tx.CreatePerson(ctx, newPerson("E001")); err != nil {
			return fmt.Errorf("unexpected: %v", err)
		}
		if _, err := tx.UpdatePerson(ctx, keep.ID, func(p *identity.Person) error { p.JobTitle = "rolled back"; return nil }); err != nil {
			return fmt.Errorf("unexpected: %v", err)
		}
		return fmt.Errorf("abort: %w", errSentinel)
	})
	wantErrIs(t, err, errSentinel, "InTx with failing fn")
	wantNoPerson(t, ctx, s, "E001")
	if created.ID != "" {
		_, err := s.GetPerson(ctx, created.ID)
		wantErrIs(t, err, identity.ErrNotFound, "GetPerson of a rolled-back person")
	}
	checkPerson(t, "person updated in a rolled-back transaction", keep, mustGetPerson(t, ctx, s, keep.ID))
	recs, err := s.AuditRecords(ctx, 0, 100000)
	if err != nil {
		t.Fatalf("AuditRecords: %v", err)
	}
	if len(recs) != before {
		t.Errorf("audit log grew from %d to %d records in a rolled-back transaction", before, len(recs))
	}
	for _, r := range recs {
		if created.ID != "" && strings.Contains(r.Target, created.ID) {
			t.Errorf("audit record %d (%s %s) names the rolled-back person", r.Seq, r.Action, r.Target)
		}
	}
	// The store still works and the audit chain continues without a gap.
	mustCreatePerson(t, ctx, s, newPerson("E002"))
	verifyAuditLog(t, ctx, s)
}

func testInTxRollbackOnPanic(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	type panicValue struct{ msg string }
	var recovered any
	func() {
		defer func() { recovered = recover() }()
		_ = s.InTx(ctx, func(tx directory.Store) error {
			if _, err := tx.CreatePerson(ctx, newPerson("E001")); err != nil {
				t.Errorf("CreatePerson in tx: %v", err)
			}
			panic(panicValue{"boom"})
		})
	}()
	if recovered == nil {
		t.Fatal("InTx swallowed the panic of fn; want it to propagate")
	}
	if pv, ok := recovered.(panicValue); !ok || pv.msg != "boom" {
		t.Errorf("InTx re-panicked with %v (%T), want the original panic value", recovered, recovered)
	}
	wantNoPerson(t, ctx, s, "E001")
	if n := auditCount(t, ctx, s); n != 0 {
		t.Errorf("after a panicking transaction: %d audit records, want 0", n)
	}
	// The connection was released: the store still takes writes.
	mustCreatePerson(t, ctx, s, newPerson("E002"))
	wantNoPerson(t, ctx, s, "E001")
}

func testInTxRollbackAfterFailedWrite(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	mustCreatePerson(t, ctx, s, newPerson("E000", func(p *identity.Person) { p.Username = "taken" }))
	err := s.InTx(ctx, func(tx directory.Store) error {
		if _, err := tx.CreatePerson(ctx, newPerson("E001")); err != nil {
			return fmt.Errorf("unexpected: %v", err)
		}
		_, err := tx.CreatePerson(ctx, newPerson("E002", func(p *identity.Person) { p.Username = "taken" }))
		return err
	})
	wantConflict(t, err, "InTx returning a conflict from a write", "username")
	wantNoPerson(t, ctx, s, "E001")
	wantNoPerson(t, ctx, s, "E002")
	if n := auditCount(t, ctx, s); n != 1 {
		t.Errorf("after the rolled-back transaction: %d audit records, want 1", n)
	}
}

func testInTxReadsOwnWrites(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	var id string
	err := s.InTx(ctx, func(tx directory.Store) error {
		u, err := tx.CreateOrgUnit(ctx, identity.OrgUnit{Name: "Acme", Kind: identity.Organization})
		if err != nil {
			return err
		}
		mgr, err := tx.CreatePerson(ctx, newPerson("M001", func(p *identity.Person) { p.OrgUnitID = u.ID }))
		if err != nil {
			return err
		}
		p, err := tx.CreatePerson(ctx, newPerson("E001", func(p *identity.Person) { p.ManagerID = mgr.ID }))
		if err != nil {
			return err
		}
		id = p.ID
		if got, err := tx.GetPerson(ctx, p.ID); err != nil || got.EmployeeID != "E001" {
			return fmt.Errorf("tx.GetPerson of a person created in the tx: %+v, %v", got, err)
		}
		if got, err := tx.LookupPerson(ctx, "E001"); err != nil || got.ID != p.ID {
			return fmt.Errorf("tx.LookupPerson: %+v, %v", got, err)
		}
		if _, err := tx.UpdatePerson(ctx, p.ID, func(q *identity.Person) error { q.JobTitle = "in tx"; return nil }); err != nil {
			return fmt.Errorf("tx.UpdatePerson: %w", err)
		}
		chain, err := tx.ManagerChain(ctx, p.ID)
		if err != nil || len(chain) != 1 || chain[0].ID != mgr.ID {
			return fmt.Errorf("tx.ManagerChain = %v, %v; want [%s]", personIDs(chain), err, mgr.ID)
		}
		n, err := tx.CountPeople(ctx, directory.PersonFilter{})
		if err != nil || n != 2 {
			return fmt.Errorf("tx.CountPeople = %d, %v; want 2", n, err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	got := mustGetPerson(t, ctx, s, id)
	if got.JobTitle != "in tx" || got.Version != 2 {
		t.Errorf("after commit: JobTitle %q Version %d, want %q 2", got.JobTitle, got.Version, "in tx")
	}
}

func testInTxNested(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	err := s.InTx(ctx, func(tx directory.Store) error {
		if _, err := tx.CreatePerson(ctx, newPerson("E001")); err != nil {
			return err
		}
		return tx.InTx(ctx, func(inner directory.Store) error {
			_, err := inner.CreatePerson(ctx, newPerson("E002"))
			return err
		})
	})
	if err != nil {
		t.Fatalf("nested InTx: %v", err)
	}
	for _, emp := range []string{"E001", "E002"} {
		if _, err := s.LookupPerson(ctx, emp); err != nil {
			t.Errorf("LookupPerson(%s) after nested InTx: %v", emp, err)
		}
	}

	// A failure of the outer function after the inner one succeeded undoes both.
	err = s.InTx(ctx, func(tx directory.Store) error {
		if _, err := tx.CreatePerson(ctx, newPerson("E003")); err != nil {
			return err
		}
		if err := tx.InTx(ctx, func(inner directory.Store) error {
			_, err := inner.CreatePerson(ctx, newPerson("E004"))
			return err
		}); err != nil {
			return fmt.Errorf("unexpected: %v", err)
		}
		return errSentinel
	})
	wantErrIs(t, err, errSentinel, "outer InTx failing after a nested InTx")
	wantNoPerson(t, ctx, s, "E003")
	wantNoPerson(t, ctx, s, "E004")
}
