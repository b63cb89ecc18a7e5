package testenv

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// childEnv switches the test binary into the helper mode used by
// TestServersDieWithTestProcess: start servers, report them, wait to be
// killed.
const childEnv = "TENURE_TESTENV_PDEATHSIG_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(pdeathsigChild())
	}
	os.Exit(RunMain(m))
}

// pdeathsigChild starts one postgres and one slapd, prints
// "pgPid pgDir pgPort slapdPid slapdDir slapdPort" and sleeps until killed.
func pdeathsigChild() int {
	bins, missing := lookupBinaries(append(pgBinaries, slapdBinaries...)...)
	if len(missing) > 0 {
		fmt.Fprintln(os.Stderr, "missing:", missing)
		return 3
	}
	preferSiblings(bins, "postgres", "initdb", "psql")
	cred, err := postgresCredential()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	pg, err := newPostgres(bins, cred)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	sl, err := newSlapd(bins, SlapdOptions{})
	if err != nil {
		pg.destroy()
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("%d %s %d %d %s %d\n",
		pg.proc.cmd.Process.Pid, pg.Dir, pg.Port,
		sl.proc.cmd.Process.Pid, sl.Dir, sl.Port)
	time.Sleep(time.Minute) // the parent kills us long before this
	pg.destroy()
	sl.destroy()
	return 2
}
