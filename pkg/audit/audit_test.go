package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/identity"
)

func chain(t *testing.T, n int) []identity.AuditRecord {
	t.Helper()
	var out []identity.AuditRecord
	var prev *identity.AuditRecord
	base := time.Date(2026, 11, 28, 9, 0, 0, 123456789, time.UTC)
	for i := 0; i < n; i++ {
		r, err := Normalize(identity.AuditRecord{
			Time: base.Add(time.Duration(i) * time.Minute), Actor: "cli:alice", Action: "person.update",
			Target: fmt.Sprintf("person:%d", i), Before: json.RawMessage(`{"status": "active"}`),
			After: json.RawMessage(fmt.Sprintf(`{"status": "terminated", "n": %d}`, i)), Reason: "ticket-1",
		})
		if err != nil {
			t.Fatal(err)
		}
		r = Link(prev, r)
		out = append(out, r)
		prev = &out[len(out)-1]
	}
	return out
}

func verify(records []identity.AuditRecord) error {
	var v Verifier
	for _, r := range records {
		if err := v.Next(r); err != nil {
			return err
		}
	}
	return nil
}

func TestIntactChainVerifies(t *testing.T) {
	recs := chain(t, 5)
	if recs[0].Seq != 1 || recs[0].PrevHash != "" || recs[4].Seq != 5 || recs[4].PrevHash != recs[3].Hash {
		t.Fatalf("links wrong: %+v", recs)
	}
	var v Verifier
	for _, r := range recs {
		if err := v.Next(r); err != nil {
			t.Fatal(err)
		}
	}
	if v.Count() != 5 || v.Last().Seq != 5 {
		t.Fatalf("count %d last %v", v.Count(), v.Last())
	}
}

func TestTamperingIsDetected(t *testing.T) {
	tests := []struct {
		name    string
		tamper  func([]identity.AuditRecord) []identity.AuditRecord
		wantMsg string
	}{
		{"actor changed", func(r []identity.AuditRecord) []identity.AuditRecord { r[2].Actor = "cli:mallory"; return r }, "at record 3: contents"},
		{"after changed", func(r []identity.AuditRecord) []identity.AuditRecord {
			r[1].After = json.RawMessage(`{"status":"active","n":1}`)
			return r
		}, "at record 2: contents"},
		{"time changed", func(r []identity.AuditRecord) []identity.AuditRecord {
			r[3].Time = r[3].Time.Add(time.Second)
			return r
		}, "at record 4: contents"},
		{"record removed", func(r []identity.AuditRecord) []identity.AuditRecord { return append(r[:2], r[3:]...) }, "expected record 3, found 4"},
		{"records swapped", func(r []identity.AuditRecord) []identity.AuditRecord { r[1], r[2] = r[2], r[1]; return r }, "expected record 2, found 3"},
		{"rehashed after edit", func(r []identity.AuditRecord) []identity.AuditRecord {
			// An attacker who edits a record and recomputes its hash still breaks the next link.
			r[1].Reason = "nothing to see"
			r[1].Hash = Hash(r[1])
			return r
		}, "at record 3: prev_hash"},
		{"first record dropped", func(r []identity.AuditRecord) []identity.AuditRecord { return r[1:] }, "expected record 1, found 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := verify(tt.tamper(chain(t, 5)))
			if !errors.Is(err, ErrBroken) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("verify = %v, want ErrBroken mentioning %q", err, tt.wantMsg)
			}
		})
	}
}

// What a store writes and reads back must hash the same: JSON spacing, time zone and
// sub-microsecond digits are not part of the record's meaning.
func TestNormalizeMakesHashStableAcrossRoundTrips(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 678901234, time.FixedZone("CET", 3600))
	a, err := Normalize(identity.AuditRecord{Time: at, Actor: "x", Action: "a", Target: "t", After: json.RawMessage("{ \"k\" : 1 }")})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Normalize(identity.AuditRecord{Time: at.UTC().Truncate(time.Microsecond), Actor: "x", Action: "a", Target: "t", After: json.RawMessage(`{"k":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	if Hash(a) != Hash(b) {
		t.Fatalf("hashes differ: %+v vs %+v", a, b)
	}
	if string(a.After) != `{"k":1}` || a.Time.Location() != time.UTC || a.Time.Nanosecond()%1000 != 0 {
		t.Fatalf("not normalized: %+v", a)
	}
	if n, _ := Normalize(identity.AuditRecord{Before: json.RawMessage("null")}); n.Before != nil {
		t.Fatalf("null before should normalize to empty, got %q", n.Before)
	}
	if _, err := Normalize(identity.AuditRecord{After: json.RawMessage("{bad")}); err == nil {
		t.Fatal("invalid JSON accepted")
	}
}

func TestActorAndReasonFromContext(t *testing.T) {
	ctx := context.Background()
	if Actor(ctx) != SystemActor || Reason(ctx) != "" {
		t.Fatalf("defaults: %q %q", Actor(ctx), Reason(ctx))
	}
	ctx = WithReason(WithActor(ctx, " cli:bob "), "IT-42")
	if Actor(ctx) != "cli:bob" || Reason(ctx) != "IT-42" {
		t.Fatalf("got %q %q", Actor(ctx), Reason(ctx))
	}
}

// BenchmarkHash is the per-change cost of linking an audit record; bulk imports pay it per row.
func BenchmarkHash(b *testing.B) {
	r, err := Normalize(identity.AuditRecord{Time: time.Now(), Actor: "hr:roster", Action: "person.update", Target: "person:0192",
		Before: json.RawMessage(`{"id":"0192","employee_id":"E1","status":"active","job_title":"Engineer","org_unit":"x"}`),
		After:  json.RawMessage(`{"id":"0192","employee_id":"E1","status":"terminated","job_title":"Engineer","org_unit":"x"}`)})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = Hash(r)
	}
}
