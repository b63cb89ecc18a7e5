// Package sqlstoretest opens the stores tests run against.
package sqlstoretest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
)

// SQLite is a migrated store in a new SQLite file under t's temp dir, closed when t ends.
func SQLite(t testing.TB, opt sqlstore.Options) *sqlstore.Store {
	t.Helper()
	return Migrated(t, "sqlite://"+filepath.Join(t.TempDir(), "tenure.db"), opt)
}

// Migrated opens url, migrates it and closes it when t ends.
func Migrated(t testing.TB, url string, opt sqlstore.Options) *sqlstore.Store {
	t.Helper()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, url, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}
