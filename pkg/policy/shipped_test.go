package policy

import (
	"encoding/csv"
	"os"
	"strings"
	"testing"
)

// TestShippedPolicy keeps policies/ valid and its own test cases passing.
func TestShippedPolicy(t *testing.T) {
	set, err := LoadDir("../../policies")
	if err != nil {
		t.Fatalf("policies/ does not validate: %v", err)
	}
	if len(set.Tests) == 0 {
		t.Fatal("policies/ ships no test cases")
	}
	for _, tr := range NewResolver(set).RunTests() {
		if !tr.Passed {
			t.Errorf("%s:%d: %s: %v", tr.File, tr.Line, tr.Name, tr.Failures)
		}
	}
}

// TestShippedOrgUnitsMatchSampleRoster keeps policies/ in step with the sample HR roster:
// every org unit the policy declares must be one the roster places people in or above.
func TestShippedOrgUnitsMatchSampleRoster(t *testing.T) {
	set, err := LoadDir("../../policies")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../../testdata/hr/piedpiper.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	roster := map[string]bool{}
	for _, row := range rows[1:] {
		path := ""
		for _, level := range []string{"organization", "division", "department", "team"} {
			i, ok := col[level]
			if !ok {
				t.Fatalf("roster has no %s column", level)
			}
			if row[i] == "" {
				break
			}
			path = strings.TrimPrefix(path+"/"+row[i], "/")
			roster[strings.ToLower(path)] = true
		}
	}
	for _, missing := range set.CheckOrgUnits(func(p string) bool { return roster[p] }) {
		t.Errorf("%v (roster testdata/hr/piedpiper.csv)", missing)
	}
}
