package testenv

import (
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// Per-test-binary state that outlives individual tests. It is only used
// while RunMain is running m.Run, because RunMain is the only code that runs
// after the last test and so the only place that can clean it up.
var (
	mainActive atomic.Bool

	teardown struct {
		sync.Mutex
		fns []func() // run in reverse order by RunMain
	}

	sharedPG struct {
		sync.Mutex
		pg  *Postgres
		err error
	}

	pgTmpl struct {
		sync.Mutex
		data string // data dir of the template cluster, "" until made
		err  error
	}
)

// RunMain runs the tests and then stops the servers shared by them
// (SharedPostgres) and removes their files, returning m.Run's exit code.
// Packages that use SharedPostgres must call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.RunMain(m)) }
//
// A shared server cannot be stopped by the tb.Cleanup of the test that
// happened to start it, since later tests still need it; TestMain is the only
// hook that runs after the last test. RunMain also enables the template
// cluster, so that every StartPostgres/SharedPostgres after the first copies a
// data directory (~0.15 s) instead of running initdb (~1.5 s).
func RunMain(m *testing.M) int {
	mainActive.Store(true)
	code := m.Run()
	mainActive.Store(false)

	teardown.Lock()
	fns := teardown.fns
	teardown.fns = nil
	teardown.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}

	sharedPG.Lock()
	sharedPG.pg, sharedPG.err = nil, nil
	sharedPG.Unlock()
	pgTmpl.Lock()
	pgTmpl.data, pgTmpl.err = "", nil
	pgTmpl.Unlock()
	return code
}

func atTeardown(fn func()) {
	teardown.Lock()
	defer teardown.Unlock()
	teardown.fns = append(teardown.fns, fn)
}

// SharedPostgres returns the one PostgreSQL server shared by all tests of the
// test binary, starting it on first use. Tests must isolate themselves with
// NewDatabase and must not Stop it. The package's TestMain must call RunMain
// (see there); SharedPostgres fails the test otherwise, because the server's
// temp dir would never be removed.
func SharedPostgres(tb testing.TB) *Postgres {
	tb.Helper()
	bins, cred := requirePostgres(tb)
	if !mainActive.Load() {
		tb.Fatalf("testenv: SharedPostgres needs TestMain to call RunMain:\n\tfunc TestMain(m *testing.M) { os.Exit(testenv.RunMain(m)) }")
	}
	sharedPG.Lock()
	defer sharedPG.Unlock()
	if sharedPG.pg == nil && sharedPG.err == nil {
		sharedPG.pg, sharedPG.err = newPostgres(bins, cred)
		if sharedPG.err == nil {
			atTeardown(sharedPG.pg.destroy)
		}
	}
	if sharedPG.err != nil {
		// Remembered so that every later test fails fast with the same
		// cause instead of retrying a slow, doomed start.
		tb.Fatalf("testenv: start shared postgres: %v", sharedPG.err)
	}
	return sharedPG.pg
}

// pgTemplate returns the data directory of a pristine cluster to copy, made
// by initdb once per test binary, or "" when RunMain is not in charge (then
// nothing would delete the template, so each server runs initdb itself).
func pgTemplate(bins map[string]string, cred *syscall.Credential) (string, error) {
	if !mainActive.Load() {
		return "", nil
	}
	pgTmpl.Lock()
	defer pgTmpl.Unlock()
	if pgTmpl.data != "" || pgTmpl.err != nil {
		return pgTmpl.data, pgTmpl.err
	}
	dir, err := makeServerDir(pgBaseDir(cred != nil), "tenure-pgtmpl-", cred)
	if err != nil {
		pgTmpl.err = err
		return "", err
	}
	data := filepath.Join(dir, "data")
	if err := initdb(bins, cred, data); err != nil {
		_ = os.RemoveAll(dir)
		pgTmpl.err = err
		return "", err
	}
	pgTmpl.data = data
	atTeardown(func() { _ = os.RemoveAll(dir) })
	return data, nil
}
