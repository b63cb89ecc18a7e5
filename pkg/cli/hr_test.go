package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var hrNow = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

func hrEnv(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tenure.yaml")
	writeFile(t, cfg, "hr:\n  email_domain: piedpiper.test\n  termination_time: \"17:00\"\n")
	vars := map[string]string{"TENURE_DB": "sqlite://" + filepath.Join(dir, "t.db"), "TENURE_CONFIG": cfg, "TENURE_ACTOR": "monica"}
	if r := runAt(t, hrNow, vars, "init"); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	return vars
}

const sample = "../../testdata/hr/"

func peopleJSON(t *testing.T, vars map[string]string) map[string]map[string]any {
	t.Helper()
	r := runAt(t, hrNow, vars, "people", "list", "-o", "json")
	var list []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatalf("people list: %v %+v", err, r)
	}
	out := map[string]map[string]any{}
	for _, p := range list {
		out[p["employee_id"].(string)] = p
	}
	return out
}

func TestHRImportAndEvents(t *testing.T) {
	vars := hrEnv(t)
	r := runAt(t, hrNow, vars, "hr", "import", sample+"piedpiper.csv", "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "would be applied") || len(peopleJSON(t, vars)) != 0 {
		t.Fatalf("dry run: %+v", r)
	}
	r = runAt(t, hrNow, vars, "hr", "import", sample+"piedpiper.csv")
	if r.code != 0 || !strings.Contains(r.stdout, "43 applied, 5 scheduled, 0 rejected") {
		t.Fatalf("import: %+v", r)
	}
	people := peopleJSON(t, vars)
	if p := people["PP006"]; p["username"] != "jose.nunez" || p["work_email"] != "jose.nunez@piedpiper.test" || p["status"] != "active" {
		t.Fatalf("PP006: %v", p)
	}
	day2 := hrNow.Add(24 * time.Hour)
	r = runAt(t, day2, vars, "hr", "import", sample+"piedpiper-day2.csv", "-o", "json")
	var rep struct {
		Applied, Scheduled, Duplicates int
		Changes                        []struct {
			Event struct {
				Type, EmployeeID, State string `json:"-"`
			} `json:"event"`
		} `json:"changes"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); r.code != 0 || err != nil || rep.Applied != 6 || rep.Scheduled != 3 || rep.Duplicates != 5 {
		t.Fatalf("day 2: %+v %v %+v", rep, err, r.stderr)
	}
	// A dated termination lands at the configured 17:00.
	r = runAt(t, day2, vars, "hr", "event", "terminate", "--employee-id", "PP036", "--effective", "2026-12-04", "--id", "wd-778")
	if r.code != 0 || !strings.Contains(r.stdout, "2026-12-04T17:00:00Z") || !strings.Contains(r.stdout, "pending") {
		t.Fatalf("dated termination: %+v", r)
	}
	r = runAt(t, day2, vars, "hr", "event", "terminate", "--employee-id", "PP036", "--effective", "2026-12-04", "--id", "wd-778")
	if r.code != 0 || !strings.Contains(r.stdout, "already pending") {
		t.Fatalf("same event ID again: %+v", r)
	}
	// A transfer names only what changes; the rest is kept.
	r = runAt(t, day2, vars, "hr", "event", "transfer", "--employee-id", "PP011", "--organization", "Pied Piper",
		"--division", "Sales", "--department", "Enterprise", "--job-title", "Solutions Engineer")
	if r.code != 0 {
		t.Fatalf("transfer: %+v", r)
	}
	r = runAt(t, day2, vars, "people", "show", "PP011", "-o", "json")
	if !strings.Contains(r.stdout, `"org_path": "Pied Piper/Sales/Enterprise"`) || !strings.Contains(r.stdout, `"job_title": "Solutions Engineer"`) ||
		!strings.Contains(r.stdout, `"location": "Palo Alto"`) {
		t.Fatalf("after transfer: %s", r.stdout)
	}
	// Immediate termination, then an illegal leave: rejected, recorded, exit 1, one line.
	if r = runAt(t, day2, vars, "hr", "event", "terminate", "--employee-id", "PP011"); r.code != 0 {
		t.Fatalf("terminate now: %+v", r)
	}
	r = runAt(t, day2, vars, "hr", "event", "leave", "--employee-id", "PP011")
	if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stdout, "only an active person can go on leave") {
		t.Fatalf("illegal leave: %+v", r)
	}
	// Rehire keeps the identity and the username.
	before := peopleJSON(t, vars)["PP011"]
	if r = runAt(t, day2, vars, "hr", "event", "rehire", "--employee-id", "PP011"); r.code != 0 {
		t.Fatalf("rehire: %+v", r)
	}
	after := peopleJSON(t, vars)["PP011"]
	if after["id"] != before["id"] || after["username"] != "ed.chambers" || after["status"] != "active" {
		t.Fatalf("rehire: before %v after %v", before, after)
	}
	// An event file, as the webhook takes it: dry run first, then for real, then again.
	events := filepath.Join(t.TempDir(), "events.json")
	writeFile(t, events, `{"events": [
	  {"id": "wd-1", "type": "transfer", "employee_id": "PP034", "data": {"team": "Tier 2", "keep_access_until": "2026-12-15"}},
	  {"id": "wd-2", "type": "leave", "employee_id": "PP035", "effective_at": "2026-12-07T00:00:00Z"}]}`)
	r = runAt(t, day2, vars, "hr", "import", events, "--dry-run")
	if r.code != 0 || strings.Count(r.stdout, "would be") != 2 || peopleJSON(t, vars)["PP034"]["attributes"] != nil {
		t.Fatalf("event file dry run: %+v", r)
	}
	if r = runAt(t, day2, vars, "hr", "import", events); r.code != 0 || !strings.Contains(r.stdout, "applied") || !strings.Contains(r.stdout, "pending") {
		t.Fatalf("event file: %+v", r)
	}
	if r = runAt(t, day2, vars, "hr", "import", events); r.code != 0 || strings.Count(r.stdout, "already") != 2 {
		t.Fatalf("event file again: %+v", r)
	}
	r = runAt(t, day2, vars, "people", "show", "PP034", "-o", "json")
	if !strings.Contains(r.stdout, `"org_path": "Pied Piper/Support/Customer Success/Tier 2"`) || !strings.Contains(r.stdout, `"keep_access_until": "2026-12-15T00:00:00Z"`) {
		t.Fatalf("after the transfer with overlap: %s", r.stdout)
	}
}

func TestHRImportRejectsBadRosters(t *testing.T) {
	vars := hrEnv(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	writeFile(t, bad, "employee_id,first_name,last_name,manager_id,start_date\nE1,Ada,L,,2024-01-01\nE2,Alan,T,E9,2024-02-30\nE3,Grace,H,E1,\n")
	r := runAt(t, hrNow, vars, "hr", "import", bad)
	if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "roster rejected, nothing applied: 2 invalid rows") {
		t.Fatalf("bad roster: %+v", r)
	}
	for _, want := range []string{"line 3  start_date  2024-02-30  bad date", "line 3  manager_id  E9"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, r.stdout)
		}
	}
	if n := len(peopleJSON(t, vars)); n != 0 {
		t.Fatalf("%d people after a rejected import", n)
	}
	r = runAt(t, hrNow, vars, "hr", "import", bad, "-o", "json")
	var rep struct {
		Invalid []struct {
			Row    int    `json:"row"`
			Column string `json:"column"`
		} `json:"invalid"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); r.code != 1 || err != nil || len(rep.Invalid) != 2 ||
		rep.Invalid[0].Row != 3 || rep.Invalid[1].Column != "manager_id" {
		t.Fatalf("rejected import as JSON: %+v (%v)", r, err)
	}
	r = runAt(t, hrNow, vars, "hr", "import", bad, "--skip-invalid")
	if r.code != 0 || !strings.Contains(r.stdout, "2 applied") || len(peopleJSON(t, vars)) != 2 {
		t.Fatalf("--skip-invalid: %+v", r)
	}
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"hr", "import", filepath.Join(dir, "roster.xlsx")}, 2, "cannot tell the roster format"},
		{[]string{"hr", "import", filepath.Join(dir, "absent.csv")}, 1, "no such file"},
		{[]string{"hr", "event", "promote", "--employee-id", "E1"}, 2, `event type "promote"`},
		{[]string{"hr", "event", "leave"}, 2, "--employee-id is required"},
		{[]string{"hr", "event", "leave", "--employee-id", "E1", "--effective", "tomorrow"}, 2, "--effective"},
		{[]string{"hr", "event", "hire", "--employee-id", "E7"}, 2, "hire needs --first-name"},
		{[]string{"hr", "import", bad, "--missing", "fire"}, 2, `--missing "fire"`},
	}
	for _, tt := range tests {
		r := runAt(t, hrNow, vars, tt.args...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.msg) {
			t.Errorf("%v: exit %d stderr %q; want %d and %q", tt.args, r.code, r.stderr, tt.code, tt.msg)
		}
	}
}

func TestHRImportBreaker(t *testing.T) {
	vars := hrEnv(t)
	if r := runAt(t, hrNow, vars, "hr", "import", sample+"piedpiper.csv"); r.code != 0 {
		t.Fatalf("import: %+v", r)
	}
	// A truncated export: the last ten rows are missing.
	data, err := os.ReadFile(sample + "piedpiper.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	cut := filepath.Join(t.TempDir(), "cut.csv")
	writeFile(t, cut, strings.Join(lines[:31], ""))
	r := runAt(t, hrNow, vars, "hr", "import", cut, "--missing", "terminate")
	if r.code != 1 || !strings.Contains(r.stderr, "held by the mass-change breaker, nothing applied: 9 disruptive changes (9 terminate)") ||
		strings.Count(r.stdout, "held") < 9 {
		t.Fatalf("held: %+v", r)
	}
	if p := peopleJSON(t, vars)["PP033"]; p["status"] != "active" {
		t.Fatalf("held import changed PP033: %v", p)
	}
	r = runAt(t, hrNow, vars, "hr", "import", cut, "--missing", "terminate", "--allow-mass-change")
	if r.code != 0 || !strings.Contains(r.stdout, "9 applied") || peopleJSON(t, vars)["PP033"]["status"] != "terminated" {
		t.Fatalf("released: %+v", r)
	}
}
