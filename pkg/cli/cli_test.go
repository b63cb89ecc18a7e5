package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/identity"
)

type result struct {
	code           int
	stdout, stderr string
}

// run executes the CLI in-process with a controlled environment.
func run(t testing.TB, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &out, &errb, func(k string) string { return env[k] })
	return result{code, out.String(), errb.String()}
}

func tempDB(t *testing.T) string {
	return "sqlite://" + filepath.Join(t.TempDir(), "tenure.db")
}

// seed builds a small company: org → 2 divisions → a team; CEO, an engineer reporting to her,
// and a contractor in marketing.
func seed(t *testing.T, db string) {
	t.Helper()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, db, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	must := func(u identity.OrgUnit, err error) identity.OrgUnit {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	org := must(s.CreateOrgUnit(ctx, identity.OrgUnit{Name: "Pied Piper", Kind: identity.Organization}))
	eng := must(s.CreateOrgUnit(ctx, identity.OrgUnit{Name: "Engineering", Kind: identity.Division, ParentID: org.ID}))
	platform := must(s.CreateOrgUnit(ctx, identity.OrgUnit{Name: "Platform", Kind: identity.Team, ParentID: eng.ID}))
	mkt := must(s.CreateOrgUnit(ctx, identity.OrgUnit{Name: "Marketing", Kind: identity.Division, ParentID: org.ID}))
	start := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	people := []identity.Person{
		{EmployeeID: "E001", LegalFirstName: "Laurie", LegalLastName: "Bream", Username: "laurie.bream", WorkEmail: "laurie@piedpiper.test",
			EmploymentType: identity.Employee, Status: identity.Active, JobTitle: "CEO", OrgUnitID: org.ID, StartDate: &start},
		{EmployeeID: "E002", LegalFirstName: "Bertram", LegalLastName: "Gilfoyle", Username: "gilfoyle", WorkEmail: "gilfoyle@piedpiper.test",
			EmploymentType: identity.Employee, Status: identity.Active, JobTitle: "Systems Architect", OrgUnitID: platform.ID},
		{EmployeeID: "C001", LegalFirstName: "Jian", LegalLastName: "Yang", EmploymentType: identity.Contractor,
			Status: identity.PreHire, OrgUnitID: mkt.ID},
	}
	var ceo identity.Person
	for i, p := range people {
		if i == 1 {
			p.ManagerID = ceo.ID
		}
		created, err := s.CreatePerson(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			ceo = created
		}
	}
}

func TestInitIsIdempotentAndEmptyListIsJSONArray(t *testing.T) {
	env := map[string]string{"TENURE_DB": tempDB(t)}
	for i := 0; i < 2; i++ {
		if r := run(t, env, "init"); r.code != 0 || !strings.Contains(r.stdout, "schema is current") {
			t.Fatalf("init run %d: %+v", i+1, r)
		}
	}
	r := run(t, env, "people", "list", "-o", "json")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "[]" {
		t.Fatalf("people list on empty directory: %+v", r)
	}
}

func TestExitCodesAndOneLineErrors(t *testing.T) {
	missing := "sqlite://" + filepath.Join(t.TempDir(), "nope.db")
	tests := []struct {
		name    string
		args    []string
		code    int
		errPart string
	}{
		{"bad db scheme", []string{"--db", "mysql://x/y", "people", "list"}, 1, `unsupported scheme "mysql"`},
		{"db without scheme", []string{"--db", "tenure.db", "people", "list"}, 1, "expected sqlite://PATH"},
		{"uninitialized db", []string{"--db", missing, "people", "list"}, 1, "run 'tenure init' first"},
		{"unknown flag", []string{"people", "list", "--colour"}, 2, "unknown flag: --colour"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"missing argument", []string{"people", "show"}, 2, "expected 1 argument(s) (PERSON)"},
		{"bad output format", []string{"-o", "xml", "version"}, 2, `--output "xml"`},
		{"bad status filter", []string{"people", "list", "--status", "retired"}, 2, `"retired" is not one of`},
		{"missing config file", []string{"--config", "/nonexistent/tenure.yaml", "version"}, 1, "/nonexistent/tenure.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, nil, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit code %d, want %d (stderr %q)", r.code, tt.code, r.stderr)
			}
			if strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "tenure: ") || !strings.Contains(r.stderr, tt.errPart) {
				t.Fatalf("stderr %q: want one line starting 'tenure: ' containing %q", r.stderr, tt.errPart)
			}
		})
	}
}

func TestSettingsPrecedence(t *testing.T) {
	dir := t.TempDir()
	fromFlag, fromEnv, fromFile := filepath.Join(dir, "flag.db"), filepath.Join(dir, "env.db"), filepath.Join(dir, "file.db")
	cfgPath := filepath.Join(dir, "tenure.yaml")
	writeFile(t, cfgPath, "db: sqlite://"+fromFile+"\n")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"config file", map[string]string{"TENURE_CONFIG": cfgPath}, nil, fromFile},
		{"env beats file", map[string]string{"TENURE_CONFIG": cfgPath, "TENURE_DB": "sqlite://" + fromEnv}, nil, fromEnv},
		{"flag beats env", map[string]string{"TENURE_DB": "sqlite://" + fromEnv}, []string{"--db", "sqlite://" + fromFlag}, fromFlag},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.env, append(tt.args, "init")...)
			if r.code != 0 || !strings.Contains(r.stdout, tt.want) {
				t.Fatalf("init went to %q, want %s (stderr %q)", r.stdout, tt.want, r.stderr)
			}
		})
	}
}

func TestPeopleListFormats(t *testing.T) {
	db := tempDB(t)
	seed(t, db)
	env := map[string]string{"TENURE_DB": db}

	r := run(t, env, "people", "list", "-o", "json")
	var people []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &people); err != nil || r.code != 0 {
		t.Fatalf("json output: %v; %+v", err, r)
	}
	if len(people) != 3 || people[0]["employee_id"] != "C001" || people[1]["work_email"] != "laurie@piedpiper.test" {
		t.Fatalf("people = %v", people)
	}
	for _, key := range []string{"employee_id", "status", "username", "work_email", "org_unit", "employment_type"} {
		if _, ok := people[1][key]; !ok {
			t.Errorf("JSON person lacks key %q: %v", key, people[1])
		}
	}
	if people[2]["manager_id"] != people[1]["id"] {
		t.Errorf("manager_id of E002 = %v, want E001's id %v", people[2]["manager_id"], people[1]["id"])
	}

	r = run(t, env, "people", "list", "-o", "csv")
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil || len(rows) != 4 || rows[0][0] != "EMPLOYEE_ID" {
		t.Fatalf("csv output %q: %v", r.stdout, err)
	}
	if rows[3][0] != "E002" || rows[3][7] != "Pied Piper/Engineering/Platform" || rows[3][8] != "E001" {
		t.Fatalf("csv row for E002 = %v", rows[3])
	}

	r = run(t, env, "people", "list", "--org-unit", "pied piper/engineering", "--subtree", "-o", "csv")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 2 || !strings.Contains(r.stdout, "\nE002,") {
		t.Fatalf("subtree filter: %+v", r)
	}
	r = run(t, env, "people", "list", "--org-unit", "pied piper/engineering", "-o", "csv")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("org unit without --subtree must not include units below: %+v", r)
	}
	r = run(t, env, "people", "list", "--type", "contractor", "-o", "csv")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 2 || !strings.Contains(r.stdout, "C001") {
		t.Fatalf("type filter: %+v", r)
	}
	r = run(t, env, "people", "list", "--manager", "laurie.bream", "-o", "csv")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 2 || !strings.Contains(r.stdout, "E002") {
		t.Fatalf("manager filter: %+v", r)
	}
	r = run(t, env, "people", "list", "--org-unit", "Nowhere")
	if r.code != 1 || !strings.Contains(r.stderr, `org unit "Nowhere" not found`) {
		t.Fatalf("unknown org unit: %+v", r)
	}
}

func TestPeopleShowByAnyKey(t *testing.T) {
	db := tempDB(t)
	seed(t, db)
	env := map[string]string{"TENURE_DB": db}
	for _, key := range []string{"E002", "gilfoyle", "GILFOYLE@piedpiper.test"} {
		r := run(t, env, "people", "show", key, "-o", "json")
		var d map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &d); err != nil || r.code != 0 {
			t.Fatalf("show %s: %v %+v", key, err, r)
		}
		if d["employee_id"] != "E002" || d["org_path"] != "Pied Piper/Engineering/Platform" || d["manager_employee_id"] != "E001" {
			t.Fatalf("show %s = %v", key, d)
		}
	}
	r := run(t, env, "people", "show", "gilfoyle")
	if r.code != 0 || !strings.Contains(r.stdout, "manager_chain") || !strings.Contains(r.stdout, "Systems Architect") {
		t.Fatalf("table show: %+v", r)
	}
}

func TestOrgTree(t *testing.T) {
	db := tempDB(t)
	seed(t, db)
	env := map[string]string{"TENURE_DB": db}
	r := run(t, env, "org", "tree")
	want := "Pied Piper (organization) 1 person, 2 below\n" +
		"├── Engineering (division) 0 people, 1 below\n" +
		"│   └── Platform (team) 1 person\n" +
		"└── Marketing (division) 1 person\n"
	if r.code != 0 || r.stdout != want {
		t.Fatalf("org tree:\n%s\nwant:\n%s", r.stdout, want)
	}
	r = run(t, env, "org", "tree", "-o", "json")
	var roots []orgNode
	if err := json.Unmarshal([]byte(r.stdout), &roots); err != nil {
		t.Fatal(err)
	}
	if len(roots) != 1 || roots[0].Total != 3 || len(roots[0].Children) != 2 || roots[0].Children[0].Children[0].Name != "Platform" {
		t.Fatalf("org tree json = %s", r.stdout)
	}
}

func TestVersionJSON(t *testing.T) {
	r := run(t, nil, "version", "-o", "json")
	var v versionInfo
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.Version == "" || !strings.HasPrefix(v.Go, "go") {
		t.Fatalf("version: %v %+v", err, r)
	}
}
