package ldapsync

import (
	"context"
	"encoding/binary"
	"hash/maphash"

	"github.com/tenure-id/tenure/pkg/directory"
)

// batchWriter stores changed entries in batches on its own goroutine. It remembers what the
// store held when the run began, so an entry it already had is sent only when it differs.
type batchWriter struct {
	store directory.LDAPFederation
	// written holds a sum of each entry the store had, as it stands now: a full sync of a
	// large silo would otherwise keep a second copy of every entry for the whole run.
	written map[string]entrySum
	seeds   [2]maphash.Seed
	pending []directory.LDAPEntry
	batches chan []directory.LDAPEntry
	done    chan error
	err     error
	// finished: done was received; shut: batches was closed.
	finished, shut bool
}

func newBatchWriter(ctx context.Context, store directory.LDAPFederation, existing map[string]directory.LDAPEntry) *batchWriter {
	w := &batchWriter{store: store, written: make(map[string]entrySum, len(existing)),
		batches: make(chan []directory.LDAPEntry, 2), done: make(chan error, 1)}
	w.seeds[0], w.seeds[1] = newSeeds()
	for k, e := range existing {
		w.written[k] = w.sum(&e)
	}
	go func() {
		for b := range w.batches {
			if err := store.PutLDAPEntries(ctx, b); err != nil {
				w.done <- err
				for range w.batches {
					// Drain, so the reader never blocks on a writer that gave up.
				}
				return
			}
		}
		w.done <- nil
	}()
	return w
}

// entrySum stands for the fields a sync controls (those LDAPEntry.SameSynced compares): two 64-bit
// hashes under independent random seeds, so entries that differ share a sum with a
// probability of about 2⁻¹²⁸.
type entrySum [2]uint64

func newSeeds() (maphash.Seed, maphash.Seed) { return maphash.MakeSeed(), maphash.MakeSeed() }

func (w *batchWriter) sum(e *directory.LDAPEntry) entrySum {
	var out entrySum
	for i, seed := range w.seeds {
		var h maphash.Hash
		h.SetSeed(seed)
		for _, v := range [...]string{e.DN, e.Username, e.Email, e.EmployeeNumber, e.DisplayName, e.FirstName, e.LastName, string(e.Status),
			e.Stamp, e.PersonID, string(e.Link), e.LinkRule, e.LinkNote} {
			writeString(&h, v)
		}
		writeUint(&h, uint64(len(e.Candidates)))
		for _, c := range e.Candidates {
			writeString(&h, c)
		}
		// Map order is random, so each pair is hashed on its own and the hashes added up.
		var attrs uint64
		for k, v := range e.Attributes {
			var p maphash.Hash
			p.SetSeed(seed)
			writeString(&p, k)
			writeString(&p, v)
			attrs += p.Sum64()
		}
		writeUint(&h, uint64(len(e.Attributes)))
		writeUint(&h, attrs)
		if e.RemovedAt != nil {
			h.WriteByte(1)
			writeUint(&h, uint64(e.RemovedAt.UnixNano()))
		} else {
			h.WriteByte(0)
		}
		out[i] = h.Sum64()
	}
	return out
}

// writeString writes v with its length first, so no two lists of strings hash alike by
// moving bytes from one string to the next.
func writeString(h *maphash.Hash, v string) {
	writeUint(h, uint64(len(v)))
	h.WriteString(v)
}

func writeUint(h *maphash.Hash, v uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	h.Write(b[:])
}

// add queues e if it differs from what the store has, sending a full batch. Entries the store
// had are compared with it (and with what this run wrote over them), so an unchanged one
// costs nothing. An entry new to the store is always sent: callers add one a second time only
// after changing it, so a first import need not sum what it has just read.
func (w *batchWriter) add(e directory.LDAPEntry) error {
	if prev, known := w.written[e.Key]; known {
		sum := w.sum(&e)
		if prev == sum {
			return nil
		}
		w.written[e.Key] = sum
	}
	if w.pending == nil {
		w.pending = make([]directory.LDAPEntry, 0, writeBatch)
	}
	w.pending = append(w.pending, e)
	if len(w.pending) >= writeBatch {
		return w.flush()
	}
	return nil
}

// flush sends what is queued; a failed earlier batch is reported as soon as it is known.
func (w *batchWriter) flush() error {
	if w.finished {
		return w.err
	}
	select {
	case err := <-w.done:
		// Before close, the writer only stops on an error.
		w.finished, w.err = true, err
		return err
	default:
	}
	if len(w.pending) > 0 {
		w.batches <- w.pending
		w.pending = nil
	}
	return nil
}

// close sends the rest and waits for every batch to be stored.
func (w *batchWriter) close() error {
	err := w.flush()
	w.abort()
	if err != nil {
		return err
	}
	return w.err
}

// abort stops the goroutine and waits for it. After a failed run, batches already sent may
// be stored, which is safe: each is a consistent set of entries, and the next run compares
// against what the store holds.
func (w *batchWriter) abort() {
	if !w.shut {
		w.shut = true
		close(w.batches)
	}
	if !w.finished {
		w.finished = true
		w.err = <-w.done
	}
}
