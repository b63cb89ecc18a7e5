package testenv

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Postgres is a throwaway PostgreSQL 15 server listening on 127.0.0.1:Port,
// with trust authentication for the superuser "postgres" and fsync off.
type Postgres struct {
	// URL connects as "postgres" to the "postgres" database, e.g.
	// postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable.
	// Tests should normally use NewDatabase instead, to stay isolated.
	URL  string
	Host string // always 127.0.0.1
	Port int
	Dir  string // temp dir holding data/, postgres.log and the unix socket

	bins map[string]string
	proc *process

	mu      sync.Mutex
	stopped bool
}

// pgBinaries are the PostgreSQL programs this package runs.
var pgBinaries = []string{"postgres", "initdb", "psql"}

// pgStartTimeout bounds how long a start may take before it is reported as a
// failure; generous because CI machines can be slow and loaded.
const pgStartTimeout = 30 * time.Second

// StartPostgres starts a private PostgreSQL server for tb and registers a
// cleanup that stops it and deletes its files. Use it when a test needs a
// server of its own (to stop it, or to change server settings); otherwise
// prefer SharedPostgres plus NewDatabase, which avoids the ~1.5 s initdb.
func StartPostgres(tb testing.TB) *Postgres {
	tb.Helper()
	bins, cred := requirePostgres(tb)
	p, err := newPostgres(bins, cred)
	if err != nil {
		tb.Fatalf("testenv: start postgres: %v", err)
	}
	tb.Cleanup(p.destroy)
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("testenv: postgres log (%s) tail:\n%s", p.proc.logPath, p.proc.logTail())
		}
	})
	return p
}

// requirePostgres resolves the binaries and, when running as root, the
// "postgres" system user: initdb and postgres refuse to run as root, so they
// are started with that user's credentials.
func requirePostgres(tb testing.TB) (map[string]string, *syscall.Credential) {
	tb.Helper()
	bins := Require(tb, pgBinaries...)
	preferSiblings(bins, "postgres", "initdb", "psql")
	cred, err := postgresCredential()
	if err != nil {
		missingDeps(tb, err.Error(), []string{"postgresql"})
	}
	return bins, cred
}

// preferSiblings makes all of names resolve in the real directory of anchor
// when they exist there: /usr/bin/psql on Debian is a version-selecting Perl
// wrapper, and the client should match the server anyway. Only the anchor's
// symlinks are resolved (a /usr/local/bin/postgres link points into
// /usr/lib/postgresql/15/bin); Require itself must not resolve symlinks,
// because tools such as ldapadd → ldapmodify dispatch on argv[0].
func preferSiblings(bins map[string]string, anchor string, names ...string) {
	resolved, err := filepath.EvalSymlinks(bins[anchor])
	if err != nil {
		return
	}
	dir := filepath.Dir(resolved)
	for _, name := range names {
		if path := filepath.Join(dir, name); fileExists(path) {
			bins[name] = path
		}
	}
}

// postgresCredential returns nil when not root (the server then simply runs
// as the current user), else the credentials of the "postgres" user.
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, but no \"postgres\" system user to run PostgreSQL as: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parse uid of postgres user: %w", err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parse gid of postgres user: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// newPostgres creates, initializes and starts a server. It takes no
// testing.TB so that shared servers are not tied to one test's lifetime.
func newPostgres(bins map[string]string, cred *syscall.Credential) (p *Postgres, err error) {
	dir, err := makeServerDir(pgBaseDir(cred != nil), "tenure-pg-", cred)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	data := filepath.Join(dir, "data")
	if err := provisionDataDir(bins, cred, data); err != nil {
		return nil, err
	}
	p = &Postgres{Host: loopback, Dir: dir, bins: bins}
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		err = p.start(cred, data, port)
		if err == nil {
			return p, nil
		}
		if attempt == startAttempts || !errors.Is(err, errPortInUse) {
			return nil, err
		}
	}
}

// errPortInUse marks a start that failed only because the port was taken
// between freePort and the server binding it; such starts are retried.
var errPortInUse = errors.New("port already in use")

func (p *Postgres) start(cred *syscall.Credential, data string, port int) error {
	cmd := exec.Command(p.bins["postgres"],
		"-D", data,
		"-p", strconv.Itoa(port),
		"-k", p.Dir,
		"-c", "listen_addresses="+loopback,
		// Durability is pointless for a throwaway server and costs seconds.
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		// Minimal WAL makes CREATE DATABASE ... STRATEGY FILE_COPY (used by
		// NewDatabase) about 2.5x faster than the default WAL_LOG copy.
		// It rules out replication, which no test needs.
		"-c", "wal_level=minimal",
		"-c", "max_wal_senders=0",
		// Parallel tests with connection pools on one shared server add up.
		"-c", "max_connections=200",
	)
	cmd.Dir = p.Dir
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	proc, err := startProcess(cmd, filepath.Join(p.Dir, "postgres.log"))
	if err != nil {
		return err
	}
	deadline := time.Now().Add(pgStartTimeout)
	for {
		if proc.exited() {
			tail := proc.logTail()
			if strings.Contains(tail, "already in use") || strings.Contains(tail, "could not bind") {
				return fmt.Errorf("testenv: postgres on port %d: %w\n%s", port, errPortInUse, tail)
			}
			return fmt.Errorf("testenv: postgres exited during start-up (%v); log:\n%s", proc.waitErr, tail)
		}
		if postmasterReady(data) && dialable(port) {
			break
		}
		if time.Now().After(deadline) {
			proc.stop(5*time.Second, syscall.SIGQUIT)
			return fmt.Errorf("testenv: postgres not ready after %s; log:\n%s", pgStartTimeout, proc.logTail())
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.proc = proc
	p.Port = port
	p.URL = p.databaseURL("postgres")
	return nil
}

// postmasterReady reads the status line of postmaster.pid, which is how
// pg_ctl -w itself decides that a server accepts connections; it is cheaper
// than spawning pg_isready in a loop.
func postmasterReady(data string) bool {
	b, err := os.ReadFile(filepath.Join(data, "postmaster.pid"))
	if err != nil {
		return false
	}
	lines := strings.Split(string(b), "\n")
	return len(lines) >= 8 && strings.TrimSpace(lines[7]) == "ready"
}

func (p *Postgres) databaseURL(name string) string {
	return fmt.Sprintf("postgres://postgres@%s/%s?sslmode=disable", addr(p.Port), name)
}

// Stop shuts the server down (fast shutdown, escalating to immediate and then
// SIGKILL) and waits for it to exit. It is idempotent. The files stay until
// cleanup. Do not call it on a SharedPostgres server: other tests use it.
func (p *Postgres) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.stopped = true
	p.proc.stop(10*time.Second, syscall.SIGINT, syscall.SIGQUIT)
}

func (p *Postgres) isStopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopped
}

// destroy stops the server and removes its directory.
func (p *Postgres) destroy() {
	p.Stop()
	_ = os.RemoveAll(p.Dir)
}

// NewDatabase creates an empty database with a unique name derived from the
// test name and returns its URL; the database is dropped (forcibly, errors
// ignored) when tb ends. A database costs ~0.15 s (mostly the psql spawn), so
// per-test databases on one shared server are the cheap way to isolate tests.
func (p *Postgres) NewDatabase(tb testing.TB) string {
	tb.Helper()
	return p.newDatabase(tb, "")
}

// NewDatabaseFrom creates a fresh database as a copy of the database at templateURL (made by
// NewDatabase and then, say, migrated once). Copying a migrated schema is much faster than
// migrating every test's database. Nothing may be connected to the template while it is copied.
func (p *Postgres) NewDatabaseFrom(tb testing.TB, templateURL string) string {
	tb.Helper()
	u, err := url.Parse(templateURL)
	if err != nil || strings.Trim(u.Path, "/") == "" {
		tb.Fatalf("testenv: template URL %q names no database", templateURL)
	}
	return p.newDatabase(tb, strings.Trim(u.Path, "/"))
}

func (p *Postgres) newDatabase(tb testing.TB, template string) string {
	tb.Helper()
	if p.isStopped() {
		tb.Fatalf("testenv: NewDatabase on a stopped postgres (port %d)", p.Port)
	}
	name := uniqueDBName(tb.Name())
	sql := fmt.Sprintf(`CREATE DATABASE "%s" STRATEGY FILE_COPY`, name)
	if template != "" {
		sql = fmt.Sprintf(`CREATE DATABASE "%s" TEMPLATE "%s" STRATEGY FILE_COPY`, name, template)
	}
	if err := p.exec(p.URL, sql); err != nil {
		tb.Fatalf("testenv: create database: %v", err)
	}
	tb.Cleanup(func() {
		if !p.isStopped() {
			_ = p.exec(p.URL, fmt.Sprintf(`DROP DATABASE IF EXISTS "%s" WITH (FORCE)`, name))
		}
	})
	return p.databaseURL(name)
}

// exec runs SQL through psql against url, failing on the first error.
func (p *Postgres) exec(url, sql string) error {
	cmd := exec.Command(p.bins["psql"], "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql)
	cmd.Env = cleanEnv()
	_, err := run(cmd)
	return err
}

var dbSeq struct {
	sync.Mutex
	n int
}

// uniqueDBName turns a test name into a valid, unquoted-safe identifier that
// stays unique across tests, subtests and -count runs within this process.
// The pid makes it unique across concurrent test binaries too, in case
// several ever share a server.
func uniqueDBName(testName string) string {
	dbSeq.Lock()
	dbSeq.n++
	n := dbSeq.n
	dbSeq.Unlock()
	var b strings.Builder
	for _, r := range strings.ToLower(testName) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 40 {
			break
		}
	}
	return fmt.Sprintf("t_%s_%d_%d", b.String(), os.Getpid(), n)
}
