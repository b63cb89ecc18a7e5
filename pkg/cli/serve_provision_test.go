package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tenure-id/tenure/connectors/scim/scimtarget"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/identity"
)

// `tenure serve` provisions on its own: a termination pushed over the HR webhook disables the
// leader's accounts without waiting for the hourly reconciliation, and the scheduled full
// reconciliation gives an account to a person who appeared without any HR event.
func TestServeProvisionsOnLifecycleChangesAndOnSchedule(t *testing.T) {
	tg := scimtarget.New(scimtarget.Options{Token: "crm-token"})
	srv := httptest.NewServer(tg.Handler())
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	db := "sqlite://" + filepath.Join(dir, "tenure.db")
	policies := filepath.Join(dir, "policies")
	if err := os.Mkdir(policies, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(policies, "crm.yaml"), crashPolicy)
	cfg := filepath.Join(dir, "tenure.yaml")
	config := func(reconcile string) {
		writeFile(t, cfg, fmt.Sprintf("hr:\n  webhook:\n    token_env: TEST_HR_TOKEN\nprovisioning:\n  reconcile: %q\n  apps:\n"+
			"    crm: {connector: scim, base_url: %q, token_env: CRM_TOKEN}\n", reconcile, srv.URL))
	}
	config("@every 1h")
	env := map[string]string{"TENURE_DB": db, "TENURE_CONFIG": cfg, "TENURE_POLICIES": policies, "CRM_TOKEN": "crm-token"}
	if r := run(t, env, "init"); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	seedEmployees(t, db, 4)
	if r := run(t, env, "apply"); r.code != 0 {
		t.Fatalf("apply: %+v", r)
	}
	serveEnv := []string{"TENURE_DB=" + db, "TENURE_CONFIG=" + cfg, "TENURE_POLICIES=" + policies, "CRM_TOKEN=crm-token", "TEST_HR_TOKEN=s3cret"}
	addr := freePort(t)
	cmd, _ := startServe(t, addr, serveEnv...)

	body := fmt.Sprintf(`{"id": "evt-term", "type": "terminate", "employee_id": "E001", "effective_at": %q}`,
		time.Now().UTC().Format(time.RFC3339Nano))
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v1/hr/events", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("terminate push: status %d", resp.StatusCode)
	}
	active := func() map[string]bool {
		out := map[string]bool{}
		for _, u := range tg.Users() {
			out[u.UserName] = u.Active
		}
		return out
	}
	eventually(t, "user001 disabled after the termination", func() bool { a := active(); return len(a) == 4 && !a["user001"] })
	if a := active(); !a["user000"] || !a["user002"] || !a["user003"] {
		t.Errorf("accounts after one termination: %v; want only user001 disabled", a)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve exit after SIGTERM: %v", err)
	}

	config("@every 1s")
	addNewcomer(t, db)
	cmd, _ = startServe(t, freePort(t), serveEnv...)
	eventually(t, "the newcomer's account from the scheduled reconciliation", func() bool { return active()["newcomer"] })
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve exit after SIGTERM: %v", err)
	}
}

// addNewcomer writes a person straight into the directory, as no HR event would announce.
func addNewcomer(t *testing.T, db string) {
	t.Helper()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, db, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	units, err := s.ListOrgUnits(ctx)
	if err != nil || len(units) == 0 {
		t.Fatalf("org units: %v", err)
	}
	if _, err := s.CreatePerson(ctx, identity.Person{EmployeeID: "N001", LegalFirstName: "New", LegalLastName: "Comer",
		Username: "newcomer", WorkEmail: "newcomer@piedpiper.test", EmploymentType: identity.Employee, Status: identity.Active,
		OrgUnitID: units[0].ID}); err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond for up to 20 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 20s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
