package testenv

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServersDieWithTestProcess SIGKILLs a test binary that started a
// postgres (dropped to the postgres user) and a slapd, and checks both
// servers — and postgres's own children — die with it instead of lingering.
func TestServersDieWithTestProcess(t *testing.T) {
	t.Parallel()
	Require(t, append(pgBinaries, slapdBinaries...)...)
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnv+"=1")
	child.Stderr = os.Stderr
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(60 * time.Second):
		_ = child.Process.Kill()
		t.Fatal("child did not report its servers")
	}
	var pgPid, pgPort, slPid, slPort int
	var pgDir, slDir string
	if _, err := fmt.Sscan(line, &pgPid, &pgDir, &pgPort, &slPid, &slDir, &slPort); err != nil {
		_ = child.Process.Kill()
		t.Fatalf("child output %q: %v", line, err)
	}
	t.Cleanup(func() {
		_ = os.RemoveAll(pgDir)
		_ = os.RemoveAll(slDir)
	})
	pgChildren := childrenOf(pgPid)
	if len(pgChildren) == 0 {
		t.Errorf("found no postgres auxiliary processes under pid %d", pgPid)
	}

	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()

	pids := append([]int{pgPid, slPid}, pgChildren...)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var alive []int
		for _, pid := range pids {
			if processAlive(pid) {
				alive = append(alive, pid)
			}
		}
		if len(alive) == 0 {
			break
		}
		if time.Now().After(deadline) {
			for _, pid := range alive {
				_ = syscall.Kill(pid, syscall.SIGKILL) // do not leak them
			}
			t.Fatalf("processes %v survived the death of the test binary", alive)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if dialable(pgPort) || dialable(slPort) {
		t.Fatalf("ports %d/%d still accept connections", pgPort, slPort)
	}
}

// processAlive reports whether pid exists and is not a zombie (in a
// container PID 1 may never reap orphans, so zombies count as dead).
func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && len(s) > i+2 {
		return s[i+2] != 'Z' && s[i+2] != 'X'
	}
	return true
}

// childrenOf lists the pids whose parent is pid.
func childrenOf(pid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var kids []int
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(s[i+1:]) // state, ppid, ...
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			if kid, err := strconv.Atoi(filepath.Base(filepath.Dir(path))); err == nil {
				kids = append(kids, kid)
			}
		}
	}
	return kids
}
