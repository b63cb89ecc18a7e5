package ldapsync

import (
	"context"
	"maps"

	"github.com/tenure-id/tenure/pkg/directory"
)

// batchWriter stores changed entries in batches on its own goroutine. It remembers what the
// store holds, so an entry is sent only when it differs, and an entry sent twice in one run
// (streamed, then corrected by the final pass) is written twice only if it changed again.
type batchWriter struct {
	store   directory.LDAPFederation
	written map[string]directory.LDAPEntry
	pending []directory.LDAPEntry
	batches chan []directory.LDAPEntry
	done    chan error
	err     error
	// finished: done was received; shut: batches was closed.
	finished, shut bool
}

func newBatchWriter(ctx context.Context, store directory.LDAPFederation, existing map[string]directory.LDAPEntry) *batchWriter {
	w := &batchWriter{store: store, written: maps.Clone(existing),
		batches: make(chan []directory.LDAPEntry, 2), done: make(chan error, 1)}
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

// add queues e if it differs from what the store has, sending a full batch.
func (w *batchWriter) add(e directory.LDAPEntry) error {
	if prev, ok := w.written[e.Key]; ok && sameEntry(prev, e) {
		return nil
	}
	w.written[e.Key] = e
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
