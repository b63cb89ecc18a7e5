package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// process is a server running as a direct child of the test binary.
type process struct {
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed once the process has exited and been reaped
	waitErr error         // valid after done is closed
}

// startProcess starts cmd with Pdeathsig=SIGKILL and its stdout/stderr
// appended to logPath.
//
// The kernel delivers Pdeathsig when the *thread* that forked the child exits,
// not the process. Go normally never retires threads, except one whose
// goroutine exits while locked with runtime.LockOSThread — and any goroutine
// could later run on the thread we forked from and do exactly that, killing
// our server mid-test (golang/go#27505). So the child is forked from a
// goroutine that locks its thread and stays parked in cmd.Wait for the
// child's whole life: no other goroutine can use that thread, and it only goes
// away after the child has.
//
// Go applies SysProcAttr.Credential before setting Pdeathsig and the kernel
// clears Pdeathsig on a credential change, so the order matters and is right:
// a server dropped to the postgres user still dies with us.
func startProcess(cmd *exec.Cmd, logPath string) (*process, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("testenv: open log: %w", err)
	}
	cmd.Stdout = logf
	cmd.Stderr = logf
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL

	p := &process{cmd: cmd, logPath: logPath, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer close(p.done)
		err := cmd.Start()
		// The child holds its own copy of the descriptor; ours is not needed.
		_ = logf.Close()
		started <- err
		if err != nil {
			return
		}
		p.waitErr = cmd.Wait()
		// Safe to hand the thread back: the child is gone.
		runtime.UnlockOSThread()
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("testenv: start %s: %w", cmd.Path, err)
	}
	return p, nil
}

// exited reports whether the process has already terminated.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends each signal in turn, giving the process grace to exit after
// each, and returns once it has been reaped. The last resort is SIGKILL.
func (p *process) stop(grace time.Duration, sigs ...syscall.Signal) {
	for _, sig := range append(sigs, syscall.SIGKILL) {
		if p.exited() {
			return
		}
		if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
			continue
		}
		select {
		case <-p.done:
			return
		case <-time.After(grace):
		}
	}
	<-p.done
}

// logTail returns the last few lines of the process log, to make start-up
// failures diagnosable from the test output alone.
func (p *process) logTail() string {
	return fileTail(p.logPath, 20)
}

func fileTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// run executes a short-lived helper command (initdb, psql, ldapadd, …) and
// returns its combined output, wrapping any failure with that output.
func run(cmd *exec.Cmd) ([]byte, error) {
	var out bytes.Buffer
	if cmd.Stdout == nil {
		cmd.Stdout = &out
	}
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("%s %s: %w\n%s", cmd.Path, strings.Join(cmd.Args[1:], " "), err, strings.TrimSpace(out.String()))
	}
	return out.Bytes(), nil
}

// cleanEnv returns the environment minus variables that would silently
// change how the client tools behave (libpq's PG*, libldap's LDAP*): a
// developer's PGHOST or ~/.ldaprc must not redirect a test to another server.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LDAP") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}
