package cli

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/identity"
)

// auditedCompany is the small seeded company, whose creation wrote the audit log.
func auditedCompany(t *testing.T) (env map[string]string, db string) {
	t.Helper()
	db = tempDB(t)
	seed(t, db)
	return map[string]string{"TENURE_DB": db}, db
}

// rawSQL opens the SQLite file behind db directly, as someone with access to the database
// (but not to Tenure) could.
func rawSQL(t *testing.T, db string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", sqlstore.SQLitePath(db))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

// auditLog is the database's whole audit log; the test fails unless its chain verifies.
func auditLog(t *testing.T, db string) []identity.AuditRecord {
	t.Helper()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, db, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var recs []identity.AuditRecord
	var v audit.Verifier
	next := audit.Pages(ctx, s, 0, 0)
	for {
		r, err := next()
		if errors.Is(err, io.EOF) {
			return recs
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Next(r); err != nil {
			t.Fatalf("audit chain: %v", err)
		}
		recs = append(recs, r)
	}
}

var headLine = regexp.MustCompile(`^audit chain verified: (\d+) records from record 1 to record (\d+)(, 1 anchor\(s\) matched)?\nkeep this head and pass it as --anchor next time:\n(\S+)\n$`)

func TestAuditVerify(t *testing.T) {
	env, db := auditedCompany(t)
	r := run(t, env, "audit", "verify")
	m := headLine.FindStringSubmatch(r.stdout)
	if r.code != 0 || m == nil || m[1] != m[2] || m[3] != "" {
		t.Fatalf("audit verify: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	head := m[4]
	if !strings.HasPrefix(head, m[2]+":") {
		t.Fatalf("head %q is not SEQ:HASH for record %s", head, m[2])
	}

	r = run(t, env, "audit", "verify", "--anchor", head, "-o", "json")
	var v verifyView
	if err := json.Unmarshal([]byte(r.stdout), &v); r.code != 0 || err != nil || !v.Verified || v.Head != head || v.Anchors != 1 || v.FirstSeq != 1 {
		t.Fatalf("audit verify -o json: exit %d, %+v, %v\n%s", r.code, v, err, r.stderr)
	}

	raw := rawSQL(t, db)
	// Removing the newest record leaves a valid chain: only the anchor kept from before sees it.
	if _, err := raw.Exec(`DELETE FROM audit_records WHERE seq = (SELECT max(seq) FROM audit_records)`); err != nil {
		t.Fatal(err)
	}
	if r := run(t, env, "audit", "verify"); r.code != 0 {
		t.Fatalf("a log missing its newest record still links up: exit %d %s", r.code, r.stderr)
	}
	r = run(t, env, "audit", "verify", "--anchor", head)
	if r.code != 1 || !strings.Contains(r.stderr, "records removed from its end") {
		t.Fatalf("anchored verify of a truncated log: exit %d\n%s", r.code, r.stderr)
	}

	if _, err := raw.Exec(`UPDATE audit_records SET actor = 'cli:nobody' WHERE seq = 3`); err != nil {
		t.Fatal(err)
	}
	r = run(t, env, "audit", "verify", "-o", "json")
	if err := json.Unmarshal([]byte(r.stdout), &v); r.code != 1 || err != nil || v.Verified ||
		!strings.Contains(r.stderr, "at record 3: contents do not match its hash") || !strings.Contains(v.BrokenErr, "record 3") {
		t.Fatalf("an edited record: exit %d %+v\n%s", r.code, v, r.stderr)
	}

	for _, bad := range []string{"12", "1:abc", "x:" + strings.Repeat("0", 64)} {
		if r := run(t, env, "audit", "verify", "--anchor", bad); r.code != 2 || !strings.Contains(r.stderr, "--anchor") {
			t.Errorf("--anchor %q: exit %d %s", bad, r.code, r.stderr)
		}
	}
}

func TestAuditExportVerifiesWithoutTheDatabase(t *testing.T) {
	env, db := auditedCompany(t)
	head := headLine.FindStringSubmatch(run(t, env, "audit", "verify").stdout)[4]
	dir := t.TempDir()
	whole := filepath.Join(dir, "audit.jsonl")
	if r := run(t, env, "audit", "export", "--file", whole); r.code != 0 || !strings.Contains(r.stderr, "exported") {
		t.Fatalf("export: exit %d %s", r.code, r.stderr)
	}
	if r := run(t, env, "audit", "export", "--file", whole); r.code != 1 || !strings.Contains(r.stderr, "exists") {
		t.Fatalf("export over an existing file: exit %d %s", r.code, r.stderr)
	}
	if err := os.Remove(sqlstore.SQLitePath(db)); err != nil {
		t.Fatal(err)
	}
	r := run(t, map[string]string{}, "audit", "verify", "--file", whole, "--anchor", head)
	if m := headLine.FindStringSubmatch(r.stdout); r.code != 0 || m == nil || m[4] != head {
		t.Fatalf("verify --file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	doc, err := os.ReadFile(whole)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(doc)), "\n")
	tail := filepath.Join(dir, "tail.jsonl")
	if err := os.WriteFile(tail, []byte(strings.Join(lines[4:], "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = run(t, nil, "audit", "verify", "--file", tail, "-o", "json")
	var v verifyView
	if err := json.Unmarshal([]byte(r.stdout), &v); r.code != 0 || err != nil || !v.Partial || v.FirstSeq != 5 || v.Head != head {
		t.Fatalf("verify of a partial export: exit %d %+v %s", r.code, v, r.stderr)
	}
	edited := filepath.Join(dir, "edited.jsonl")
	lines[6] = strings.Replace(lines[6], `"actor":"`, `"actor":"x`, 1)
	if err := os.WriteFile(edited, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := run(t, nil, "audit", "verify", "--file", edited); r.code != 1 || !strings.Contains(r.stderr, "at record 7") {
		t.Fatalf("verify of an edited export: exit %d %s", r.code, r.stderr)
	}
}

func TestAuditExportSelectsARun(t *testing.T) {
	env, _ := auditedCompany(t)
	all := strings.Split(strings.TrimSpace(run(t, env, "audit", "export").stdout), "\n")
	if len(all) < 6 {
		t.Fatalf("only %d records exported", len(all))
	}
	today := time.Now().UTC()
	tests := []struct {
		args  []string
		first int // index into all; -1 for nothing
		n     int
	}{
		{[]string{"--after", "3"}, 3, len(all) - 3},
		{[]string{"--from", today.AddDate(0, 0, -2).Format(time.DateOnly), "--to", today.AddDate(0, 0, 2).Format(time.DateOnly)}, 0, len(all)},
		{[]string{"--to", "2001-01-01"}, -1, 0},
		{[]string{"--from", today.AddDate(0, 0, 3).Format(time.RFC3339)}, -1, 0},
	}
	for _, tc := range tests {
		r := run(t, env, append([]string{"audit", "export"}, tc.args...)...)
		got := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if r.stdout == "" {
			got = nil
		}
		if r.code != 0 || len(got) != tc.n || tc.n > 0 && got[0] != all[tc.first] {
			t.Errorf("export %v: exit %d, %d records; want %d from record %d\n%s", tc.args, r.code, len(got), tc.n, tc.first+1, r.stderr)
		}
	}

	r := run(t, env, "audit", "export", "-o", "csv")
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if r.code != 0 || err != nil || len(rows) != len(all)+1 || rows[0][0] != "seq" || rows[0][9] != "hash" || rows[1][0] != "1" {
		t.Fatalf("export -o csv: exit %d, %v, %d rows %v", r.code, err, len(rows), rows[:min(2, len(rows))])
	}
	for _, bad := range [][]string{{"--from", "yesterday"}, {"--to", "2026-13-01"}, {"--after", "-1"}} {
		if r := run(t, env, append([]string{"audit", "export"}, bad...)...); r.code != 2 || !strings.Contains(r.stderr, bad[0]) {
			t.Errorf("export %v: exit %d %s", bad, r.code, r.stderr)
		}
	}
}
