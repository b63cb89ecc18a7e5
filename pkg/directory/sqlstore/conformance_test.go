package sqlstore_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/directory/conformance"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/testenv"
)

// TestMain lets the PostgreSQL conformance run share one server (testenv.SharedPostgres).
func TestMain(m *testing.M) { os.Exit(testenv.RunMain(m)) }

// openForConformance opens url, migrates it and closes it when t ends.
func openForConformance(t *testing.T, url string) directory.Store {
	t.Helper()
	s := openStore(t, url)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

// openStore opens url and closes it when t ends.
func openStore(t *testing.T, url string) *sqlstore.Store {
	t.Helper()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, url, sqlstore.Options{})
	if err != nil {
		t.Fatalf("sqlstore.Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformanceSQLite(t *testing.T) {
	conformance.RunTests(t, func(t *testing.T) directory.Store {
		return openForConformance(t, "sqlite://"+filepath.Join(t.TempDir(), "t.db"))
	})
}

func TestConformancePostgres(t *testing.T) {
	pg := testenv.SharedPostgres(t)
	// Migrate once into a template and copy it per subtest: a copy takes a fraction of the
	// time AutoMigrate does on PostgreSQL.
	template := pg.NewDatabase(t)
	if err := openForConformance(t, template).Close(); err != nil {
		t.Fatal(err)
	}
	conformance.RunTests(t, func(t *testing.T) directory.Store {
		// The database is registered for dropping before the store's Close, so Close runs first.
		return openStore(t, pg.NewDatabaseFrom(t, template))
	})
}
