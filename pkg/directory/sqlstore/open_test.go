package sqlstore

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
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

func TestMigrateIsIdempotent(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "t.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < 3; i++ {
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("migrate run %d: %v", i+1, err)
		}
	}
}
