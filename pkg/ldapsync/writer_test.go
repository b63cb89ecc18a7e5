package ldapsync

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
)

// The writer's sums must agree with SameSynced: every field a sync controls changes the sum,
// store bookkeeping does not, and attribute order never matters.
func TestEntrySumAgreesWithSameEntry(t *testing.T) {
	w := &batchWriter{}
	w.seeds[0], w.seeds[1] = newSeeds()
	removed := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	base := func() directory.LDAPEntry {
		return directory.LDAPEntry{ID: "id-1", Source: "hooli", Key: "k1", DN: "uid=ab,dc=x", Username: "ab", Email: "c@x",
			EmployeeNumber: "E1", DisplayName: "A B", FirstName: "A", LastName: "B", Attributes: map[string]string{"title": "CEO", "office": "Palo Alto"},
			Status: directory.LDAPEntryActive, Stamp: "s1", PersonID: "p1", Link: directory.LinkAuto, LinkRule: "email",
			Candidates: []string{"p1", "p2"}, LinkNote: "note", Version: 3}
	}
	cases := []struct {
		name   string
		change func(*directory.LDAPEntry)
	}{
		{"nothing", func(*directory.LDAPEntry) {}},
		{"bookkeeping only", func(e *directory.LDAPEntry) { e.ID, e.Version, e.UpdatedAt = "id-2", 4, removed }},
		{"attributes rebuilt in another order", func(e *directory.LDAPEntry) {
			e.Attributes = map[string]string{"office": "Palo Alto", "title": "CEO"}
		}},
		{"dn", func(e *directory.LDAPEntry) { e.DN = "uid=ab,dc=y" }},
		{"username", func(e *directory.LDAPEntry) { e.Username = "abc" }},
		{"a byte moved between fields", func(e *directory.LDAPEntry) { e.Username, e.Email = "a", "bc@x" }},
		{"email", func(e *directory.LDAPEntry) { e.Email = "d@x" }},
		{"employee number", func(e *directory.LDAPEntry) { e.EmployeeNumber = "E2" }},
		{"display name", func(e *directory.LDAPEntry) { e.DisplayName = "A C" }},
		{"first name", func(e *directory.LDAPEntry) { e.FirstName = "Ann" }},
		{"last name", func(e *directory.LDAPEntry) { e.LastName = "Bee" }},
		{"attribute value", func(e *directory.LDAPEntry) { e.Attributes["title"] = "CTO" }},
		{"attribute added", func(e *directory.LDAPEntry) { e.Attributes["department"] = "Exec" }},
		{"attribute key and value swapped", func(e *directory.LDAPEntry) {
			e.Attributes = map[string]string{"CEO": "title", "office": "Palo Alto"}
		}},
		{"no attributes", func(e *directory.LDAPEntry) { e.Attributes = nil }},
		{"status", func(e *directory.LDAPEntry) { e.Status = directory.LDAPEntryDisabled }},
		{"stamp", func(e *directory.LDAPEntry) { e.Stamp = "s2" }},
		{"person", func(e *directory.LDAPEntry) { e.PersonID = "p2" }},
		{"link", func(e *directory.LDAPEntry) { e.Link = directory.LinkConflict }},
		{"link rule", func(e *directory.LDAPEntry) { e.LinkRule = "employee_number" }},
		{"candidates order", func(e *directory.LDAPEntry) { e.Candidates = []string{"p2", "p1"} }},
		{"candidate dropped", func(e *directory.LDAPEntry) { e.Candidates = e.Candidates[:1] }},
		{"link note", func(e *directory.LDAPEntry) { e.LinkNote = "other" }},
		{"removed", func(e *directory.LDAPEntry) { e.RemovedAt = &removed }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := base(), base()
			tc.change(&b)
			same, sums := a.SameSynced(b), w.sum(&a) == w.sum(&b)
			if same != sums {
				t.Fatalf("SameSynced says %v, equal sums say %v", same, sums)
			}
		})
	}
	a, b := base(), base()
	earlier := removed.Add(-time.Hour)
	a.RemovedAt, b.RemovedAt = &removed, &earlier
	if a.SameSynced(b) || w.sum(&a) == w.sum(&b) {
		t.Fatal("entries removed at different times must differ, by SameSynced and by sum")
	}
}

// recordingStore keeps what the writer sends; the other LDAPFederation methods are not used.
type recordingStore struct {
	directory.LDAPFederation
	sent []string
}

func (s *recordingStore) PutLDAPEntries(_ context.Context, entries []directory.LDAPEntry) error {
	for _, e := range entries {
		s.sent = append(s.sent, e.Key+"="+e.DisplayName)
	}
	return nil
}

// The writer skips entries the store already has as they are, and sends everything else,
// including an entry changed back to what the store had before this run wrote over it.
func TestBatchWriterSendsOnlyWhatTheStoreLacks(t *testing.T) {
	entry := func(key, name string) directory.LDAPEntry {
		return directory.LDAPEntry{Source: "s", Key: key, DN: "uid=" + key, DisplayName: name,
			Status: directory.LDAPEntryActive, Link: directory.LinkUnmatched}
	}
	st := &recordingStore{}
	w := newBatchWriter(context.Background(), st, map[string]directory.LDAPEntry{"old": entry("old", "A"), "kept": entry("kept", "K")})
	steps := []directory.LDAPEntry{
		entry("kept", "K"), // as stored: skipped
		entry("old", "B"),  // changed: sent
		entry("new", "N"),  // new: sent
		entry("old", "B"),  // as this run wrote it: skipped
		entry("old", "A"),  // back to the value before the run, which the store no longer has: sent
	}
	for _, e := range steps {
		if err := w.add(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	want := []string{"old=B", "new=N", "old=A"}
	if !slices.Equal(st.sent, want) {
		t.Fatalf("sent %v, want %v", st.sent, want)
	}
}
