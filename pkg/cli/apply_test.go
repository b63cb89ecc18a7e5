package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/connector/memconn"
)

// refusingApps are memtest apps whose Apply answers with an error while one is set, so a test
// can make an app refuse and later recover without touching what planning reads.
var refusingApps = struct {
	sync.Mutex
	err map[string]error
}{err: map[string]error{}}

type refusingApp struct {
	*memconn.App
	instance string
}

func (a refusingApp) Apply(ctx context.Context, op connector.Op) (connector.Account, error) {
	refusingApps.Lock()
	err := refusingApps.err[a.instance]
	refusingApps.Unlock()
	if err != nil {
		return connector.Account{}, err
	}
	return a.App.Apply(ctx, op)
}

func setRefusal(instance string, err error) {
	refusingApps.Lock()
	refusingApps.err[instance] = err
	refusingApps.Unlock()
}

func init() {
	connectorTypes["memrefuse"] = func(app string, cfg config.AppConfig, getenv func(string) string, log *slog.Logger) (connector.Connector, error) {
		c, err := connectorTypes["memtest"](app, cfg, getenv, log)
		if err != nil {
			return nil, err
		}
		return refusingApp{App: c.(*memconn.App), instance: cfg.Options["instance"]}, nil
	}
}

type opsJSON struct {
	Ops []struct {
		ID        int64  `json:"id"`
		App       string `json:"app"`
		Kind      string `json:"kind"`
		State     string `json:"state"`
		Attempts  int    `json:"attempts"`
		LastError string `json:"last_error"`
	} `json:"ops"`
	Apps []struct {
		App           string  `json:"app"`
		Failures      int     `json:"consecutive_failures"`
		QuarantinedAt *string `json:"quarantined_at"`
	} `json:"apps"`
}

func listOps(t *testing.T, env map[string]string, args ...string) opsJSON {
	t.Helper()
	r := runAt(t, planNow, env, append([]string{"ops", "list", "-o", "json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("ops list: %+v", r)
	}
	var out opsJSON
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("ops list -o json: %v\n%s", err, r.stdout)
	}
	return out
}

func TestApplyExecutesThePlanAndThenHasNothingToDo(t *testing.T) {
	env, slack, github := planEnv(t)
	r := runAt(t, planNow, env, "apply")
	if r.code != 0 {
		t.Fatalf("apply: %+v", r)
	}
	if !strings.Contains(r.stdout, "APP     DONE  FAILED  DEAD  WAITING  NOTE\ngithub  2     0       0     0") {
		t.Errorf("apply summary:\n%s", r.stdout)
	}
	var gilfoyle *connector.Account
	for _, a := range github.Snapshot() {
		if a.UserName == "gilfoyle" {
			gilfoyle = &a
		}
	}
	if gilfoyle == nil || !slices.Contains(gilfoyle.Memberships, "team:engineering") {
		t.Fatalf("github after apply: %+v; want gilfoyle in team:engineering", github.Snapshot())
	}
	users := map[string]bool{}
	for _, a := range slack.Snapshot() {
		if users[a.UserName] {
			t.Errorf("slack holds %s twice", a.UserName)
		}
		users[a.UserName] = true
	}
	if !users["laurie.bream"] {
		t.Errorf("slack after apply: %+v; want laurie.bream", slack.Snapshot())
	}
	ops := listOps(t, env)
	for _, o := range ops.Ops {
		if o.State != "done" {
			t.Errorf("op %d %s %s is %s after apply; want done", o.ID, o.App, o.Kind, o.State)
		}
	}

	// What apply recorded is what the planner compares with: a fresh plan has no work left.
	r = runAt(t, planNow, env, "plan", "-o", "json")
	var plan struct {
		Apps []struct {
			App        string            `json:"app"`
			Operations []json.RawMessage `json:"operations"`
		} `json:"apps"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &plan); err != nil {
		t.Fatalf("plan -o json: %v\n%+v", err, r)
	}
	for _, a := range plan.Apps {
		for _, op := range a.Operations {
			t.Errorf("after apply, plan still has in %s: %s", a.App, op)
		}
	}
	r = runAt(t, planNow, env, "apply")
	if r.code != 0 || !strings.Contains(r.stdout, "nothing to do") {
		t.Errorf("second apply: %+v", r)
	}
	if n := len(listOps(t, env).Ops); n != len(ops.Ops) {
		t.Errorf("the second apply queued %d more ops; want none", n-len(ops.Ops))
	}
}

func TestApplyFailureQuarantinesAndRetryResumes(t *testing.T) {
	env, _, github := planEnv(t)
	instance := t.Name() + "/github"
	cfg := env["TENURE_CONFIG"]
	yaml := fmt.Sprintf(`provisioning:
  apps:
    slack: {connector: memtest, options: {instance: %q}}
    github: {connector: memrefuse, options: {instance: %q}, quarantine_after: 1}
`, t.Name()+"/slack", instance)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	setRefusal(instance, &connector.Error{Kind: connector.ErrInvalid, Status: 400, Detail: "seat limit reached"})
	t.Cleanup(func() { setRefusal(instance, nil) })

	r := runAt(t, planNow, env, "apply")
	if r.code != 1 || !strings.Contains(r.stderr, "apply incomplete: github: 1 failed, 0 dead, 1 waiting") {
		t.Fatalf("apply with github refusing: %+v", r)
	}
	if !strings.Contains(r.stdout, "failed: the app refused the request as invalid (HTTP 400): seat limit reached") ||
		!strings.Contains(r.stdout, "quarantined: `tenure ops retry --app github`") {
		t.Errorf("apply output lacks the failure and the quarantine:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "\nslack ") || strings.Contains(r.stderr, "slack") {
		t.Errorf("slack should have gone through while github failed: %+v", r)
	}
	failed := listOps(t, env, "--state", "failed")
	if len(failed.Ops) != 1 || failed.Ops[0].App != "github" || failed.Ops[0].Kind != "create" || failed.Ops[0].Attempts != 1 {
		t.Fatalf("failed ops = %+v; want github's create, tried once", failed.Ops)
	}
	if len(failed.Apps) != 1 || failed.Apps[0].App != "github" || failed.Apps[0].QuarantinedAt == nil {
		t.Errorf("apps = %+v; want github quarantined", failed.Apps)
	}
	if r := runAt(t, planNow, env, "ops", "list", "--app", "github"); !strings.Contains(r.stdout, "QUARANTINED github since 2026-11-28T09:30:00Z after 1 consecutive failures") {
		t.Errorf("ops list table:\n%s", r.stdout)
	}
	if r := runAt(t, planNow, env, "ops", "list", "--state", "stuck"); r.code != 2 {
		t.Errorf("ops list --state stuck: %+v; want usage error", r)
	}
	if r := runAt(t, planNow, env, "ops", "retry", "abc"); r.code != 2 {
		t.Errorf("ops retry abc: %+v; want usage error", r)
	}

	setRefusal(instance, nil)
	r = runAt(t, planNow, env, "ops", "retry", "--app", "github")
	if r.code != 0 || !strings.Contains(r.stdout, "requeued 1 failed or dead operation(s) of app github") {
		t.Fatalf("ops retry: %+v", r)
	}
	before := len(listOps(t, env).Ops)
	r = runAt(t, planNow, env, "apply", "--app", "github")
	if r.code != 0 {
		t.Fatalf("apply after retry: %+v", r)
	}
	if after := len(listOps(t, env).Ops); after != before {
		t.Errorf("apply after retry queued %d new ops; want the requeued ones reused (same idempotency keys)", after-before)
	}
	if n := len(github.Snapshot()); n != 1 {
		t.Errorf("github holds %d accounts; want gilfoyle once", n)
	}
	if left := listOps(t, env, "--state", "pending", "--state", "failed"); len(left.Ops) != 0 || len(left.Apps) != 0 {
		t.Errorf("after the retried apply: %+v; want nothing pending or failed and no quarantine", left)
	}
}

// An app that keeps answering "unavailable" leaves its ops waiting for their next retry;
// apply reports them after --wait without progress instead of waiting on, and exits 1.
func TestApplyStopsWaitingWithoutProgress(t *testing.T) {
	env, _, _ := planEnv(t)
	instance := t.Name() + "/github"
	writeFile(t, env["TENURE_CONFIG"], fmt.Sprintf(`provisioning:
  apps:
    slack: {connector: memtest, options: {instance: %q}}
    github: {connector: memrefuse, options: {instance: %q}}
`, t.Name()+"/slack", instance))
	setRefusal(instance, &connector.Error{Kind: connector.ErrUnavailable, Status: 503})
	t.Cleanup(func() { setRefusal(instance, nil) })
	r := runAt(t, planNow, env, "apply", "--wait", "300ms")
	if r.code != 1 || !strings.Contains(r.stderr, "apply incomplete: github: 0 failed, 0 dead, 2 waiting") {
		t.Fatalf("apply with github unavailable: %+v", r)
	}
	pending := listOps(t, env, "--state", "pending", "--app", "github")
	if len(pending.Ops) != 2 || pending.Ops[0].Attempts != 1 || !strings.Contains(pending.Ops[0].LastError, "HTTP 503") {
		t.Errorf("github's ops after the apply: %+v; want both pending, the create tried once", pending.Ops)
	}
}
