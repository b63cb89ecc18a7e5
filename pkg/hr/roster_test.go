package hr

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/tenure-id/tenure/pkg/identity"
)

const header = "employee_id,first_name,last_name,employment_type,manager_id,start_date,status\n"

func TestParseReportsBadRowsByLineAndColumn(t *testing.T) {
	tests := []struct {
		name string
		rows string
		want []string // every error, in order
	}{
		{"valid", "E1,Ada,Lovelace,employee,,2024-01-02,active\nE2,Alan,Turing,contractor,E1,,\n", nil},
		{"missing employee id", "E1,Ada,L,employee,,,\n,Alan,T,employee,E1,,\n",
			[]string{"line 3, column employee_id: required"}},
		{"bad date", "E1,Ada,L,employee,,2024-13-40,\n",
			[]string{`line 2, column start_date ("2024-13-40"): bad date: use YYYY-MM-DD`}},
		{"unknown manager", "E1,Ada,L,employee,E9,,\n",
			[]string{`line 2, column manager_id ("E9"): unknown manager: no row has this employee ID`}},
		{"duplicate employee id", "E1,Ada,L,employee,,,\nE2,B,C,employee,,,\nE1,Ada,L,employee,,,\n",
			[]string{`line 2, column employee_id ("E1"): duplicate employee ID (also on line 4)`,
				`line 4, column employee_id ("E1"): duplicate employee ID (also on line 2)`}},
		{"unknown employment type", "E1,Ada,L,freelancer,,,\n",
			[]string{`line 2, column employment_type ("freelancer"): unknown employment type; use one of employee|contractor|vendor|intern`}},
		{"manager cycle", "E1,A,L,employee,E3,,\nE2,B,L,employee,E1,,\nE3,C,L,employee,E2,,\nE4,D,L,employee,,,\n",
			[]string{`line 2, column manager_id ("E3"): manager cycle: E1 → E3 → E2 → E1`,
				`line 3, column manager_id ("E1"): manager cycle: E1 → E3 → E2 → E1`,
				`line 4, column manager_id ("E2"): manager cycle: E1 → E3 → E2 → E1`}},
		{"own manager", "E1,A,L,employee,E1,,\n",
			[]string{`line 2, column manager_id ("E1"): a person cannot be their own manager (manager cycle)`}},
		{"manager on an invalid row", "E1,A,L,bogus,,,\nE2,B,L,employee,E1,,\n",
			[]string{`line 2, column employment_type ("bogus"): unknown employment type; use one of employee|contractor|vendor|intern`,
				`line 3, column manager_id ("E1"): the manager's own row is invalid`}},
		{"bad status", "E1,A,L,employee,,,retired\n",
			[]string{`line 2, column status ("retired"): unknown status; use active|pre_hire|on_leave|terminated`}},
		{"no name", "E1,,,employee,,,\n", []string{"line 2, column first_name: a first or last name is required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse(strings.NewReader(header+tt.rows), CSV, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range r.Errors {
				got = append(got, e.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			err = r.Check(false)
			if (err != nil) != (len(tt.want) > 0) {
				t.Fatalf("Check(false) = %v with %d errors", err, len(tt.want))
			}
			if err != nil && (!errors.Is(err, ErrInvalidRoster) || !errors.Is(err, identity.ErrInvalid)) {
				t.Fatalf("Check error %v does not match ErrInvalidRoster", err)
			}
			if err := r.Check(true); err != nil {
				t.Fatalf("Check(skipInvalid) = %v", err)
			}
		})
	}
}

func TestSkipInvalidKeepsOnlyValidRows(t *testing.T) {
	rows := "E1,A,L,employee,,,\nE2,B,L,employee,E1,2024-99-01,\nE3,C,L,employee,E2,,\nE4,D,L,intern,E1,,\n"
	r, err := Parse(strings.NewReader(header+rows), CSV, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, rec := range r.Records {
		ids = append(ids, rec.EmployeeID)
	}
	// E3 reports to E2, whose row is invalid: both go.
	if strings.Join(ids, ",") != "E1,E4" || len(r.Errors) != 2 {
		t.Fatalf("kept %v, errors %v", ids, r.Errors)
	}
}

func TestMappingRenamesColumns(t *testing.T) {
	m := Mapping{FieldEmployeeID: "Worker ID", FieldFirstName: "Given", FieldLastName: "Family", FieldManagerID: "Boss"}
	in := "Worker ID,Given,Family,Boss,Termination_Date\nW1,Ada,Lovelace,,\nW2,José,Ñúñez,W1,2026-12-31\n"
	r, err := Parse(strings.NewReader(in), CSV, m)
	if err != nil || len(r.Errors) > 0 {
		t.Fatalf("Parse: %v %v", err, r.Errors)
	}
	got := r.Records[1]
	if got.EmployeeID != "W2" || got.FirstName != "José" || got.ManagerID != "W1" || got.Status != identity.Active {
		t.Fatalf("record = %+v", got)
	}
	// Mapped columns are looked up by their mapped name only.
	bad, _ := Parse(strings.NewReader("Worker ID,Given,Family,Boss\nW1,A,B,W9\n"), CSV, m)
	if len(bad.Errors) != 1 || bad.Errors[0].Column != "Boss" {
		t.Fatalf("errors = %v, want one naming column Boss", bad.Errors)
	}
	if _, err := Parse(strings.NewReader(in), CSV, Mapping{"employe_id": "x"}); err == nil || !strings.Contains(err.Error(), `unknown field "employe_id"`) {
		t.Fatalf("typo in mapping: %v", err)
	}
	if _, err := Parse(strings.NewReader("id,name\n1,x\n"), CSV, nil); err == nil || !strings.Contains(err.Error(), `no "employee_id" column`) {
		t.Fatalf("missing employee_id column: %v", err)
	}
}

func TestParseJSONNamesRecordAndField(t *testing.T) {
	in := `{"people": [
	  {"employee_id": "E1", "first_name": "Ada", "last_name": "L", "start_date": "2024-01-02", "status": "on leave"},
	  {"employee_id": 2, "first_name": "Alan", "manager_id": "E1", "end_date": "soon"}
	]}`
	r, err := Parse(strings.NewReader(in), JSON, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Records) != 1 || r.Records[0].Status != identity.OnLeave || r.Records[0].StartDate.Format("2006-01-02") != "2024-01-02" {
		t.Fatalf("records = %+v", r.Records)
	}
	if len(r.Errors) != 1 || r.Errors[0].Error() != `record 2, column end_date ("soon"): bad date: use YYYY-MM-DD` {
		t.Fatalf("errors = %v", r.Errors)
	}
	if _, err := Parse(strings.NewReader(`[{"employee_id": "E1"`), JSON, nil); err == nil {
		t.Fatal("truncated JSON accepted")
	}
}

func TestSampleRostersAreValid(t *testing.T) {
	for _, name := range []string{"piedpiper.csv", "piedpiper-day2.csv"} {
		f, err := os.Open("../../testdata/hr/" + name)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Parse(f, CSV, nil)
		f.Close()
		if err != nil || len(r.Errors) > 0 {
			t.Fatalf("%s: %v %v", name, err, r.Errors)
		}
		if len(r.Records) < 40 {
			t.Fatalf("%s: %d records", name, len(r.Records))
		}
	}
}

func TestSampleJSONMatchesCSV(t *testing.T) {
	parse := func(name string, f Format) Roster {
		file, err := os.Open("../../testdata/hr/" + name)
		if err != nil {
			t.Fatal(err)
		}
		defer file.Close()
		r, err := Parse(file, f, nil)
		if err != nil || len(r.Errors) > 0 {
			t.Fatalf("%s: %v %v", name, err, r.Errors)
		}
		return r
	}
	c, j := parse("piedpiper.csv", CSV), parse("piedpiper.json", JSON)
	if len(c.Records) != len(j.Records) {
		t.Fatalf("%d CSV records, %d JSON records", len(c.Records), len(j.Records))
	}
	for i := range c.Records {
		a, b := c.Records[i], j.Records[i]
		a.Row, b.Row = 0, 0
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			t.Fatalf("record %d differs:\n%s\n%s", i+1, ja, jb)
		}
	}
}
