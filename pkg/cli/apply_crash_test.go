package cli

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/connectors/scim/scimtarget"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/identity"
)

const crashPolicy = `apps:
  - name: crm
    connector: scim
    roles: [member]
    entitlements: [group:everyone]
rules:
  - name: everyone-crm
    when: {employment_type: [employee]}
    grant:
      - app: crm
        role: member
        entitlements: [group:everyone]
`

// A real `tenure apply` process is SIGKILLed at random moments and started again; the SCIM
// target lives in this test process, so it keeps whatever each killed run did. In the end the
// target holds exactly the desired state: every person once, in the group, and every op done.
func TestApplySurvivesSIGKILL(t *testing.T) {
	const people = 120
	tg := scimtarget.New(scimtarget.Options{Token: "crm-token"})
	tg.SetLatency(2 * time.Millisecond)
	srv := httptest.NewServer(tg.Handler())
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	db := "sqlite://" + filepath.Join(dir, "tenure.db")
	if r := run(t, map[string]string{"TENURE_DB": db}, "init"); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	seedEmployees(t, db, people)
	policies := filepath.Join(dir, "policies")
	if err := os.Mkdir(policies, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(policies, "crm.yaml"), crashPolicy)
	cfg := filepath.Join(dir, "tenure.yaml")
	writeFile(t, cfg, fmt.Sprintf("provisioning:\n  apps:\n    crm: {connector: scim, base_url: %q, token_env: CRM_TOKEN, concurrency: 4}\n", srv.URL))
	env := []string{"TENURE_TEST_AS_CLI=1", "TENURE_DB=" + db, "TENURE_CONFIG=" + cfg, "TENURE_POLICIES=" + policies, "CRM_TOKEN=crm-token"}
	apply := func(ctx context.Context) *exec.Cmd {
		cmd := exec.CommandContext(ctx, os.Args[0], "apply", "--lease", "1s")
		cmd.Env = append(os.Environ(), env...)
		return cmd
	}

	rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	killed, midway := 0, 0
	for i := range 10 {
		cmd := apply(context.Background())
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill after a random number of requests reached the target, not after a random
		// time: how long a run takes to start and plan depends on the machine's load, and a
		// kill before the first request proves nothing.
		after := len(tg.Requests()) + 1 + rnd.IntN(60)
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		tick := time.NewTicker(time.Millisecond)
	wait:
		for {
			select {
			case err := <-exited:
				t.Logf("run %d finished before its kill after request %d: %v", i, after, err)
				break wait
			case <-tick.C:
				if len(tg.Requests()) < after {
					continue
				}
				if err := cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
				<-exited
				killed++
				if n := len(tg.Users()); n > 0 && n < people || n == people && len(tg.Groups()) == 0 {
					midway++
				}
				break wait
			}
		}
		tick.Stop()
	}
	if midway == 0 {
		t.Fatalf("no apply was killed mid-run (%d killed before or after their work); the test proved nothing", killed)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := apply(ctx).CombinedOutput()
	if err != nil {
		t.Fatalf("final apply after %d kills: %v\n%s", killed, err, out)
	}

	users := tg.Users()
	byExt := map[string]int{}
	for _, u := range users {
		byExt[u.ExternalID]++
		if !u.Active {
			t.Errorf("user %s is inactive", u.UserName)
		}
	}
	if len(users) != people || len(byExt) != people {
		t.Errorf("target holds %d users with %d distinct external IDs; want %d, each once", len(users), len(byExt), people)
	}
	groups := tg.Groups()
	if len(groups) != 1 || groups[0].DisplayName != "everyone" || len(groups[0].Members) != people {
		var desc []string
		for _, g := range groups {
			desc = append(desc, fmt.Sprintf("%s (%d members)", g.DisplayName, len(g.Members)))
		}
		t.Errorf("target groups: %v; want everyone with %d members", desc, people)
	}
	s, err := sqlstore.Open(context.Background(), db, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ops, err := s.ListOps(context.Background(), directory.OutboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range ops {
		if o.State != directory.OpDone {
			t.Errorf("op %d %s %s is %s (%s); want done", o.ID, o.Kind, o.PersonID, o.State, o.LastError)
		}
	}
	t.Logf("%d of 10 runs killed, %d with the target half done; %d ops in the outbox; %d requests to the target", killed, midway, len(ops), len(tg.Requests()))
	if r := run(t, map[string]string{"TENURE_DB": db, "TENURE_CONFIG": cfg, "TENURE_POLICIES": policies, "CRM_TOKEN": "crm-token"}, "plan", "-o", "json"); r.code != 0 || strings.Contains(r.stdout, `"kind"`) {
		t.Errorf("a plan after the crashes still has work: %+v", r)
	}
}

// seedEmployees adds n active employees.
func seedEmployees(t *testing.T, db string, n int) {
	t.Helper()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, db, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	org, err := s.CreateOrgUnit(ctx, identity.OrgUnit{Name: "Pied Piper", Kind: identity.Organization})
	if err != nil {
		t.Fatal(err)
	}
	batch := make([]directory.NewPerson, n)
	for i := range batch {
		u := fmt.Sprintf("user%03d", i)
		batch[i] = directory.NewPerson{Person: identity.Person{EmployeeID: fmt.Sprintf("E%03d", i), LegalFirstName: "User",
			LegalLastName: fmt.Sprintf("Number%03d", i), Username: u, WorkEmail: u + "@piedpiper.test",
			EmploymentType: identity.Employee, Status: identity.Active, OrgUnitID: org.ID}}
	}
	if _, err := s.CreatePeople(ctx, batch); err != nil {
		t.Fatal(err)
	}
}
