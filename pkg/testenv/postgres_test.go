package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// query runs one SQL statement through psql and returns its unaligned output.
func query(t *testing.T, p *Postgres, url, sql string) (string, error) {
	t.Helper()
	cmd := exec.Command(p.bins["psql"], "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql)
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func TestStartPostgres(t *testing.T) {
	t.Parallel()
	start := time.Now()
	p := StartPostgres(t)
	t.Logf("StartPostgres took %s (port %d, dir %s)", time.Since(start), p.Port, p.Dir)

	if p.Host != "127.0.0.1" || !strings.HasPrefix(p.URL, "postgres://postgres@127.0.0.1:") {
		t.Fatalf("unexpected Host %q / URL %q", p.Host, p.URL)
	}
	start = time.Now()
	db1, db2 := p.NewDatabase(t), p.NewDatabase(t)
	t.Logf("two NewDatabase calls took %s", time.Since(start))
	if db1 == db2 {
		t.Fatalf("NewDatabase returned the same URL twice: %s", db1)
	}
	for _, url := range []string{db1, db2} {
		if out, err := query(t, p, url, "select 1"); err != nil || out != "1" {
			t.Fatalf("select 1 on %s: %q, %v", url, out, err)
		}
	}
	// The databases really are separate.
	if out, err := query(t, p, db1, "create table only_in_db1(x int)"); err != nil {
		t.Fatalf("create table: %s: %v", out, err)
	}
	if out, err := query(t, p, db2, "select count(*) from only_in_db1"); err == nil {
		t.Fatalf("table leaked into second database: %s", out)
	}

	// Stop makes the port refuse connections and is idempotent.
	p.Stop()
	p.Stop()
	if dialable(p.Port) {
		t.Fatalf("port %d still accepts connections after Stop", p.Port)
	}
	if _, err := os.Stat(p.Dir); err != nil {
		t.Fatalf("Stop must keep the files until cleanup: %v", err)
	}
}

func TestStartPostgresCleanupRemovesDir(t *testing.T) {
	t.Parallel()
	var dir string
	var port int
	t.Run("inner", func(t *testing.T) {
		p := StartPostgres(t)
		dir, port = p.Dir, p.Port
	})
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("dir %s still exists after cleanup: %v", dir, err)
	}
	if dialable(port) {
		t.Fatalf("port %d still accepts connections after cleanup", port)
	}
}

func TestSharedPostgres(t *testing.T) {
	t.Parallel()
	start := time.Now()
	p := SharedPostgres(t)
	t.Logf("SharedPostgres took %s", time.Since(start))
	if again := SharedPostgres(t); again != p {
		t.Fatalf("SharedPostgres returned a second server")
	}
	// Parallel tests call NewDatabase concurrently; names and the
	// template database must not collide.
	for range 4 {
		t.Run("db", func(t *testing.T) {
			t.Parallel()
			url := p.NewDatabase(t)
			if out, err := query(t, p, url, "select current_database()"); err != nil {
				t.Errorf("query: %s: %v", out, err)
			}
		})
	}
}
