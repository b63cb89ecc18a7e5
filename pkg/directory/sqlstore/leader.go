package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"time"
)

// LeaderPoll is how often a replica that is not the leader tries to become it, and how often
// the leader checks it still holds the lock.
var LeaderPoll = 5 * time.Second

// RunAsLeader runs fn while this process holds the leadership named name, so periodic work
// (the HR event scheduler, LDAP sync jobs) runs on one replica only. On PostgreSQL leadership is
// a session advisory lock on a dedicated connection: when that connection dies the lock goes
// with it, fn's context is cancelled, and the replicas compete again. SQLite has one writer
// process by design, so fn simply runs. RunAsLeader returns when ctx is done, or with fn's
// error if fn fails while leading.
func (s *Store) RunAsLeader(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	if s.kind != Postgres {
		return fn(ctx)
	}
	h := fnv.New64a()
	h.Write([]byte("tenure-leader:" + name))
	key := int64(h.Sum64() >> 1)
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	tick := time.NewTicker(LeaderPoll)
	defer tick.Stop()
	for {
		conn, err := sqlDB.Conn(ctx)
		if err == nil {
			var got bool
			if err = conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&got); err == nil && got {
				err = s.lead(ctx, conn, key, fn)
				if err != nil {
					return err
				}
			} else {
				conn.Close()
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// lead runs fn while the lock's connection stays alive; it returns nil when leadership is lost
// (so the caller competes again) or ctx ends, and fn's error otherwise.
func (s *Store) lead(ctx context.Context, conn *sql.Conn, key int64, fn func(ctx context.Context) error) error {
	defer func() {
		// Conn.Close only returns the session to the pool, which would keep the lock: release it
		// first. If the session is dead, the server has released it already.
		uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = conn.ExecContext(uctx, "SELECT pg_advisory_unlock($1)", key)
		conn.Close()
	}()
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fn(lctx) }()
	tick := time.NewTicker(LeaderPoll)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil && ctx.Err() == nil {
				return fmt.Errorf("leader %d: %w", key, err)
			}
			return nil
		case <-tick.C:
			if err := conn.PingContext(ctx); err != nil {
				cancel() // the lock is gone with the session: stop leading
				<-done
				return nil
			}
		}
	}
}
