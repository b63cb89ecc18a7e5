package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tenure-id/tenure/pkg/identity"
)

// Reader pages through a stored log in sequence order (directory.AuditLog has this method).
type Reader interface {
	AuditRecords(ctx context.Context, afterSeq int64, limit int) ([]identity.AuditRecord, error)
}

// Anchor is a record an auditor wrote down earlier (its sequence number and hash): a log that
// no longer holds it, or holds something else there, was truncated or rewritten. The chain
// alone cannot show that its newest records were removed; an anchor kept elsewhere can.
type Anchor struct {
	Seq  int64
	Hash string
}

func (a Anchor) String() string { return strconv.FormatInt(a.Seq, 10) + ":" + a.Hash }

// ParseAnchor reads "SEQ:HASH", as Verify's result prints it.
func ParseAnchor(s string) (Anchor, error) {
	seq, hash, ok := strings.Cut(strings.TrimSpace(s), ":")
	n, err := strconv.ParseInt(seq, 10, 64)
	if !ok || err != nil || n < 1 {
		return Anchor{}, fmt.Errorf("anchor %q: want SEQ:HASH, with SEQ a record number from 1", s)
	}
	if len(hash) != 64 || strings.Trim(strings.ToLower(hash), "0123456789abcdef") != "" {
		return Anchor{}, fmt.Errorf("anchor %q: the hash must be 64 hex digits (SHA-256)", s)
	}
	return Anchor{Seq: n, Hash: strings.ToLower(hash)}, nil
}

// Result is what a verification covered.
type Result struct {
	// First is the first record checked; Head the last, which an auditor keeps as an anchor
	// for the next verification.
	First, Head Anchor
	Count       int64
	// Partial says the records began after record 1 (an export of part of the log): the first
	// record's link to its predecessor was taken on trust.
	Partial bool
}

// VerifyStream checks the records next yields, in order, until it returns io.EOF. Each anchor
// must be among them with the same hash. With partial, the first record may start anywhere in
// the chain (an export of part of the log); otherwise it must be record 1.
func VerifyStream(next func() (identity.AuditRecord, error), partial bool, anchors ...Anchor) (Result, error) {
	var v Verifier
	var res Result
	want := map[int64]string{}
	for _, a := range anchors {
		want[a.Seq] = a.Hash
	}
	for {
		r, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, err
		}
		if v.prev == nil && partial && r.Seq > 1 {
			// Stand in for the predecessor the export left out, so the rest links to it.
			v.prev = &identity.AuditRecord{Seq: r.Seq - 1, Hash: r.PrevHash}
			res.Partial = true
		}
		if err := v.Next(r); err != nil {
			return res, err
		}
		if res.Count == 0 {
			res.First = Anchor{r.Seq, r.Hash}
		}
		res.Count++
		res.Head = Anchor{r.Seq, r.Hash}
		if h, ok := want[r.Seq]; ok {
			if h != r.Hash {
				return res, fmt.Errorf("%w at record %d: its hash is %s, the anchor says %s (the log was rewritten)", ErrBroken, r.Seq, r.Hash, h)
			}
			delete(want, r.Seq)
		}
	}
	for seq := range want {
		if seq > res.Head.Seq {
			return res, fmt.Errorf("%w: the anchor names record %d but the log ends at record %d (records removed from its end)", ErrBroken, seq, res.Head.Seq)
		}
		return res, fmt.Errorf("%w: the anchor names record %d, which comes before these records (%d..%d); verify the whole log", ErrBroken, seq, res.First.Seq, res.Head.Seq)
	}
	return res, nil
}

// VerifyLog checks a whole stored log, page by page, in constant memory.
func VerifyLog(ctx context.Context, r Reader, anchors ...Anchor) (Result, error) {
	return VerifyStream(Pages(ctx, r, 0, 0), false, anchors...)
}

// pageSize is how many records a read asks for.
const pageSize = 2000

// Pages yields the stored records after afterSeq, up to and including throughSeq (0: to the
// end), reading a page at a time; io.EOF ends them.
func Pages(ctx context.Context, r Reader, afterSeq, throughSeq int64) func() (identity.AuditRecord, error) {
	var page []identity.AuditRecord
	done := false
	return func() (identity.AuditRecord, error) {
		if len(page) == 0 && !done {
			var err error
			if page, err = r.AuditRecords(ctx, afterSeq, pageSize); err != nil {
				return identity.AuditRecord{}, fmt.Errorf("read audit records after %d: %w", afterSeq, err)
			}
			done = len(page) < pageSize
		}
		if len(page) == 0 || throughSeq > 0 && page[0].Seq > throughSeq {
			done, page = true, nil
			return identity.AuditRecord{}, io.EOF
		}
		rec := page[0]
		page = page[1:]
		afterSeq = rec.Seq
		return rec, nil
	}
}

// WriteJSONL writes one record per line with every field, hashes included, so the file can be
// verified on its own (ReadJSONL, VerifyStream).
func WriteJSONL(w io.Writer, r identity.AuditRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("audit record %d: %w", r.Seq, err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ReadJSONL yields the records of a JSON Lines export; a line that is not a record is an error
// naming the line.
func ReadJSONL(in io.Reader) func() (identity.AuditRecord, error) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64*1024), 64<<20)
	line := 0
	return func() (identity.AuditRecord, error) {
		for sc.Scan() {
			line++
			text := strings.TrimSpace(sc.Text())
			if text == "" {
				continue
			}
			var r identity.AuditRecord
			dec := json.NewDecoder(strings.NewReader(text))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&r); err != nil {
				return r, fmt.Errorf("line %d: not an audit record: %w", line, err)
			}
			if r.Seq < 1 || r.Hash == "" {
				return r, fmt.Errorf("line %d: not an audit record: seq and hash are required", line)
			}
			// The export wrote stored (normalized) records; normalizing again only undoes
			// what a JSON round trip changes (the time's zone, spacing inside before/after).
			n, err := Normalize(r)
			if err != nil {
				return r, fmt.Errorf("line %d: %w", line, err)
			}
			return n, nil
		}
		if err := sc.Err(); err != nil {
			return identity.AuditRecord{}, fmt.Errorf("line %d: %w", line+1, err)
		}
		return identity.AuditRecord{}, io.EOF
	}
}
