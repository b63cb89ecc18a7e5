package cli

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary act as the tenure binary, so subprocess tests exercise real
// signals and exit codes without a separate build.
func TestMain(m *testing.M) {
	if os.Getenv("TENURE_TEST_AS_CLI") == "1" {
		os.Exit(Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
	}
	os.Exit(m.Run())
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestServeHealthAndGracefulSIGTERM(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "tenure.db")
	if r := run(t, map[string]string{"TENURE_DB": db}, "init"); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	addr := freePort(t)
	cmd, logs := startServe(t, addr, "TENURE_DB="+db)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s = %d", path, resp.StatusCode)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, logs, "msg=stopped")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM, want exit 0", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not exit within 10s of SIGTERM")
	}
}

func TestServeRefusesUninitializedDatabase(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "none.db")
	cmd := exec.Command(os.Args[0], "serve", "--listen", freePort(t))
	cmd.Env = append(os.Environ(), "TENURE_TEST_AS_CLI=1", "TENURE_DB="+db)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "tenure init") {
		t.Fatalf("serve on missing db: %v, %s", err, out)
	}
}

// startServe runs `tenure serve` as a real process (this test binary in CLI mode) with extra
// environment, and returns its stderr lines once it is listening. It is killed when t ends.
func startServe(t *testing.T, addr string, env ...string) (*exec.Cmd, <-chan string) {
	t.Helper()
	cmd, logs := spawnServe(t, addr, env...)
	waitFor(t, logs, "msg=serving")
	return cmd, logs
}

// spawnServe is startServe without waiting for it to listen: for tests that want what it logs
// before that.
func spawnServe(t *testing.T, addr string, env ...string) (*exec.Cmd, <-chan string) {
	t.Helper()
	return spawnCLI(t, []string{"serve", "--listen", addr}, env...)
}

// spawnCLI runs the CLI with args as a real process and returns its stderr lines as they come.
func spawnCLI(t *testing.T, args []string, env ...string) (*exec.Cmd, <-chan string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "TENURE_TEST_AS_CLI=1"), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	logs := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs <- sc.Text()
		}
		close(logs)
	}()
	return cmd, logs
}

func waitFor(t *testing.T, lines <-chan string, want string) {
	t.Helper()
	timeout := time.After(15 * time.Second)
	var seen []string
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("process ended before logging %q; logs:\n%s", want, strings.Join(seen, "\n"))
			}
			seen = append(seen, l)
			if strings.Contains(l, want) {
				return
			}
		case <-timeout:
			t.Fatal(fmt.Sprintf("no %q within 15s; logs:\n%s", want, strings.Join(seen, "\n")))
		}
	}
}
