package lifecycle

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/identity"
)

// movingClock advances on every reading, as the wall clock does between the moment a batch
// starts and the moment its events are derived.
type movingClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *movingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

// A first import with a real, moving clock: hires derived "now" must be due in the same batch,
// or a person who left before Tenure knew them is terminated before being hired (rejected) and
// then hired by the scheduler — a leaver left active.
func TestFirstImportWithMovingClockRecordsPastLeavers(t *testing.T) {
	c := &movingClock{t: day1}
	s := openStore(t, "sqlite://"+filepath.Join(t.TempDir(), "t.db"), &clock{t: day1})
	e := New(s, Options{Clock: c.Now, Naming: Naming{Domain: "piedpiper.test"}, LeaveTime: 17 * time.Hour})
	rep := importDay1(t, e)
	if rep.Rejected != 0 {
		t.Fatalf("first import rejected %d events", rep.Rejected)
	}
	for emp, want := range map[string]identity.Status{"PP040": identity.Terminated, "PP015": identity.Terminated, "PP001": identity.Active} {
		if got := person(t, s, emp).Status; got != want {
			t.Errorf("%s status %s, want %s", emp, got, want)
		}
	}
}
