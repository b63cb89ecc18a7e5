package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// maxBaseDirLen keeps the PostgreSQL unix socket path
// (<base>/tenure-pg-NNNNNNNNN/.s.PGSQL.NNNNN.lock) under the 107-byte
// sun_path limit; a longer TMPDIR would make the server refuse to start.
const maxBaseDirLen = 60

// pgBaseDir picks the parent for server directories. When the server runs
// as another user (root → postgres), every ancestor must be traversable by
// that user; /tmp always is, a TMPDIR under /root is not.
func pgBaseDir(otherUser bool) string {
	base := os.TempDir()
	if len(base) > maxBaseDirLen {
		return "/tmp"
	}
	if otherUser && !traversableByOthers(base) {
		return "/tmp"
	}
	return base
}

// traversableByOthers reports whether every directory from / down to dir has
// the world-execute bit set.
func traversableByOthers(dir string) bool {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	for d := abs; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		if d == "/" {
			return true
		}
	}
}

// makeServerDir creates a private 0700 temp dir owned by cred's user (or by
// us when cred is nil). We deliberately avoid tb.TempDir: shared servers
// outlive the test that started them, and the directory must belong to the
// server's user.
func makeServerDir(base, prefix string, cred *syscall.Credential) (string, error) {
	dir, err := os.MkdirTemp(base, prefix)
	if err != nil {
		return "", fmt.Errorf("testenv: create server dir: %w", err)
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			_ = os.RemoveAll(dir)
			return "", fmt.Errorf("testenv: chown server dir to uid %d: %w", cred.Uid, err)
		}
	}
	return dir, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// provisionDataDir fills data with a fresh cluster: a copy of the
// per-test-binary template when one is available (~0.15 s), else initdb
// (~1.5 s).
func provisionDataDir(bins map[string]string, cred *syscall.Credential, data string) error {
	tmpl, err := pgTemplate(bins, cred)
	if err != nil {
		return err
	}
	if tmpl == "" {
		return initdb(bins, cred, data)
	}
	// cp -a keeps ownership (we are root or the owner) and the 0700 mode
	// that postgres insists on.
	if _, err := run(exec.Command("cp", "-a", tmpl, data)); err != nil {
		return fmt.Errorf("testenv: copy template cluster: %w", err)
	}
	return nil
}

// initdb creates a cluster with trust auth for the "postgres" superuser. The
// C locale makes collation (and so ORDER BY in tests) identical on every
// machine.
func initdb(bins map[string]string, cred *syscall.Credential, data string) error {
	cmd := exec.Command(bins["initdb"],
		"-D", data, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	cmd.Dir = filepath.Dir(data)
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if _, err := run(cmd); err != nil {
		return fmt.Errorf("testenv: initdb: %w", err)
	}
	return nil
}
