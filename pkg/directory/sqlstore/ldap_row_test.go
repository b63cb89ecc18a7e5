package sqlstore

import "testing"

// Entries stored while first and last names were attributes read as a sync writes them now.
func TestOldLDAPEntryRowsReadWithNamesInTheirFields(t *testing.T) {
	old := ldapEntryRow{Source: "hooli", Key: "k", Attributes: `{"first_name":"Gavin","last_name":"Belson","title":"CEO"}`}
	e, err := old.entry()
	if err != nil {
		t.Fatal(err)
	}
	if e.FirstName != "Gavin" || e.LastName != "Belson" || len(e.Attributes) != 1 || e.Attributes["title"] != "CEO" {
		t.Fatalf("old row read as first %q last %q attributes %v", e.FirstName, e.LastName, e.Attributes)
	}
	onlyNames := ldapEntryRow{Source: "hooli", Key: "k", Attributes: `{"first_name":"Gavin"}`}
	if e, err := onlyNames.entry(); err != nil || e.Attributes != nil || e.FirstName != "Gavin" {
		t.Fatalf("row with only a name attribute: %+v %v", e, err)
	}
}
