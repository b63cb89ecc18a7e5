package conformance

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// Purging the outbox removes done ops finished before the cutoff, one audit record per batch,
// and leaves failed, dead and open ops alone.
func testOutboxPurge(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	ops := mustEnqueue(t, ctx, s, newOp("slack", "p1", false), newOp("slack", "p2", false), newOp("slack", "p3", false), newOp("slack", "p4", false))
	claimed := mustClaim(t, ctx, s, directory.OutboxClaim{Owner: "w1", Limit: 3})
	if len(claimed) != 3 {
		t.Fatalf("claimed %d; want 3", len(claimed))
	}
	finish(t, ctx, s, "w1",
		directory.OutboxResult{ID: claimed[0].ID, State: directory.OpDone},
		directory.OutboxResult{ID: claimed[1].ID, State: directory.OpDone},
		directory.OutboxResult{ID: claimed[2].ID, State: directory.OpFailed, Error: "HTTP 400"})
	if n, err := s.PurgeOps(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("PurgeOps before they finished = %d, %v; want 0", n, err)
	}
	head := auditHead(t, s)
	n, err := s.PurgeOps(ctx, time.Now().Add(time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("PurgeOps = %d, %v; want the 2 done ops", n, err)
	}
	for i, op := range ops {
		_, err := s.GetOp(ctx, op.ID)
		gone := errors.Is(err, identity.ErrNotFound)
		if want := op.ID == claimed[0].ID || op.ID == claimed[1].ID; gone != want {
			t.Errorf("op %d: gone %v (%v); want %v", i+1, gone, err, want)
		}
	}
	recs, err := s.AuditRecords(ctx, head, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Ops int `json:"ops"`
	}
	if len(recs) != 1 || recs[0].Action != "provision.outbox_purge" || json.Unmarshal(recs[0].After, &got) != nil || got.Ops != 2 {
		t.Fatalf("audit after the purge: %+v; want one provision.outbox_purge record counting 2 ops", recs)
	}
	if n, err := s.PurgeOps(ctx, time.Now().Add(time.Hour)); err != nil || n != 0 {
		t.Errorf("second PurgeOps = %d, %v; want 0", n, err)
	}
	if recs, _ := s.AuditRecords(ctx, head, 10); len(recs) != 1 {
		t.Errorf("a purge that removed nothing wrote %d audit records; want none", len(recs)-1)
	}
	if _, err := s.PurgeOps(ctx, time.Time{}); !errors.Is(err, identity.ErrInvalid) {
		t.Errorf("PurgeOps without a cutoff = %v; want ErrInvalid", err)
	}
}

// auditHead is the sequence number of the newest audit record.
func auditHead(t *testing.T, s directory.Store) int64 {
	t.Helper()
	var last int64
	for {
		page, err := s.AuditRecords(testContext(t), last, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return last
		}
		last = page[len(page)-1].Seq
	}
}
