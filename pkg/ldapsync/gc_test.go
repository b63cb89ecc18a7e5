package ldapsync

import (
	"os"
	"runtime/debug"
	"testing"
)

func gcPercent() int {
	cur := debug.SetGCPercent(-1)
	debug.SetGCPercent(cur)
	return cur
}

// Concurrent full syncs share one raise of the GC target, the last one out restores it, and
// a higher target already in place is left alone.
func TestRaiseGCIsSharedAndRestored(t *testing.T) {
	if _, set := os.LookupEnv("GOGC"); set {
		t.Skip("GOGC is set in the environment, so raiseGC leaves the runtime alone by design")
	}
	defer debug.SetGCPercent(debug.SetGCPercent(100))

	first := raiseGC(400)
	second := raiseGC(400)
	if got := gcPercent(); got != 400 {
		t.Fatalf("during two syncs: GC percent %d, want 400", got)
	}
	first()
	first() // a second call of the same restore does nothing
	if got := gcPercent(); got != 400 {
		t.Fatalf("one sync still running: GC percent %d, want 400", got)
	}
	second()
	if got := gcPercent(); got != 100 {
		t.Fatalf("after both: GC percent %d, want the previous 100", got)
	}

	debug.SetGCPercent(800)
	restore := raiseGC(400)
	if got := gcPercent(); got != 800 {
		t.Fatalf("a higher target was lowered to %d", got)
	}
	restore()
	if got := gcPercent(); got != 800 {
		t.Fatalf("after restore: %d, want 800", got)
	}
	if raiseGC(0)(); gcPercent() != 800 {
		t.Fatal("percent 0 changed the target")
	}
}
