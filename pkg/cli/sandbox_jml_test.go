package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tenure-id/tenure/connectors/github/githubfake"
	"github.com/tenure-id/tenure/connectors/google/googlefake"
	"github.com/tenure-id/tenure/connectors/hubspot/hubspotfake"
	"github.com/tenure-id/tenure/connectors/sandbox"
	"github.com/tenure-id/tenure/connectors/scim/scimtarget"
	"github.com/tenure-id/tenure/connectors/slack/slackfake"
	"github.com/tenure-id/tenure/connectors/zendesk/zendeskfake"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/policy"
	"github.com/tenure-id/tenure/pkg/provision"
)

// sandboxCompany is the sample company in a fresh database with a fake of every app it uses,
// driven through the real CLI.
type sandboxCompany struct {
	t    testing.TB
	sb   *sandbox.Sandbox
	vars map[string]string
	db   string
	set  *policy.Set
}

func newSandboxCompany(t testing.TB) *sandboxCompany {
	t.Helper()
	set, err := policy.LoadDir("../../policies")
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.Start(sandboxSpecs(set), sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	dir := t.TempDir()
	doc, err := yaml.Marshal(map[string]any{
		"hr":           map[string]any{"email_domain": sandbox.SampleDomain},
		"provisioning": map[string]any{"apps": sb.Configs()},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "tenure.yaml")
	if err := os.WriteFile(cfg, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	c := &sandboxCompany{t: t, sb: sb, set: set, db: "sqlite://" + filepath.Join(dir, "tenure.db")}
	c.vars = map[string]string{"TENURE_DB": c.db, "TENURE_CONFIG": cfg, "TENURE_POLICIES": "../../policies"}
	getenv := sb.Getenv(nil)
	for _, a := range sb.Apps() {
		c.vars[a.Config.TokenEnv] = getenv(a.Config.TokenEnv)
	}
	c.must("init")
	return c
}

func (c *sandboxCompany) must(args ...string) string {
	c.t.Helper()
	r := run(c.t, c.vars, args...)
	if r.code != 0 {
		c.t.Fatalf("tenure %s: exit %d\n%s\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// desired resolves the policy over the directory as it stands: per app, the work emails of
// the people who should hold an enabled account there.
func (c *sandboxCompany) desired() map[string][]string {
	c.t.Helper()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, c.db, sqlstore.Options{})
	if err != nil {
		c.t.Fatal(err)
	}
	defer s.Close()
	snap, people, err := loadSnapshot(ctx, s, time.Now())
	if err != nil {
		c.t.Fatal(err)
	}
	var apps []string
	for name := range c.sb.Apps() {
		apps = append(apps, name)
	}
	out := map[string][]string{}
	for app, ds := range provision.BuildDesired(provision.DesiredInput{People: people, View: snap,
		Resolver: policy.NewResolver(c.set), Apps: apps}) {
		for _, d := range ds {
			if d.Account.Active {
				out[app] = append(out[app], strings.ToLower(d.Account.Email))
			}
		}
		sort.Strings(out[app])
	}
	return out
}

// enabled reads, from the fake itself rather than through the connector, the emails of the
// enabled accounts an app holds.
func enabled(t testing.TB, fake any) []string {
	t.Helper()
	var out []string
	add := func(email string, on bool) {
		if on {
			out = append(out, strings.ToLower(email))
		}
	}
	switch f := fake.(type) {
	case *githubfake.Server:
		for _, u := range f.Users() {
			add(u.Email, u.Active)
		}
	case *slackfake.Server:
		for _, u := range f.Users() {
			add(u.Email, u.Active)
		}
	case *googlefake.Fake:
		for _, u := range f.Users() {
			add(u.PrimaryEmail, !u.Suspended)
		}
	case *zendeskfake.Fake:
		for _, u := range f.Users() {
			add(u.Email, u.Active && !u.Suspended)
		}
	case *hubspotfake.Fake:
		for _, u := range f.Users() {
			add(u.Email, true) // HubSpot has no suspended users: a leaver is removed
		}
	case *scimtarget.Target:
		for _, u := range f.Users() {
			add(u.Email, u.Active)
		}
	default:
		t.Fatalf("no inspection for fake %T", fake)
	}
	sort.Strings(out)
	return out
}

// assertApps checks every app, from the fakes' own state, against the policy; and that a
// fresh plan finds nothing left to do (memberships and attributes included).
func (c *sandboxCompany) assertApps(stage string) {
	c.t.Helper()
	want := c.desired()
	for name, a := range c.sb.Apps() {
		if got := enabled(c.t, a.Fake); !slices.Equal(got, want[name]) {
			c.t.Errorf("%s: %s holds enabled accounts %v, policy says %v", stage, name, got, want[name])
		}
	}
	var plan provision.Plan
	if err := json.Unmarshal([]byte(c.must("plan", "-o", "json")), &plan); err != nil {
		c.t.Fatal(err)
	}
	if n := plan.Count(); n != 0 {
		c.t.Errorf("%s: a fresh plan after apply still has %d operations: %+v", stage, n, plan)
	}
}

// The sample company's joiners, a mover and a leaver, provisioned through the engine into a
// faithful fake of each of its apps: after each step every app holds exactly what the policy
// says. During the leaver's step one app answers 429s; only that app waits.
func TestSampleCompanyThroughEveryApp(t *testing.T) {
	c := newSandboxCompany(t)
	c.must("hr", "import", "../../testdata/hr/piedpiper.csv")
	r := run(t, c.vars, "apply")
	if r.code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// Connectors log through the command's logger, not the process-wide default: the groups
	// the apply created are on its stderr, in its format, naming the app and connector.
	if !regexp.MustCompile(`level=INFO msg="scim: created group" connector=slack app=slack group=\S+`).MatchString(r.stderr) {
		t.Errorf("apply's stderr has no connector log line for a created Slack group:\n%s", r.stderr)
	}
	c.assertApps("joiners")
	if n := len(c.desired()["slack"]); n < 30 {
		t.Fatalf("only %d people desired in slack: the sample company did not load", n)
	}

	// Mover: Carla Walton moves from Infrastructure to Compression (day 2 roster).
	gh := c.sb.Apps()["github"].Fake.(*githubfake.Server)
	carla := func(team string) bool {
		active, pending := gh.TeamMembers("piedpiper", team)
		for _, login := range append(active, pending...) {
			if strings.HasPrefix(login, "carla-walton") {
				return true
			}
		}
		return false
	}
	if !carla("infrastructure") || carla("compression") {
		t.Fatalf("before the move Carla should be in infrastructure only")
	}
	c.must("hr", "import", "../../testdata/hr/piedpiper-day2.csv")
	c.must("apply")
	c.assertApps("mover")
	if carla("infrastructure") || !carla("compression") {
		t.Errorf("after the move Carla should be in compression only")
	}

	// Leaver, while AWS's SCIM answers 429 with Retry-After.
	aws := c.sb.Apps()["aws"].Fake.(*scimtarget.Target)
	wait := aws.RateLimitWrites(2)
	c.must("hr", "event", "terminate", "--employee-id", "PP006")
	start := time.Now()
	c.must("apply")
	c.assertApps("leaver")
	for name, a := range c.sb.Apps() {
		if slices.Contains(enabled(t, a.Fake), "jose.nunez@"+sandbox.SampleDomain) {
			t.Errorf("the leaver still has an enabled account in %s", name)
		}
	}
	var ops struct {
		Ops []struct {
			App       string    `json:"app"`
			Kind      string    `json:"kind"`
			State     string    `json:"state"`
			UpdatedAt time.Time `json:"updated_at"`
		} `json:"ops"`
	}
	if err := json.Unmarshal([]byte(c.must("ops", "list", "-o", "json")), &ops); err != nil {
		t.Fatal(err)
	}
	var awsDone, othersDone time.Time
	for _, op := range ops.Ops {
		if op.Kind != "disable" || op.State != "done" || op.UpdatedAt.Before(start) {
			continue
		}
		if op.App == "aws" {
			awsDone = op.UpdatedAt
		} else if op.UpdatedAt.After(othersDone) {
			othersDone = op.UpdatedAt
		}
	}
	if awsDone.IsZero() || othersDone.IsZero() {
		t.Fatalf("no disables recorded for the leaver: %+v", ops.Ops)
	}
	if awsDone.Sub(start) < wait {
		t.Errorf("aws disabled %v after the termination, before its Retry-After of %v", awsDone.Sub(start), wait)
	}
	if !othersDone.Before(awsDone) {
		t.Errorf("the other apps finished at %v, not before rate-limited aws at %v: the 429s held them up", othersDone.Sub(start), awsDone.Sub(start))
	}
}
