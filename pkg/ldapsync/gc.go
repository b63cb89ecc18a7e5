package ldapsync

import (
	"os"
	"runtime/debug"
	"sync"
)

// DefaultFullSyncGCPercent is the garbage collector's target while a full sync runs.
//
// go-ldap decodes every search result into a tree of packets, copying each child into its
// parent, so reading one user entry allocates about 22 KB that is garbage a moment later,
// while what the sync keeps (the entries it has seen) grows slowly. With Go's default
// target (100) the collector then runs every few thousand entries and took a quarter of a
// full sync's CPU in profiles. Four times the live heap between collections cuts that to a
// few percent for a bounded cost: the heap peaks at about five times what the sync keeps
// (under 1 GB for 100,000 entries). GOMEMLIMIT, when set, still caps the heap.
const DefaultFullSyncGCPercent = 400

// fullSyncGC raises the collector's target for as long as at least one full sync runs. The
// setting is process-wide, so concurrent syncs share one raise: the first one in sets it,
// the last one out restores what was there before.
var fullSyncGC struct {
	sync.Mutex
	running int
	prev    int
}

// raiseGC raises the target to percent unless it is already higher, GC is off, or the
// operator chose one with GOGC, and returns the function that undoes it.
func raiseGC(percent int) (restore func()) {
	if percent <= 0 {
		return func() {}
	}
	if _, set := os.LookupEnv("GOGC"); set {
		return func() {}
	}
	fullSyncGC.Lock()
	defer fullSyncGC.Unlock()
	if fullSyncGC.running == 0 {
		prev := debug.SetGCPercent(percent)
		if prev < 0 || prev > percent {
			debug.SetGCPercent(prev)
		}
		fullSyncGC.prev = prev
	}
	fullSyncGC.running++
	return sync.OnceFunc(func() {
		fullSyncGC.Lock()
		defer fullSyncGC.Unlock()
		fullSyncGC.running--
		if fullSyncGC.running == 0 {
			debug.SetGCPercent(fullSyncGC.prev)
		}
	})
}
