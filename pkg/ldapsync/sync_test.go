package ldapsync_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"

	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/ldapsync"
)

func newSyncer(st ldapsync.Store, s *silos) *ldapsync.Syncer {
	return &ldapsync.Syncer{Store: st, Config: s.cfg, Getenv: s.getenv, Clock: fixedClock()}
}

func mustSync(t *testing.T, sy *ldapsync.Syncer, full bool, names ...string) map[string]ldapsync.Result {
	t.Helper()
	results, err := sy.Sync(ctxWithTimeout(t), names, full)
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	out := map[string]ldapsync.Result{}
	for _, r := range results {
		if r.Error != "" {
			t.Fatalf("Sync %s: %s", r.Source, r.Error)
		}
		out[r.Source] = r
	}
	return out
}

func TestFullSyncLinksBothSilos(t *testing.T) {
	s := startSilos(t)
	st := newStore(t)
	people := piedPiper(t, st)
	sy := newSyncer(st, s)
	res := mustSync(t, sy, true)

	id := func(emp string) string { return people[emp].ID }
	tests := []struct {
		source, uid string
		link        directory.LinkState
		person      string // employee ID
		rule        string
		candidates  []string // employee IDs
		status      directory.LDAPEntryStatus
	}{
		{"hooli", "rhendricks", directory.LinkAuto, "E100", "employee_number", nil, directory.LDAPEntryActive},
		{"hooli", "dinesh", directory.LinkAuto, "E101", "employee_number", nil, directory.LDAPEntryActive},
		{"hooli", "jyang", directory.LinkUnmatched, "", "", nil, directory.LDAPEntryActive},
		{"hooli", "gavin", directory.LinkUnmatched, "", "", nil, directory.LDAPEntryActive},
		{"hooli", "peter", directory.LinkAuto, "E105", "employee_number", nil, directory.LDAPEntryDisabled},
		{"hooli", "nelson", directory.LinkAuto, "E106", "employee_number", nil, directory.LDAPEntryActive},
		{"hooli", "ebachman", directory.LinkConflict, "", "", []string{"E107"}, directory.LDAPEntryActive},
		{"hooli", "erlich-admin", directory.LinkConflict, "", "", []string{"E107"}, directory.LDAPEntryActive},
		{"endframe", "richard", directory.LinkAuto, "E100", "email", nil, directory.LDAPEntryActive},
		{"endframe", "gilfoyle", directory.LinkAuto, "E102", "email", nil, directory.LDAPEntryActive},
		{"endframe", "jyang", directory.LinkAuto, "E103", "employee_number", nil, directory.LDAPEntryActive},
		{"endframe", "monica", directory.LinkConflict, "", "", []string{"E104", "E101"}, directory.LDAPEntryActive},
	}
	for _, tt := range tests {
		t.Run(tt.source+"/"+tt.uid, func(t *testing.T) {
			e := entryByUID(t, st, tt.source, tt.uid)
			var wantPerson string
			if tt.person != "" {
				wantPerson = id(tt.person)
			}
			var wantCands []string
			for _, c := range tt.candidates {
				wantCands = append(wantCands, id(c))
			}
			if e.Link != tt.link || e.PersonID != wantPerson || e.LinkRule != tt.rule || !slices.Equal(e.Candidates, wantCands) || e.Status != tt.status {
				t.Errorf("entry = link %s person %q rule %q candidates %v status %s; want %s %q %q %v %s",
					e.Link, e.PersonID, e.LinkRule, e.Candidates, e.Status, tt.link, wantPerson, tt.rule, wantCands, tt.status)
			}
			if e.Link == directory.LinkConflict && e.LinkNote == "" {
				t.Error("a conflict carries no note saying why")
			}
			if e.Key == "" || e.Stamp == "" || e.DN == "" {
				t.Errorf("entry lacks key, stamp or DN: %+v", e)
			}
		})
	}
	if got := entryByUID(t, st, "endframe", "richard").Attributes["title"]; got != "CEO" {
		t.Errorf("mapped attribute title = %q, want CEO", got)
	}

	wantRes := map[string]ldapsync.Result{
		"hooli":    {Source: "hooli", Full: true, Read: 8, Created: 8, Linked: 4, Conflicts: 2, Unmatched: 2, Groups: 1},
		"endframe": {Source: "endframe", Full: true, Read: 4, Created: 4, Linked: 3, Conflicts: 1, Groups: 1},
	}
	for name, want := range wantRes {
		got := res[name]
		got.Duration = 0
		if got != want {
			t.Errorf("result %s = %+v, want %+v", name, got, want)
		}
	}

	// Groups become directory groups of source ldap:<name>, with the linked members only.
	groups, err := st.ListGroups(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	members := map[string][]string{}
	for _, g := range groups {
		ms, err := st.GroupMembers(context.Background(), g.ID)
		if err != nil {
			t.Fatal(err)
		}
		var emps []string
		for _, p := range ms {
			emps = append(emps, p.EmployeeID)
		}
		members[g.Source+"/"+g.Name] = emps
	}
	wantMembers := map[string][]string{"ldap:hooli/engineering": {"E100", "E101"}, "ldap:endframe/ops": {"E100", "E102"}}
	if len(members) != len(wantMembers) {
		t.Errorf("groups = %v, want %v", members, wantMembers)
	}
	for g, want := range wantMembers {
		if !slices.Equal(members[g], want) {
			t.Errorf("members of %s = %v, want %v", g, members[g], want)
		}
	}

	// A second run of unchanged silos changes nothing.
	again := mustSync(t, sy, true)
	if h := again["hooli"]; h.Created+h.Updated+h.Removed+h.Linked+h.Conflicts != 0 || h.Unchanged != 8 {
		t.Errorf("second full sync of hooli = %+v, want 8 unchanged and nothing else", h)
	}
}

func TestIncrementalSyncReadsOnlyChanges(t *testing.T) {
	s := startSilos(t)
	st := newStore(t)
	piedPiper(t, st)
	sy := newSyncer(st, s)
	mustSync(t, sy, true)

	s.hooli.Modify(t, "dn: uid=rhendricks,ou=people,"+hooliBase+"\nchangetype: modify\nreplace: title\ntitle: CTO\n")
	s.hooli.Add(t, "dn: uid=laurie,ou=people,"+hooliBase+"\nobjectClass: inetOrgPerson\nuid: laurie\ncn: Laurie Bream\nsn: Bream\nmail: laurie@raviga.example\n")
	res := mustSync(t, sy, false, "hooli")["hooli"]
	res.Duration = 0
	want := ldapsync.Result{Source: "hooli", Read: 2, Created: 1, Updated: 1, Unmatched: 1, Groups: 1}
	if res != want {
		t.Errorf("incremental result = %+v, want %+v", res, want)
	}
	if got := entryByUID(t, st, "hooli", "rhendricks").Attributes["title"]; got != "CTO" {
		t.Errorf("title after incremental sync = %q, want CTO", got)
	}
	entryByUID(t, st, "hooli", "laurie")

	// A changed entry that now claims a person another entry has: both go to review, though
	// the other entry did not change.
	s.hooli.Modify(t, "dn: uid=gavin,ou=people,"+hooliBase+"\nchangetype: modify\nadd: employeeNumber\nemployeeNumber: E101\n")
	res = mustSync(t, sy, false, "hooli")["hooli"]
	if res.Read != 1 || res.Conflicts != 2 {
		t.Errorf("incremental run with a second claimant = %+v, want 1 read and 2 conflicts", res)
	}
	for _, uid := range []string{"gavin", "dinesh"} {
		if e := entryByUID(t, st, "hooli", uid); e.Link != directory.LinkConflict {
			t.Errorf("%s after a second claimant appeared = %s, want conflict", uid, e.Link)
		}
	}

	// Nothing changed since: an incremental run reads nothing.
	res = mustSync(t, sy, false, "hooli")["hooli"]
	if res.Read != 0 || res.Created+res.Updated != 0 {
		t.Errorf("idle incremental run = %+v, want nothing read", res)
	}
}

func TestDeletedEntryIsMarkedRemovedNeverDestroyed(t *testing.T) {
	tests := []struct {
		onRemoved  string
		wantLink   directory.LinkState
		wantLinked bool
	}{
		{"", directory.LinkAuto, true},
		{"unlink", directory.LinkUnmatched, false},
	}
	for _, tt := range tests {
		t.Run("on_removed="+tt.onRemoved, func(t *testing.T) {
			s := startSilos(t)
			s.cfg.Sources[0].OnRemoved = tt.onRemoved
			st := newStore(t)
			people := piedPiper(t, st)
			sy := newSyncer(st, s)
			mustSync(t, sy, true, "hooli")
			s.hooli.Delete(t, "uid=nelson,ou=people,"+hooliBase)

			if res := mustSync(t, sy, false, "hooli")["hooli"]; res.Removed != 0 {
				t.Errorf("incremental sync removed %d entries; only full syncs see deletions", res.Removed)
			}
			res := mustSync(t, sy, true, "hooli")["hooli"]
			if res.Removed != 1 || res.Updated != 1 {
				t.Errorf("full sync after delete = %+v, want 1 removed", res)
			}
			e := entryByUID(t, st, "hooli", "nelson")
			if e.Status != directory.LDAPEntryRemoved || e.RemovedAt == nil || e.Link != tt.wantLink || (e.PersonID != "") != tt.wantLinked {
				t.Errorf("deleted entry = status %s removed_at %v link %s person %q", e.Status, e.RemovedAt, e.Link, e.PersonID)
			}
			p, err := st.GetPerson(context.Background(), people["E106"].ID)
			if err != nil || p.Version != people["E106"].Version || p.Status != people["E106"].Status {
				t.Errorf("person behind the deleted entry = %+v, %v; want untouched", p, err)
			}
			if again := mustSync(t, sy, true, "hooli")["hooli"]; again.Removed != 0 || again.Updated != 0 {
				t.Errorf("next full sync = %+v, want the removal counted once", again)
			}
		})
	}
}

func TestAdministratorDecisionsSurviveSync(t *testing.T) {
	s := startSilos(t)
	st := newStore(t)
	people := piedPiper(t, st)
	sy := newSyncer(st, s)
	mustSync(t, sy, true)
	ctx := context.Background()
	monica := entryByUID(t, st, "endframe", "monica")
	gavin := entryByUID(t, st, "hooli", "gavin")
	if _, err := st.LinkLDAPEntry(ctx, "endframe", monica.Key, people["E104"].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.LinkLDAPEntry(ctx, "hooli", gavin.Key, ""); err != nil {
		t.Fatal(err)
	}
	res := mustSync(t, sy, true)
	if res["endframe"].Updated != 0 || res["hooli"].Updated != 0 {
		t.Errorf("sync after manual decisions changed entries: %+v", res)
	}
	if e := entryByUID(t, st, "endframe", "monica"); e.Link != directory.LinkManual || e.PersonID != people["E104"].ID {
		t.Errorf("manually linked entry after sync = %s %q", e.Link, e.PersonID)
	}
	if e := entryByUID(t, st, "hooli", "gavin"); e.Link != directory.LinkExcluded {
		t.Errorf("excluded entry after sync = %s", e.Link)
	}
	// Unlinking hands the entry back to the rules, which find the conflict again.
	if _, err := st.UnlinkLDAPEntry(ctx, "endframe", monica.Key); err != nil {
		t.Fatal(err)
	}
	mustSync(t, sy, true, "endframe")
	if e := entryByUID(t, st, "endframe", "monica"); e.Link != directory.LinkConflict {
		t.Errorf("unlinked entry after sync = %s, want conflict again", e.Link)
	}
}

func TestOneSiloDownOrSlowDoesNotBlockTheOthers(t *testing.T) {
	s := startSilos(t)
	// A silo that accepts connections and never answers.
	slow, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	go func() {
		for {
			c, err := slow.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	s.cfg.Sources = append(s.cfg.Sources, config.LDAPSource{Name: "slow", URL: "ldap://" + slow.Addr().String(),
		BaseDN: "dc=slow,dc=example", Timeout: "1s", BindDN: "cn=admin", PasswordEnv: "HOOLI_PW"})
	st := newStore(t)
	piedPiper(t, st)
	sy := newSyncer(st, s)
	s.endframe.Stop()

	results, err := sy.Sync(ctxWithTimeout(t), nil, true)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]ldapsync.Result{}
	for _, r := range results {
		byName[r.Source] = r
	}
	if r := byName["hooli"]; r.Error != "" || r.Created != 8 {
		t.Errorf("hooli with endframe down = %+v, want a complete sync", r)
	}
	for _, name := range []string{"endframe", "slow"} {
		if byName[name].Error == "" {
			t.Errorf("%s: no error reported for a silo that is down or silent", name)
		}
		stt, err := st.LDAPSyncState(context.Background(), name)
		if err != nil || stt.LastError == "" || stt.HighWater != "" {
			t.Errorf("%s sync state = %+v, %v; want the failure recorded and no high-water mark", name, stt, err)
		}
	}

	// The silo comes back and the next run catches up.
	s.endframe.Restart(t)
	if r := mustSync(t, sy, false, "endframe")["endframe"]; !r.Full || r.Created != 4 {
		t.Errorf("endframe after restart = %+v, want a full first sync creating 4", r)
	}
	if stt, _ := st.LDAPSyncState(context.Background(), "endframe"); stt.LastError != "" || stt.HighWater == "" {
		t.Errorf("endframe state after recovery = %+v", stt)
	}
}

func TestSyncUnknownSource(t *testing.T) {
	sy := &ldapsync.Syncer{Store: newStore(t)}
	if _, err := sy.Sync(context.Background(), []string{"nope"}, true); !errors.Is(err, ldapsync.ErrUnknownSource) {
		t.Errorf("Sync(unknown source) = %v, want ErrUnknownSource", err)
	}
}
