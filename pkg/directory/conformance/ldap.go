package conformance

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

func ldapTests() []subTest {
	return []subTest{
		{"LDAPEntryPutGetList", testLDAPEntryPutGetList},
		{"LDAPEntryUnchangedIsNoWrite", testLDAPEntryUnchangedIsNoWrite},
		{"LDAPEntryBadBatchWritesNothing", testLDAPEntryBadBatchWritesNothing},
		{"LDAPEntryLinkUnlinkExclude", testLDAPEntryLinkUnlinkExclude},
		{"LDAPEntryLongKeyList", testLDAPEntryLongKeyList},
		{"LDAPSyncState", testLDAPSyncState},
	}
}

func ldapEntry(source, key string, mods ...func(*directory.LDAPEntry)) directory.LDAPEntry {
	e := directory.LDAPEntry{Source: source, Key: key, DN: "uid=" + key + ",ou=people,dc=example,dc=com",
		Username: key, Status: directory.LDAPEntryActive, Link: directory.LinkUnmatched}
	for _, m := range mods {
		m(&e)
	}
	return e
}

func mustGetLDAPEntry(t *testing.T, ctx context.Context, s directory.Store, source, key string) directory.LDAPEntry {
	t.Helper()
	e, err := s.GetLDAPEntry(ctx, source, key)
	if err != nil {
		t.Fatalf("GetLDAPEntry(%s/%s): %v", source, key, err)
	}
	return e
}

func ldapKeys(es []directory.LDAPEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Source + "/" + e.Key
	}
	return out
}

func testLDAPEntryPutGetList(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	p := mustCreatePerson(t, ctx, s, newPerson("E001"))
	linked := ldapEntry("hooli", "u1", func(e *directory.LDAPEntry) {
		e.Email, e.EmployeeNumber, e.DisplayName = "gavin@hooli.test", "E001", "Gavin Belson"
		e.FirstName, e.LastName = "Gavin", "Belson"
		e.Attributes = map[string]string{"title": "CEO"}
		e.Stamp = "20261128000000.000001Z#000000#000#000000"
		e.PersonID, e.Link, e.LinkRule = p.ID, directory.LinkAuto, "employee_number"
	})
	conflicted := ldapEntry("hooli", "u2", func(e *directory.LDAPEntry) {
		e.Link, e.Candidates, e.LinkNote = directory.LinkConflict, []string{p.ID, "other"}, "two people share the email"
		e.Status = directory.LDAPEntryDisabled
	})
	other := ldapEntry("endframe", "u1")
	if err := s.PutLDAPEntries(ctx, []directory.LDAPEntry{linked, conflicted, other}); err != nil {
		t.Fatalf("PutLDAPEntries: %v", err)
	}
	got := mustGetLDAPEntry(t, ctx, s, "hooli", "u1")
	if got.ID == "" || got.Version != 1 || got.CreatedAt.IsZero() || got.PersonID != p.ID || got.Link != directory.LinkAuto ||
		got.LinkRule != "employee_number" || got.Email != "gavin@hooli.test" || got.Attributes["title"] != "CEO" ||
		got.Stamp != linked.Stamp || got.DN != linked.DN || got.DisplayName != "Gavin Belson" ||
		got.FirstName != "Gavin" || got.LastName != "Belson" {
		t.Errorf("GetLDAPEntry(hooli/u1) = %+v, want the entry as put with ID and Version 1", got)
	}
	got2 := mustGetLDAPEntry(t, ctx, s, "hooli", "u2")
	if !slices.Equal(got2.Candidates, []string{p.ID, "other"}) || got2.LinkNote == "" || got2.Status != directory.LDAPEntryDisabled {
		t.Errorf("conflict entry = %+v", got2)
	}
	_, err := s.GetLDAPEntry(ctx, "endframe", "u2")
	wantErrIs(t, err, identity.ErrNotFound, "GetLDAPEntry(unknown key)")

	tests := []struct {
		name string
		f    directory.LDAPEntryFilter
		want []string
	}{
		{"all", directory.LDAPEntryFilter{}, []string{"endframe/u1", "hooli/u1", "hooli/u2"}},
		{"source", directory.LDAPEntryFilter{Source: "hooli"}, []string{"hooli/u1", "hooli/u2"}},
		{"person", directory.LDAPEntryFilter{PersonID: p.ID}, []string{"hooli/u1"}},
		{"conflicts", directory.LDAPEntryFilter{Links: []directory.LinkState{directory.LinkConflict}}, []string{"hooli/u2"}},
		{"review queue", directory.LDAPEntryFilter{Links: []directory.LinkState{directory.LinkConflict, directory.LinkUnmatched}}, []string{"endframe/u1", "hooli/u2"}},
		{"disabled", directory.LDAPEntryFilter{Statuses: []directory.LDAPEntryStatus{directory.LDAPEntryDisabled}}, []string{"hooli/u2"}},
		{"keys", directory.LDAPEntryFilter{Keys: []string{"u2", "u1", "u9"}}, []string{"endframe/u1", "hooli/u1", "hooli/u2"}},
		{"keys of a source", directory.LDAPEntryFilter{Source: "hooli", Keys: []string{"u1"}}, []string{"hooli/u1"}},
		{"empty key list", directory.LDAPEntryFilter{Keys: []string{}}, nil},
		{"person ids", directory.LDAPEntryFilter{PersonIDs: []string{"nobody", p.ID}}, []string{"hooli/u1"}},
	}
	for _, tt := range tests {
		es, err := s.ListLDAPEntries(ctx, tt.f)
		if err != nil {
			t.Fatalf("ListLDAPEntries(%s): %v", tt.name, err)
		}
		if !slices.Equal(ldapKeys(es), tt.want) {
			t.Errorf("ListLDAPEntries(%s) = %v, want %v", tt.name, ldapKeys(es), tt.want)
		}
	}

	// A change replaces the entry, bumps its version and is audited with before and after.
	removed := got
	removed.Status, removed.RemovedAt = directory.LDAPEntryRemoved, date(2026, 11, 28)
	if err := s.PutLDAPEntries(ctx, []directory.LDAPEntry{removed}); err != nil {
		t.Fatalf("PutLDAPEntries(removed): %v", err)
	}
	after := mustGetLDAPEntry(t, ctx, s, "hooli", "u1")
	if after.Version != 2 || after.ID != got.ID || after.Status != directory.LDAPEntryRemoved || !equalTimePtr(after.RemovedAt, removed.RemovedAt) || !after.CreatedAt.Equal(got.CreatedAt) {
		t.Errorf("after update = %+v, want version 2, same ID, status removed", after)
	}
	recs := verifyAuditLog(t, ctx, s)
	var actions []string
	for _, r := range recs {
		if strings.HasPrefix(r.Target, "ldap_entry:") {
			actions = append(actions, r.Action+" "+r.Target)
		}
	}
	want := []string{"ldap_entry.create ldap_entry:hooli/u1", "ldap_entry.create ldap_entry:hooli/u2",
		"ldap_entry.create ldap_entry:endframe/u1", "ldap_entry.update ldap_entry:hooli/u1"}
	if !slices.Equal(actions, want) {
		t.Errorf("audit = %v, want %v", actions, want)
	}
	if last := recs[len(recs)-1]; len(last.Before) == 0 || !strings.Contains(string(last.After), `"removed"`) {
		t.Errorf("update audit record has before %s after %s", last.Before, last.After)
	}
}

func testLDAPEntryUnchangedIsNoWrite(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	e := ldapEntry("hooli", "u1", func(e *directory.LDAPEntry) { e.Attributes = map[string]string{"title": "CEO"} })
	if err := s.PutLDAPEntries(ctx, []directory.LDAPEntry{e}); err != nil {
		t.Fatal(err)
	}
	n := len(verifyAuditLog(t, ctx, s))
	if err := s.PutLDAPEntries(ctx, []directory.LDAPEntry{e}); err != nil {
		t.Fatal(err)
	}
	if got := mustGetLDAPEntry(t, ctx, s, "hooli", "u1"); got.Version != 1 {
		t.Errorf("version after an identical put = %d, want 1", got.Version)
	}
	if m := len(verifyAuditLog(t, ctx, s)); m != n {
		t.Errorf("identical put appended %d audit records, want 0", m-n)
	}
}

func testLDAPEntryBadBatchWritesNothing(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	good := ldapEntry("hooli", "u1")
	tests := []struct {
		name, field string
		bad         directory.LDAPEntry
	}{
		{"unknown person", "person_id", ldapEntry("hooli", "u2", func(e *directory.LDAPEntry) { e.PersonID, e.Link = "no-such-person", directory.LinkAuto })},
		{"linked without person", "person_id", ldapEntry("hooli", "u2", func(e *directory.LDAPEntry) { e.Link = directory.LinkManual })},
		{"bad status", "status", ldapEntry("hooli", "u2", func(e *directory.LDAPEntry) { e.Status = "gone" })},
		{"bad link", "link", ldapEntry("hooli", "u2", func(e *directory.LDAPEntry) { e.Link = "maybe" })},
		{"no key", "key", ldapEntry("hooli", "")},
		{"duplicate", "key", good},
	}
	for _, tt := range tests {
		err := s.PutLDAPEntries(ctx, []directory.LDAPEntry{good, tt.bad})
		wantField(t, err, "PutLDAPEntries("+tt.name+")", tt.field)
		es, err := s.ListLDAPEntries(ctx, directory.LDAPEntryFilter{})
		if err != nil || len(es) != 0 {
			t.Errorf("%s: after a rejected batch ListLDAPEntries = %v, %v; want nothing written", tt.name, ldapKeys(es), err)
		}
	}
}

func testLDAPEntryLinkUnlinkExclude(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	p := mustCreatePerson(t, ctx, s, newPerson("E001"))
	conflicted := ldapEntry("hooli", "u1", func(e *directory.LDAPEntry) {
		e.Link, e.Candidates, e.LinkNote = directory.LinkConflict, []string{p.ID}, "ambiguous"
	})
	if err := s.PutLDAPEntries(ctx, []directory.LDAPEntry{conflicted}); err != nil {
		t.Fatal(err)
	}
	e, err := s.LinkLDAPEntry(ctx, "hooli", "u1", p.ID)
	if err != nil {
		t.Fatalf("LinkLDAPEntry: %v", err)
	}
	if e.Link != directory.LinkManual || e.PersonID != p.ID || e.LinkRule != "manual" || len(e.Candidates) != 0 || e.LinkNote != "" || e.Version != 2 {
		t.Errorf("after link = %+v", e)
	}
	if got := mustGetLDAPEntry(t, ctx, s, "hooli", "u1"); got.Link != directory.LinkManual || got.PersonID != p.ID {
		t.Errorf("stored after link = %+v", got)
	}
	_, err = s.LinkLDAPEntry(ctx, "hooli", "u1", "no-such-person")
	wantErrIs(t, err, identity.ErrNotFound, "LinkLDAPEntry(unknown person)")
	_, err = s.LinkLDAPEntry(ctx, "hooli", "nope", p.ID)
	wantErrIs(t, err, identity.ErrNotFound, "LinkLDAPEntry(unknown entry)")

	e, err = s.UnlinkLDAPEntry(ctx, "hooli", "u1")
	if err != nil || e.Link != directory.LinkUnmatched || e.PersonID != "" || e.LinkRule != "" {
		t.Errorf("UnlinkLDAPEntry = %+v, %v", e, err)
	}
	e, err = s.LinkLDAPEntry(ctx, "hooli", "u1", "")
	if err != nil || e.Link != directory.LinkExcluded || e.PersonID != "" {
		t.Errorf("LinkLDAPEntry(exclude) = %+v, %v", e, err)
	}
	var actions []string
	for _, r := range verifyAuditLog(t, ctx, s) {
		if strings.HasPrefix(r.Target, "ldap_entry:") {
			actions = append(actions, r.Action)
		}
	}
	want := []string{"ldap_entry.create", "ldap_entry.link", "ldap_entry.unlink", "ldap_entry.exclude"}
	if !slices.Equal(actions, want) {
		t.Errorf("audit actions = %v, want %v", actions, want)
	}
}

func testLDAPSyncState(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	st, err := s.LDAPSyncState(ctx, "hooli")
	if err != nil || st.Source != "hooli" || st.HighWater != "" || st.LastSync != nil {
		t.Fatalf("LDAPSyncState(never synced) = %+v, %v; want the zero state", st, err)
	}
	in := directory.LDAPSyncState{Source: "hooli", HighWater: "20261128101010.000001Z#000000#000#000000",
		LastFull: date(2026, 11, 27), LastSync: date(2026, 11, 28), LastResult: `{"created":3}`}
	if err := s.PutLDAPSyncState(ctx, in); err != nil {
		t.Fatalf("PutLDAPSyncState: %v", err)
	}
	in.LastError, in.LastSync = "dial: connection refused", date(2026, 11, 29)
	if err := s.PutLDAPSyncState(ctx, in); err != nil {
		t.Fatalf("PutLDAPSyncState(second): %v", err)
	}
	got, err := s.LDAPSyncState(ctx, "hooli")
	if err != nil || got.HighWater != in.HighWater || !equalTimePtr(got.LastFull, in.LastFull) || !equalTimePtr(got.LastSync, in.LastSync) ||
		got.LastError != in.LastError || got.LastResult != in.LastResult || got.UpdatedAt.IsZero() {
		t.Errorf("LDAPSyncState = %+v, %v; want %+v", got, err, in)
	}
	if other, _ := s.LDAPSyncState(ctx, "endframe"); other.HighWater != "" {
		t.Errorf("another source shares the state: %+v", other)
	}
	wantField(t, s.PutLDAPSyncState(ctx, directory.LDAPSyncState{}), "PutLDAPSyncState(no source)", "source")
	n := 0
	for _, r := range verifyAuditLog(t, ctx, s) {
		if r.Target == "ldap_source:hooli" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("sync state audit records = %d, want 2", n)
	}
}

// testLDAPEntryLongKeyList selects by more keys than any backend takes in one statement's IN
// list, as an incremental sync of a busy silo does.
func testLDAPEntryLongKeyList(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	var batch []directory.LDAPEntry
	var keys []string
	for i := range 2500 {
		key := fmt.Sprintf("k%05d", i)
		batch = append(batch, ldapEntry("big", key))
		if i%2 == 0 {
			keys = append(keys, key)
		}
	}
	if err := s.PutLDAPEntries(ctx, batch); err != nil {
		t.Fatalf("PutLDAPEntries(2500): %v", err)
	}
	got, err := s.ListLDAPEntries(ctx, directory.LDAPEntryFilter{Source: "big", Keys: keys})
	if err != nil {
		t.Fatalf("ListLDAPEntries(1250 keys): %v", err)
	}
	if len(got) != len(keys) || got[0].Key != "k00000" || got[len(got)-1].Key != "k02498" {
		t.Fatalf("ListLDAPEntries(1250 keys) = %d entries, want %d in key order", len(got), len(keys))
	}
	if n := len(verifyAuditLog(t, ctx, s)); n != 2500 {
		t.Errorf("audit records for 2500 new entries = %d", n)
	}
}
