package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/directory/conformance"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/secretbox"
	"github.com/tenure-id/tenure/pkg/testenv"
)

// secretDB opens url (already migrated) once raw and once more per keyring asked for.
func secretDB(t *testing.T, url string) conformance.SecretDB {
	t.Helper()
	raw, err := openStore(t, url).DB()
	if err != nil {
		t.Fatal(err)
	}
	return conformance.SecretDB{Raw: raw, Open: func(keys *secretbox.Keyring) directory.Store {
		opts := sqlstore.Options{}
		if keys != nil {
			opts.Secrets = keys
		}
		s, err := sqlstore.Open(context.Background(), url, opts)
		if err != nil {
			t.Fatalf("sqlstore.Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}}
}

func TestSecretConformanceSQLite(t *testing.T) {
	conformance.RunSecretTests(t, func(t *testing.T) conformance.SecretDB {
		url := "sqlite://" + filepath.Join(t.TempDir(), "t.db")
		openForConformance(t, url)
		return secretDB(t, url)
	})
}

func TestSecretConformancePostgres(t *testing.T) {
	pg := testenv.SharedPostgres(t)
	template := pg.NewDatabase(t)
	if err := openForConformance(t, template).Close(); err != nil {
		t.Fatal(err)
	}
	conformance.RunSecretTests(t, func(t *testing.T) conformance.SecretDB {
		return secretDB(t, pg.NewDatabaseFrom(t, template))
	})
}
