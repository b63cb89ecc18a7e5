package fakehttp

import (
	"net/http"
	"sync"
	"time"
)

// Faults is the trouble a test injects into a fake: a queue of faults (of the fake's own kind K,
// usually an HTTP status) for the next requests, and a stall for every request until Reset.
// The zero value is ready; it is safe for concurrent use.
type Faults[K any] struct {
	mu    sync.Mutex
	queue []K
	stall time.Duration
}

// Push queues k for the next n requests.
func (f *Faults[K]) Push(k K, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.queue = append(f.queue, k)
	}
}

// Next takes the fault for this request, if one is queued.
func (f *Faults[K]) Next() (K, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var k K
	if len(f.queue) == 0 {
		return k, false
	}
	k, f.queue = f.queue[0], f.queue[1:]
	return k, true
}

// Stall delays every request by d until Reset.
func (f *Faults[K]) Stall(d time.Duration) {
	f.mu.Lock()
	f.stall = d
	f.mu.Unlock()
}

// Hold waits out the stall, if any (see Hold); false means the client gave up and the request
// must change nothing.
func (f *Faults[K]) Hold(r *http.Request) bool {
	f.mu.Lock()
	d := f.stall
	f.mu.Unlock()
	if d <= 0 {
		return true
	}
	return Hold(r, d, nil)
}

// Reset clears the queue and the stall.
func (f *Faults[K]) Reset() {
	f.mu.Lock()
	f.queue, f.stall = nil, 0
	f.mu.Unlock()
}
