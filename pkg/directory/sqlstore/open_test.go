package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/tenure-id/tenure/pkg/identity"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		url      string
		kind     Kind
		dsn      string
		errMatch string
	}{
		{url: "sqlite://tenure.db", kind: SQLite, dsn: "tenure.db"},
		{url: "sqlite:///var/lib/tenure/t.db?mode=rw", kind: SQLite, dsn: "/var/lib/tenure/t.db"},
		{url: "sqlite://./data/t.db", kind: SQLite, dsn: "./data/t.db"},
		{url: "postgres://u:p@127.0.0.1:5432/db", kind: Postgres, dsn: "postgres://u:p@127.0.0.1:5432/db"},
		{url: "postgresql://127.0.0.1/db", kind: Postgres, dsn: "postgresql://127.0.0.1/db"},
		{url: "tenure.db", errMatch: "expected sqlite://PATH"},
		{url: "mysql://x/y", errMatch: `unsupported scheme "mysql"`},
		{url: "sqlite://", errMatch: "no file path"},
		{url: "postgres://", errMatch: "no host"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			kind, dsn, err := ParseURL(tt.url)
			if tt.errMatch != "" {
				if !errors.Is(err, ErrBadURL) || !strings.Contains(err.Error(), tt.errMatch) {
					t.Fatalf("ParseURL(%q) error = %v, want ErrBadURL containing %q", tt.url, err, tt.errMatch)
				}
				return
			}
			if err != nil || kind != tt.kind || dsn != tt.dsn {
				t.Fatalf("ParseURL(%q) = %q, %q, %v; want %q, %q", tt.url, kind, dsn, err, tt.kind, tt.dsn)
			}
		})
	}
}

func TestRedactHidesPassword(t *testing.T) {
	got := redact("postgres://admin:s3cret@db:5432/tenure")
	if strings.Contains(got, "s3cret") || !strings.Contains(got, "admin") {
		t.Fatalf("redact = %q", got)
	}
}

// A second Migrate on a current schema must issue no DDL: gorm's AutoMigrate would rebuild
// SQLite tables, which takes seconds on a large directory.
func TestMigrateIsIdempotentAndIssuesNoDDLWhenCurrent(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "t.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var statements []string
	record := func(db *gorm.DB) { statements = append(statements, db.Statement.SQL.String()) }
	for _, cb := range []func() error{
		func() error { return s.db.Callback().Raw().After("gorm:raw").Register("test:record_raw", record) },
		func() error {
			return s.db.Callback().Create().After("gorm:create").Register("test:record_create", record)
		},
	} {
		if err := cb(); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if !containsDDL(statements) {
		t.Fatalf("first Migrate issued no CREATE TABLE: %q", statements)
	}
	if _, err := s.CreatePerson(ctx, identity.Person{EmployeeID: "E1", LegalLastName: "Kept", EmploymentType: identity.Employee, Status: identity.Active}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		statements = nil
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("migrate run %d: %v", i+2, err)
		}
		if containsDDL(statements) {
			t.Fatalf("Migrate on a current schema issued DDL: %q", statements)
		}
	}
	if p, err := s.LookupPerson(ctx, "E1"); err != nil || p.LegalLastName != "Kept" {
		t.Fatalf("data after re-migrate: %+v %v", p, err)
	}
}

func containsDDL(stmts []string) bool {
	for _, s := range stmts {
		u := strings.ToUpper(s)
		if strings.Contains(u, "CREATE TABLE") || strings.Contains(u, "ALTER TABLE") || strings.Contains(u, "DROP TABLE") {
			return true
		}
	}
	return false
}

// A new SQLite file gets the larger page size and WAL; a file made before keeps its own
// size, since SQLite cannot change it under WAL without rewriting the file.
func TestNewSQLiteFileHasLargePagesAndExistingKeepsItsOwn(t *testing.T) {
	ctx := context.Background()
	pragmas := func(t *testing.T, s *Store) (pageSize int, journal string) {
		t.Helper()
		if err := s.db.WithContext(ctx).Raw("PRAGMA page_size").Scan(&pageSize).Error; err != nil {
			t.Fatal(err)
		}
		if err := s.db.WithContext(ctx).Raw("PRAGMA journal_mode").Scan(&journal).Error; err != nil {
			t.Fatal(err)
		}
		return pageSize, journal
	}
	dir := t.TempDir()
	fresh := filepath.Join(dir, "fresh.db")
	s, err := Open(ctx, "sqlite://"+fresh, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if size, journal := pragmas(t, s); size != sqlitePageSize || journal != "wal" {
		t.Errorf("new file: page_size %d, journal_mode %s; want %d, wal", size, journal, sqlitePageSize)
	}
	s.Close()

	old := filepath.Join(dir, "old.db")
	db, err := sql.Open(ModerncSQLite.Name, "file:"+old)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"PRAGMA page_size = 4096", "PRAGMA journal_mode = WAL", "CREATE TABLE kept (x)"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	db.Close()
	s, err = Open(ctx, "sqlite://"+old, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if size, _ := pragmas(t, s); size != 4096 {
		t.Errorf("existing file: page_size %d, want its own 4096", size)
	}
}

// A database migrated by another Tenure version (other row types) is refused until Migrate
// brings it to this one's schema.
func TestCheckSchemaRefusesAnotherVersionsSchema(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "t.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CheckSchema(ctx); !errors.Is(err, ErrNotInitialized) {
		t.Fatalf("CheckSchema of an empty database = %v; want ErrNotInitialized", err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckSchema(ctx); err != nil {
		t.Fatalf("CheckSchema after Migrate = %v", err)
	}
	// As an older binary would have left it: its fingerprint, and a table it did not have.
	if err := s.db.Exec("UPDATE schema_version SET fingerprint = 'older'").Error; err != nil {
		t.Fatal(err)
	}
	if err := s.db.Migrator().DropTable(&tokenRow{}); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckSchema(ctx); !errors.Is(err, ErrSchemaOutdated) || !strings.Contains(err.Error(), "tenure init") {
		t.Fatalf("CheckSchema of an older schema = %v; want ErrSchemaOutdated saying to run tenure init", err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckSchema(ctx); err != nil || !s.db.Migrator().HasTable(&tokenRow{}) {
		t.Fatalf("after Migrate: CheckSchema = %v, token table back %v", err, s.db.Migrator().HasTable(&tokenRow{}))
	}
}
