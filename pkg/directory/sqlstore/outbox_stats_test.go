package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/testenv"
)

// OutboxStats counts by app and state and dates each app's oldest pending op, on both
// databases (SQLite returns aggregates of time columns as text, PostgreSQL as timestamps).
func TestOutboxStats(t *testing.T) {
	for _, tc := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "t.db") }},
		{"postgres", func(t *testing.T) string { return testenv.SharedPostgres(t).NewDatabase(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s := openStore(t, tc.url(t))
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if got, err := s.OutboxStats(ctx); err != nil || len(got) != 0 {
				t.Fatalf("empty outbox: %v, %v", got, err)
			}
			op := func(app, key string) directory.OutboxOp {
				return directory.OutboxOp{Key: key, App: app, Kind: "disable", Chain: app + "/" + key, Payload: []byte(`{}`)}
			}
			before := time.Now().UTC().Add(-time.Second)
			first, err := s.EnqueueOps(ctx, []directory.OutboxOp{op("crm", "a"), op("crm", "b")})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.EnqueueOps(ctx, []directory.OutboxOp{op("crm", "c"), op("wiki", "d")}); err != nil {
				t.Fatal(err)
			}
			claimed, err := s.ClaimOps(ctx, directory.OutboxClaim{Owner: "w", Limit: 1, Lease: time.Minute, IDs: []int64{first[0].ID}})
			if err != nil || len(claimed) != 1 {
				t.Fatalf("claim: %v, %v", claimed, err)
			}
			if _, err := s.FinishOps(ctx, "w", []directory.OutboxResult{{ID: claimed[0].ID, State: directory.OpDone}}); err != nil {
				t.Fatal(err)
			}
			got, err := s.OutboxStats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			counts := map[string]int{}
			for _, st := range got {
				counts[st.App+"/"+string(st.State)] = st.Count
				if st.State == directory.OpPending && (st.Oldest.Before(before) || st.Oldest.After(time.Now().Add(time.Second))) {
					t.Errorf("%s: oldest pending op enqueued at %s, want just now", st.App, st.Oldest)
				}
				if st.State != directory.OpPending && !st.Oldest.IsZero() {
					t.Errorf("%s/%s: oldest set for a state that is not pending", st.App, st.State)
				}
			}
			want := map[string]int{"crm/done": 1, "crm/pending": 2, "wiki/pending": 1}
			if len(counts) != len(want) {
				t.Fatalf("stats %v, want %v", counts, want)
			}
			for k, n := range want {
				if counts[k] != n {
					t.Errorf("%s = %d, want %d (all: %v)", k, counts[k], n, counts)
				}
			}
		})
	}
}

var _ interface {
	OutboxStats(context.Context) ([]directory.OutboxStat, error)
} = (*sqlstore.Store)(nil)
