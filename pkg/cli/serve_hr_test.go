package cli

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The running server takes an HR event over the webhook, stores it because it is dated in the
// future, and its scheduler applies it at that moment: the whole path `tenure serve` wires.
func TestServeAppliesFutureWebhookEventOnTime(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite://" + filepath.Join(dir, "tenure.db")
	cfg := filepath.Join(dir, "tenure.yaml")
	writeFile(t, cfg, "hr:\n  email_domain: piedpiper.test\n  webhook:\n    token_env: TEST_HR_TOKEN\n")
	env := map[string]string{"TENURE_DB": db, "TENURE_CONFIG": cfg}
	if r := run(t, env, "init"); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	addr := freePort(t)
	cmd, logs := startServe(t, addr, "TENURE_DB="+db, "TENURE_CONFIG="+cfg, "TEST_HR_TOKEN=s3cret")

	effective := time.Now().Add(2 * time.Second).UTC().Format(time.RFC3339Nano)
	body := fmt.Sprintf(`{"id": "evt-1", "type": "hire", "employee_id": "PP900", "effective_at": %q,
		"data": {"first_name": "Monica", "last_name": "Hall", "organization": "Pied Piper", "employment_type": "employee"}}`, effective)
	post := func(token string) int {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v1/hr/events", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("wrong"); code != http.StatusUnauthorized {
		t.Fatalf("wrong token: status %d, want 401", code)
	}
	if code := post("s3cret"); code/100 != 2 {
		t.Fatalf("event push: status %d", code)
	}
	if r := run(t, env, "people", "show", "PP900"); r.code == 0 {
		t.Fatalf("future hire applied before its moment: %s", r.stdout)
	}
	waitFor(t, logs, "applied due hr events")
	r := run(t, env, "people", "show", "PP900", "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"work_email": "monica.hall@piedpiper.test"`) {
		t.Fatalf("after the effective moment: %+v", r)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve exit after SIGTERM: %v", err)
	}
}
