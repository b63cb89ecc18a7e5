package cli

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/connector/memconn"
)

// memApps are in-process apps the "memtest" connector type opens by options.instance, so a
// test can prepare an app, run the CLI against it and look at it afterwards.
var (
	memAppsMu sync.Mutex
	memApps   = map[string]*memconn.App{}
)

func init() {
	connectorTypes["memtest"] = func(app string, cfg config.AppConfig, _ func(string) string, _ *slog.Logger) (connector.Connector, error) {
		memAppsMu.Lock()
		defer memAppsMu.Unlock()
		a, ok := memApps[cfg.Options["instance"]]
		if !ok {
			return nil, fmt.Errorf("app %s: no memtest instance %q", app, cfg.Options["instance"])
		}
		return a, nil
	}
}

// planEnv seeds the small company and configures slack and github as in-process apps.
func planEnv(t *testing.T) (map[string]string, *memconn.App, *memconn.App) {
	t.Helper()
	db := tempDB(t)
	seed(t, db)
	slack := memconn.New(connector.Traits{CanDisable: true, MembershipKinds: []string{"channel"}})
	github := memconn.New(connector.Traits{CanDisable: false, MembershipKinds: []string{"team"}, Fields: []string{"user_name", "email", "role"}})
	slack.Put(connector.Account{UserName: "bighead", Email: "bighead@hooli.test", Active: true})
	memAppsMu.Lock()
	memApps[t.Name()+"/slack"], memApps[t.Name()+"/github"] = slack, github
	memAppsMu.Unlock()
	cfg := filepath.Join(t.TempDir(), "tenure.yaml")
	yaml := fmt.Sprintf(`provisioning:
  apps:
    slack: {connector: memtest, options: {instance: %q}}
    github: {connector: memtest, options: {instance: %q}}
`, t.Name()+"/slack", t.Name()+"/github")
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"TENURE_DB": db, "TENURE_POLICIES": shippedPolicies, "TENURE_CONFIG": cfg}, slack, github
}

var planNow = time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)

func TestPlanTable(t *testing.T) {
	env, slack, _ := planEnv(t)
	r := runAt(t, planNow, env, "plan")
	if r.code != 0 {
		t.Fatalf("plan: %+v", r)
	}
	for _, want := range []string{
		"Plan at 2026-11-28T09:30:00Z: ",
		"== github\n  Bertram Gilfoyle (E002)\n    create        account gilfoyle (role member)  <- rule engineering-github\n" +
			"    add_member    team:engineering  <- rule engineering-github\n",
		"== slack\n  Laurie Bream (E001)\n    create        account laurie.bream (role member)  <- rule employees-slack\n",
		"    add_member    channel:engineering  <- rule division-groups-engineering\n",
		"  orphan: bighead (bighead@hooli.test, id u1, active)\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan output lacks %q", want)
		}
	}
	if strings.Contains(r.stdout, "Jian Yang") { // a pre-hire contractor: no rule opts in before the start
		t.Error("the pre-hire contractor gets an account")
	}
	rows := map[string]string{}
	for _, line := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(line); len(f) > 10 {
			rows[f[0]] = strings.Join(f[1:], " ")
		}
	}
	if rows["APP"] != "CREATE ENABLE UPDATE ADD_MEMBER REMOVE_MEMBER DISABLE DELETE ORPHANS DRIFT CONFLICTS ERROR" ||
		rows["github"] != "1 0 0 1 0 0 0 0 0 0 -" || !strings.HasPrefix(rows["slack"], "2 0 0 ") || !strings.HasSuffix(rows["slack"], " 1 0 0 -") {
		t.Errorf("summary rows: %q", rows)
	}
	if t.Failed() {
		t.Log(r.stdout)
	}
	if n := len(slack.Snapshot()); n != 1 {
		t.Errorf("plan changed the app: %d accounts", n)
	}

	r = runAt(t, planNow, env, "plan", "--app", "github")
	if r.code != 0 || strings.Contains(r.stdout, "== slack") || !strings.Contains(r.stdout, "== github") {
		t.Errorf("plan --app github: %+v", r)
	}
	r = runAt(t, planNow, env, "plan", "--app", "myspace")
	if r.code != 1 || !strings.Contains(r.stderr, `app "myspace" is not in the policy catalogue`) {
		t.Errorf("plan --app myspace: %+v", r)
	}
	slack.FailNext(&connector.Error{Kind: connector.ErrUnauthorized, Status: 401}, 1)
	r = runAt(t, planNow, env, "plan")
	if r.code != 1 || !strings.Contains(r.stdout, "== slack: NOT PLANNED: list accounts in slack: the app refused the credentials (HTTP 401)") ||
		!strings.Contains(r.stdout, "== github\n  Bertram Gilfoyle") || !strings.Contains(r.stderr, "1 app(s) could not be planned: slack:") {
		t.Errorf("plan with slack failing: %+v", r)
	}
}

func TestPlanJSON(t *testing.T) {
	env, _, _ := planEnv(t)
	r := runAt(t, planNow, env, "plan", "-o", "json")
	if r.code != 0 {
		t.Fatalf("plan -o json: %+v", r)
	}
	var plan struct {
		GeneratedAt time.Time `json:"generated_at"`
		Apps        []struct {
			App        string `json:"app"`
			Operations []struct {
				Kind        string `json:"kind"`
				App         string `json:"app"`
				PersonID    string `json:"person_id"`
				Entitlement string `json:"entitlement"`
				Reason      string `json:"reason"`
				Account     struct {
					ExternalID string `json:"external_id"`
					UserName   string `json:"user_name"`
					Email      string `json:"email"`
					Active     bool   `json:"active"`
					Role       string `json:"role"`
				} `json:"account"`
			} `json:"operations"`
			Orphans []struct {
				UserName string `json:"user_name"`
			} `json:"orphans"`
		} `json:"apps"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &plan); err != nil {
		t.Fatalf("%v in %s", err, r.stdout)
	}
	if !plan.GeneratedAt.Equal(planNow) || len(plan.Apps) != 2 || plan.Apps[0].App != "github" || plan.Apps[1].App != "slack" {
		t.Fatalf("plan: %+v", plan)
	}
	gh := plan.Apps[0].Operations
	if len(gh) != 2 || gh[0].Kind != "create" || gh[0].App != "github" || gh[0].PersonID == "" || gh[0].Account.ExternalID != gh[0].PersonID ||
		gh[0].Account.UserName != "gilfoyle" || gh[0].Account.Email != "gilfoyle@piedpiper.test" || !gh[0].Account.Active ||
		gh[0].Account.Role != "member" || gh[0].Reason != "rule engineering-github" ||
		gh[1].Kind != "add_member" || gh[1].Entitlement != "team:engineering" {
		t.Errorf("github operations: %+v", gh)
	}
	if o := plan.Apps[1].Orphans; len(o) != 1 || o[0].UserName != "bighead" {
		t.Errorf("slack orphans: %+v", o)
	}

	r = runAt(t, planNow, env, "plan", "-o", "csv", "--app", "github")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 3 || lines[0] != "APP,EMPLOYEE_ID,PERSON,OPERATION,ACCOUNT_ID,ENTITLEMENT,FIELDS,URGENT,REASON" ||
		lines[1] != "github,E002,Bertram Gilfoyle,create,,,,false,rule engineering-github" ||
		lines[2] != "github,E002,Bertram Gilfoyle,add_member,,team:engineering,,false,rule engineering-github" {
		t.Errorf("plan -o csv: %+v", r)
	}
}

// quiet is the logger for connectors opened directly by tests.
var quiet = slog.New(slog.DiscardHandler)
