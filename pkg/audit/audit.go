// Package audit defines Tenure's tamper-evident log: every change to the directory appends a
// record, in the same database transaction as the change, whose SHA-256 hash covers the record
// and the previous record's hash. Deleting, reordering or editing any record breaks the chain
// from that point on, which Verify reports.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/tenure-id/tenure/pkg/identity"
)

// TimePrecision is what every backend stores exactly (PostgreSQL keeps microseconds), so a
// record's time hashes the same after a round trip through any store.
const TimePrecision = time.Microsecond

// ErrBroken means the chain does not verify.
var ErrBroken = errors.New("audit chain broken")

// Log appends records. Stores implement it so the append joins the caller's transaction.
type Log interface {
	Append(ctx context.Context, r identity.AuditRecord) (identity.AuditRecord, error)
}

// Normalize brings a record to its stored form: UTC time truncated to TimePrecision and compact
// JSON for Before and After. Hashing always happens on the normalized form.
func Normalize(r identity.AuditRecord) (identity.AuditRecord, error) {
	r.Time = r.Time.UTC().Truncate(TimePrecision)
	var err error
	if r.Before, err = compact(r.Before); err != nil {
		return r, fmt.Errorf("audit record before: %w", err)
	}
	if r.After, err = compact(r.After); err != nil {
		return r, fmt.Errorf("audit record after: %w", err)
	}
	return r, nil
}

func compact(raw json.RawMessage) (json.RawMessage, error) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Hash computes the hex SHA-256 of the normalized record, including PrevHash but not Hash.
//
// The canonical encoding feeds each field to the hash as an 8-byte big-endian length followed
// by its bytes, in a fixed order. Length prefixes make it unambiguous (no field can bleed into
// the next), and nothing in it differs between stores: time is RFC 3339 with microseconds in
// UTC, JSON is already compact. It avoids re-encoding JSON, which bulk imports hash per change.
func Hash(r identity.AuditRecord) string {
	h := sha256.New()
	var n [8]byte
	field := func(b []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	var buf [32]byte
	field(strconv.AppendInt(buf[:0], r.Seq, 10))
	field(r.Time.UTC().AppendFormat(buf[:0], "2006-01-02T15:04:05.000000Z"))
	for _, s := range []string{r.Actor, r.Action, r.Target} {
		field([]byte(s))
	}
	field(r.Before)
	field(r.After)
	field([]byte(r.Reason))
	field([]byte(r.PrevHash))
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// Link makes r the successor of prev (nil for the first record): it sets Seq and PrevHash, and
// then Hash. r must already be normalized.
func Link(prev *identity.AuditRecord, r identity.AuditRecord) identity.AuditRecord {
	r.Seq, r.PrevHash = 1, ""
	if prev != nil {
		r.Seq, r.PrevHash = prev.Seq+1, prev.Hash
	}
	r.Hash = Hash(r)
	return r
}

// Verifier checks records fed to it in sequence order, one at a time, so a log of any size is
// verified in constant memory.
type Verifier struct {
	prev  *identity.AuditRecord
	count int64
}

// Next checks one record against its predecessor. The first error stays meaningful: it names
// the sequence number where the chain breaks.
func (v *Verifier) Next(r identity.AuditRecord) error {
	wantSeq, wantPrev := int64(1), ""
	if v.prev != nil {
		wantSeq, wantPrev = v.prev.Seq+1, v.prev.Hash
	}
	switch {
	case r.Seq != wantSeq:
		return fmt.Errorf("%w: expected record %d, found %d (records missing or reordered)", ErrBroken, wantSeq, r.Seq)
	case r.PrevHash != wantPrev:
		return fmt.Errorf("%w at record %d: prev_hash does not match record %d", ErrBroken, r.Seq, wantSeq-1)
	case Hash(r) != r.Hash:
		return fmt.Errorf("%w at record %d: contents do not match its hash (record altered)", ErrBroken, r.Seq)
	}
	v.prev = &r
	v.count++
	return nil
}

// Count is how many records verified so far.
func (v *Verifier) Count() int64 { return v.count }

// Last is the last verified record, nil before the first.
func (v *Verifier) Last() *identity.AuditRecord { return v.prev }
