// Package sqlstore implements directory.Store with gorm on SQLite (embedded, the default) and
// PostgreSQL (for several replicas sharing one database).
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	// The default SQLite driver: modernc.org/sqlite, pure Go, so a CGO_ENABLED=0 build works.
	// On an idle machine it measured within 1.3× of the cgo driver on insert and lookup;
	// docs/BENCHMARKS.md has the figures behind the choice.
	_ "modernc.org/sqlite"
)

// ErrBadURL means the database URL cannot be used; the message says what to write instead.
var ErrBadURL = errors.New("bad database URL")

// SQLiteDriver names a database/sql driver for SQLite and how its DSN spells the settings
// Tenure needs: WAL, a busy timeout, BEGIN IMMEDIATE so that concurrent writers queue on the
// busy timeout instead of failing on a lock upgrade, and a 32 MiB page cache (the default 2 MB
// spills a bulk import's transaction to the WAL page by page).
type SQLiteDriver struct {
	Name string
	DSN  func(path string) string
}

// ModerncSQLite is modernc.org/sqlite, pure Go; the default.
var ModerncSQLite = SQLiteDriver{
	Name: "sqlite",
	DSN: func(path string) string {
		return "file:" + path + "?_txlock=immediate&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
			"&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)&_pragma=cache_size(-32768)&_time_format=sqlite"
	},
}

// MattnSQLite is github.com/mattn/go-sqlite3 (cgo). gorm's SQLite dialect links it in, so it is
// registered whenever the binary is built with cgo; pass it in Options to use it.
var MattnSQLite = SQLiteDriver{
	Name: "sqlite3",
	DSN: func(path string) string {
		return "file:" + path + "?_txlock=immediate&_busy_timeout=10000&_journal_mode=WAL" +
			"&_synchronous=NORMAL&_foreign_keys=on&_cache_size=-32768"
	},
}

// Options tune a store. The zero value is ready to use.
type Options struct {
	// Clock gives the time stamped on rows and audit records; time.Now when nil.
	Clock func() time.Time
	// SQLite picks the SQLite driver; ModerncSQLite when Name is empty.
	SQLite SQLiteDriver
	// Logger receives slow-query and error logs from gorm; none when nil.
	Logger *slog.Logger
	// Secrets seals second-factor secrets at rest (*secretbox.Keyring is one). Without it
	// they are stored and read back as given: only tools that never read them (and tests)
	// run so; `tenure serve` always has one.
	Secrets Sealer
}

// Kind is the database behind a store.
type Kind string

const (
	SQLite   Kind = "sqlite"
	Postgres Kind = "postgres"
)

// ParseURL splits a --db URL into its kind and the driver's DSN part. SQLite URLs are
// sqlite://PATH (relative) or sqlite:///ABSOLUTE/PATH; PostgreSQL URLs are passed to pgx whole.
func ParseURL(url string) (Kind, string, error) {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return "", "", fmt.Errorf("%w %q: expected sqlite://PATH or postgres://USER@HOST:PORT/DB", ErrBadURL, url)
	}
	switch strings.ToLower(scheme) {
	case "sqlite", "sqlite3":
		path, _, _ := strings.Cut(rest, "?")
		if path == "" {
			return "", "", fmt.Errorf("%w %q: no file path after sqlite://", ErrBadURL, url)
		}
		return SQLite, path, nil
	case "postgres", "postgresql":
		if rest == "" {
			return "", "", fmt.Errorf("%w %q: no host after %s://", ErrBadURL, url, scheme)
		}
		return Postgres, url, nil
	default:
		return "", "", fmt.Errorf("%w %q: unsupported scheme %q (use sqlite:// or postgres://)", ErrBadURL, url, scheme)
	}
}

// Open connects to the database and checks it answers. It does not create tables: call
// Migrate (as `tenure init` does).
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	kind, dsn, err := ParseURL(url)
	if err != nil {
		return nil, err
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.SQLite.Name == "" {
		opts.SQLite = ModerncSQLite
	}
	cfg := &gorm.Config{
		Logger:                 gormLogger(opts.Logger),
		SkipDefaultTransaction: true, // every write already runs in our own transaction
		NowFunc:                func() time.Time { return opts.Clock().UTC().Truncate(time.Microsecond) },
	}
	var dialector gorm.Dialector
	switch kind {
	case SQLite:
		if dir := filepath.Dir(dsn); dir != "." {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("open %s: %w", url, err)
			}
		}
		if err := createSQLite(ctx, opts.SQLite.Name, dsn); err != nil {
			return nil, fmt.Errorf("open %s: %w", url, err)
		}
		dialector = sqlite.New(sqlite.Config{DriverName: opts.SQLite.Name, DSN: opts.SQLite.DSN(dsn)})
	case Postgres:
		dialector = postgres.Open(dsn)
	}
	db, err := gorm.Open(dialector, cfg)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", redact(url), err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", redact(url), err)
	}
	if kind == SQLite {
		// One writer at a time is SQLite's model; a few connections still let readers run
		// beside it under WAL.
		sqlDB.SetMaxOpenConns(4)
	} else {
		sqlDB.SetMaxOpenConns(16)
	}
	s := &Store{db: db, kind: kind, clock: opts.Clock, secrets: opts.Secrets}
	if kind == SQLite {
		s.writers = &sync.Mutex{}
	}
	if err := s.Ping(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("open %s: %w", redact(url), err)
	}
	return s, nil
}

// sqlitePageSize is the page size of new SQLite files. SQLite's default, 4 KiB, makes every
// page of a bulk write (an LDAP full sync, a roster import) two system calls into the WAL
// and two more when it is checkpointed; with 16 KiB pages a full sync of 30,000 entries
// took about 15 % less time (docs/BENCHMARKS.md). Small transactions write a few more bytes.
const sqlitePageSize = 16384

// createSQLite creates a missing database file with sqlitePageSize pages. The size has to be
// set before the first table exists and before WAL mode is on, which the drivers' DSN
// pragmas cannot order, so the file is made here; an existing file keeps its size.
func createSQLite(ctx context.Context, driver, path string) error {
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	db, err := sql.Open(driver, "file:"+path)
	if err != nil {
		return err
	}
	defer db.Close()
	for _, pragma := range []string{"PRAGMA page_size = " + strconv.Itoa(sqlitePageSize), "PRAGMA journal_mode = WAL"} {
		if _, err := db.ExecContext(ctx, pragma); err != nil {
			return fmt.Errorf("create database: %s: %w", pragma, err)
		}
	}
	return db.Close()
}

// redact hides a password in a URL so errors and logs never show it.
func redact(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	userinfo, host, ok := strings.Cut(rest, "@")
	if !ok {
		return url
	}
	if user, _, hasPass := strings.Cut(userinfo, ":"); hasPass {
		return scheme + "://" + user + ":xxxxx@" + host
	}
	return url
}

func gormLogger(l *slog.Logger) logger.Interface {
	if l == nil {
		return logger.Discard
	}
	return logger.NewSlogLogger(l, logger.Config{SlowThreshold: 500 * time.Millisecond, IgnoreRecordNotFoundError: true, LogLevel: logger.Warn})
}

// ErrNotInitialized means the database has no Tenure schema yet.
var ErrNotInitialized = errors.New("database not initialized: run 'tenure init' first")

// ErrSchemaOutdated means the database holds the schema of another Tenure version: a table or
// column this one needs may be missing, so nothing runs until `tenure init` migrates it.
var ErrSchemaOutdated = errors.New("the database schema is from another Tenure version: run 'tenure init' to migrate it")

// CheckSchema reports ErrNotInitialized when Migrate has never run on this database, and
// ErrSchemaOutdated when it ran for other row types than this binary's, so commands fail
// with what to do instead of a missing-table error halfway through their work.
func (s *Store) CheckSchema(ctx context.Context) error {
	db := s.db.WithContext(ctx)
	if !db.Migrator().HasTable(&auditRow{}) {
		return ErrNotInitialized
	}
	current, err := s.schemaFingerprintInDB(db)
	if err != nil {
		return err
	}
	if current != schemaFingerprint() {
		return ErrSchemaOutdated
	}
	return nil
}

// SQLitePath returns the file behind a sqlite:// URL, or "" for other URLs.
func SQLitePath(url string) string {
	kind, path, err := ParseURL(url)
	if err != nil || kind != SQLite {
		return ""
	}
	return path
}
