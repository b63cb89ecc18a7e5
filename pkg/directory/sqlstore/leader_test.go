package sqlstore_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/testenv"
)

// Two replicas on one PostgreSQL database: only one leads at a time, and when it stops the
// other takes over.
func TestRunAsLeaderOnPostgres(t *testing.T) {
	sqlstore.LeaderPoll = 50 * time.Millisecond
	pg := testenv.SharedPostgres(t)
	url := pg.NewDatabase(t)
	ctx := context.Background()
	var leading, maxLeading, runs, leader atomic.Int32
	replica := func(id int32) (stop func(), done <-chan error) {
		s, err := sqlstore.Open(ctx, url, sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		rctx, cancel := context.WithCancel(ctx)
		errc := make(chan error, 1)
		go func() {
			errc <- s.RunAsLeader(rctx, "scheduler", func(lctx context.Context) error {
				n := leading.Add(1)
				runs.Add(1)
				leader.Store(id)
				for {
					if m := maxLeading.Load(); n > m && !maxLeading.CompareAndSwap(m, n) {
						continue
					}
					break
				}
				<-lctx.Done()
				leading.Add(-1)
				return nil
			})
		}()
		return cancel, errc
	}
	stops := map[int32]func(){}
	dones := map[int32]<-chan error{}
	for _, id := range []int32{1, 2} {
		stops[id], dones[id] = replica(id)
	}
	waitUntil(t, func() bool { return runs.Load() == 1 })
	time.Sleep(300 * time.Millisecond) // several polls: the other replica must not lead too
	if maxLeading.Load() != 1 || runs.Load() != 1 {
		t.Fatalf("leaders at once = %d, runs = %d; want exactly one", maxLeading.Load(), runs.Load())
	}
	// Stop the leader: the other replica takes over.
	first := leader.Load()
	second := 3 - first
	stops[first]()
	if err := <-dones[first]; err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool { return leader.Load() == second && leading.Load() == 1 })
	stops[second]()
	if err := <-dones[second]; err != nil {
		t.Fatal(err)
	}
	if maxLeading.Load() != 1 {
		t.Fatalf("two replicas led at once")
	}
	if runs.Load() != 2 {
		t.Fatalf("runs = %d, want 2 (leadership passed once)", runs.Load())
	}
}

func TestRunAsLeaderOnSQLiteRunsDirectly(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s, err := sqlstore.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "t.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ran := false
	cancel()
	if err := s.RunAsLeader(ctx, "x", func(context.Context) error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("ran=%v err=%v", ran, err)
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
