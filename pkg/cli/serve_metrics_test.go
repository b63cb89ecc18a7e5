package cli

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// `tenure serve` serves /metrics on its listen address: behind the token metrics.token_env
// names, with the requests it answered counted by route; metrics.enabled false takes it away.
func TestServeMetrics(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite://" + filepath.Join(dir, "tenure.db")
	if r := run(t, map[string]string{"TENURE_DB": db}, "init"); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	get := func(url, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	stop := func(cmd interface{ Wait() error }, signal func() error) {
		t.Helper()
		if err := signal(); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("serve exit after SIGTERM: %v", err)
		}
	}

	cfg := filepath.Join(dir, "tenure.yaml")
	writeFile(t, cfg, "metrics:\n  token_env: TEST_METRICS_TOKEN\n")
	addr := freePort(t)
	cmd, _ := startServe(t, addr, "TENURE_DB="+db, "TENURE_CONFIG="+cfg, "TEST_METRICS_TOKEN=scrape")
	if code, _ := get("http://"+addr+"/healthz", ""); code != http.StatusOK {
		t.Fatalf("GET /healthz = %d", code)
	}
	if code, _ := get("http://"+addr+"/metrics", ""); code != http.StatusUnauthorized {
		t.Errorf("GET /metrics without the token = %d, want 401", code)
	}
	code, body := get("http://"+addr+"/metrics", "scrape")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics = %d: %s", code, body)
	}
	for _, want := range []string{
		`tenure_http_requests_total{code="2xx",method="GET",route="GET /healthz"} 1`,
		`tenure_build_info{version=`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	stop(cmd, func() error { return cmd.Process.Signal(syscall.SIGTERM) })

	writeFile(t, cfg, "metrics:\n  enabled: false\n")
	addr = freePort(t)
	cmd, _ = startServe(t, addr, "TENURE_DB="+db, "TENURE_CONFIG="+cfg)
	if code, _ := get("http://"+addr+"/metrics", ""); code != http.StatusNotFound {
		t.Errorf("GET /metrics with metrics.enabled false = %d, want 404", code)
	}
	stop(cmd, func() error { return cmd.Process.Signal(syscall.SIGTERM) })
}
