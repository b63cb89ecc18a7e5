package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// Input is what a report is built from.
type Input struct {
	Name  string
	State State
	// Should is what policy grants now; nil for a past date, whose policy is not recorded.
	Should      map[Key]Should
	At          time.Time // the moment the state is of
	AsOf        bool      // At is a past date asked for, not now
	Evidence    Evidence
	GeneratedAt time.Time
}

// Build assembles the named report.
func Build(in Input) (Report, error) {
	rep := Report{Name: in.Name, GeneratedAt: in.GeneratedAt.UTC(), Evidence: in.Evidence}
	if in.AsOf {
		at := in.At.UTC()
		rep.AsOf = &at
		rep.Notes = append(rep.Notes, "Rebuilt from the audit log as it stood at "+at.Format(time.RFC3339)+
			"; should_have is unknown because the policy in force then is not recorded.")
	}
	switch in.Name {
	case "access":
		rep.Rows = Access(in.State, in.Should)
	case "exceptions":
		rep.Rows = Exceptions(in.State, in.Should, in.At)
	default:
		return rep, fmt.Errorf("report %q: there is no such report (%s)", in.Name, strings.Join(Names, ", "))
	}
	for _, action := range slices.Sorted(maps.Keys(in.State.Skipped)) {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d %q record(s) in the audit log were not applied: the replay does not know that change.",
			in.State.Skipped[action], action))
	}
	rep.Summary = Summarize(rep.Rows)
	if rep.Rows == nil {
		rep.Rows = []Row{}
	}
	return rep, nil
}

// Columns are the CSV and HTML columns, in order.
var Columns = []string{"employee_id", "name", "status", "app", "account", "account_status", "memberships",
	"should_have", "finding", "entitlement", "reason", "approver", "expires_at"}

func (r Row) cells() []string {
	exp := ""
	if r.ExpiresAt != nil {
		exp = r.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return []string{r.EmployeeID, r.Name, r.Status, r.App, r.Account, r.AccountStatus, strings.Join(r.Memberships, " "),
		r.ShouldHave, r.Finding, r.Entitlement, r.Reason, r.Approver, exp}
}

// WriteJSON writes the report as one JSON document.
func WriteJSON(w io.Writer, rep Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// WriteCSV writes the rows under a header row. What the rows cannot say (when the report was
// built and against which audit head) goes in leading comment lines, which spreadsheet tools
// show as text and csv readers can skip (encoding/csv's Comment).
func WriteCSV(w io.Writer, rep Report) error {
	if _, err := io.WriteString(w, csvPreamble(rep)); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(Columns); err != nil {
		return err
	}
	for _, r := range rep.Rows {
		if err := cw.Write(r.cells()); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvPreamble(rep Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# tenure report %s, generated %s", rep.Name, rep.GeneratedAt.Format(time.RFC3339))
	if rep.AsOf != nil {
		fmt.Fprintf(&b, ", as of %s", rep.AsOf.Format(time.RFC3339))
	}
	fmt.Fprintf(&b, "\n# audit log verified: %d records, head %s\n", rep.Evidence.Records, rep.Evidence.Head)
	for _, n := range rep.Notes {
		fmt.Fprintf(&b, "# %s\n", strings.ReplaceAll(n, "\n", " "))
	}
	return b.String()
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"time": func(t time.Time) string { return t.Format(time.RFC3339) },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Tenure {{.Rep.Name}} report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em}
table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}tr.finding td.finding{font-weight:bold;color:#a40000}
</style></head><body>
<h1>{{.Rep.Name}} report</h1>
<dl>
<dt>Generated</dt><dd>{{time .Rep.GeneratedAt}}</dd>
{{with .Rep.AsOf}}<dt>As of</dt><dd>{{time .}}</dd>{{end}}
<dt>Audit log</dt><dd>verified, {{.Rep.Evidence.Records}} records, head <code>{{.Rep.Evidence.Head}}</code></dd>
</dl>
{{range .Rep.Notes}}<p class="note">{{.}}</p>{{end}}
<h2>Summary</h2>
<table id="summary"><tr><th>finding</th><th>rows</th></tr>
{{range .Findings}}<tr><td>{{.}}</td><td>{{index $.Rep.Summary .}}</td></tr>{{end}}
</table>
<h2>Rows</h2>
<table id="rows"><thead><tr>{{range .Columns}}<th>{{.}}</th>{{end}}</tr></thead><tbody>
{{range .Rows}}<tr{{if ne .Finding "ok"}} class="finding"{{end}}>{{range $i, $c := .Cells}}<td{{if eq $i 8}} class="finding"{{end}}>{{$c}}</td>{{end}}</tr>
{{end}}</tbody></table>
</body></html>
`))

type htmlRow struct {
	Finding string
	Cells   []string
}

// WriteHTML writes the report as a self-contained page (no scripts, no external assets), for
// handing to an auditor as one file.
func WriteHTML(w io.Writer, rep Report) error {
	rows := make([]htmlRow, len(rep.Rows))
	for i, r := range rep.Rows {
		rows[i] = htmlRow{Finding: r.Finding, Cells: r.cells()}
	}
	return page.Execute(w, map[string]any{"Rep": rep, "Rows": rows, "Columns": Columns,
		"Findings": slices.Sorted(maps.Keys(rep.Summary))})
}
