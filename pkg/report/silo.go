package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// SiloEntry is one account in an LDAP silo as far as access goes. Policy does not provision
// silos (they are read), so their rows are judged by who holds them, not by rules.
type SiloEntry struct {
	Source   string `json:"source"`
	Key      string `json:"key"`
	DN       string `json:"dn"`
	Username string `json:"username,omitempty"`
	Email    string `json:"email,omitempty"`
	Status   string `json:"status"`
	PersonID string `json:"person_id,omitempty"`
	Link     string `json:"link"`
	LinkRule string `json:"link_rule,omitempty"`
	LinkNote string `json:"link_note,omitempty"`
}

// siloApp is how a silo shows in the app column.
func siloApp(source string) string { return "ldap:" + source }

// AddSilo adds what the store holds now of the silos: their entries, and the groups (silo
// groups among them) with their members.
func (st *State) AddSilo(entries []directory.LDAPEntry, groups []identity.Group, members map[string][]string) {
	st.init()
	for _, e := range entries {
		st.Silo[e.Source+"/"+e.Key] = SiloEntry{Source: e.Source, Key: e.Key, DN: e.DN, Username: e.Username, Email: e.Email,
			Status: string(e.Status), PersonID: e.PersonID, Link: string(e.Link), LinkRule: e.LinkRule, LinkNote: e.LinkNote}
	}
	for _, g := range groups {
		st.Groups[g.ID] = g
		for _, p := range members[g.ID] {
			st.member(g.ID, p, true)
		}
	}
}

func (st *State) init() {
	if st.Silo == nil {
		st.Silo = map[string]SiloEntry{}
	}
	if st.Groups == nil {
		st.Groups = map[string]identity.Group{}
	}
	if st.Members == nil {
		st.Members = map[string]map[string]bool{}
	}
}

func (st *State) member(groupID, personID string, in bool) {
	if !in {
		delete(st.Members[groupID], personID)
		return
	}
	if st.Members[groupID] == nil {
		st.Members[groupID] = map[string]bool{}
	}
	st.Members[groupID][personID] = true
}

// siloRows are the silo accounts: a terminated person's enabled entry is a leaver's access,
// an entry nobody is linked to (unmatched, or a conflict awaiting review) an orphan; an entry
// an administrator excluded (a service account) is as decided.
func siloRows(st State) []Row {
	groupsOf := map[string][]string{} // person + "/" + source → silo group names
	for gid, members := range st.Members {
		g, ok := st.Groups[gid]
		source, silo := strings.CutPrefix(g.Source, "ldap:")
		if !ok || !silo {
			continue
		}
		for p := range members {
			groupsOf[p+"/"+source] = append(groupsOf[p+"/"+source], "group:"+g.Name)
		}
	}
	var rows []Row
	for _, e := range st.Silo {
		if e.Status == string(directory.LDAPEntryRemoved) {
			continue
		}
		r := Row{App: siloApp(e.Source), Account: cmp.Or(e.Username, e.Email, e.DN), ExternalID: e.DN, AccountStatus: e.Status,
			Memberships: []string{}, ShouldHave: "unknown", Finding: OK}
		p, linked := st.People[e.PersonID]
		switch {
		case linked:
			fillPerson(&r, p)
			r.Memberships = nonNil(groupsOf[p.ID+"/"+e.Source])
			r.Reason = "silo account linked by " + cmp.Or(e.LinkRule, e.Link)
			if e.Status == string(directory.LDAPEntryActive) && p.Status == identity.Terminated {
				r.Finding = LeaverWithAccess
			}
		case e.Link == string(directory.LinkExcluded):
			r.Reason = "excluded by an administrator: belongs to no person"
		default:
			r.Finding = Orphan
			r.Reason = strings.TrimSpace("silo account " + e.Link + ": " + e.LinkNote)
		}
		rows = append(rows, r)
	}
	return rows
}

// applySilo applies a silo entry or group change from the audit log; ok is false for other
// actions.
func (st *State) applySilo(r identity.AuditRecord) (bool, error) {
	st.init()
	switch r.Action {
	case "ldap_entry.create", "ldap_entry.update", "ldap_entry.link", "ldap_entry.exclude", "ldap_entry.unlink":
		ref, _ := strings.CutPrefix(r.Target, "ldap_entry:")
		source, key, ok := strings.Cut(ref, "/")
		if !ok {
			return true, fmt.Errorf("target %q is not ldap_entry:SOURCE/KEY", r.Target)
		}
		var e SiloEntry
		if err := json.Unmarshal(r.After, &e); err != nil {
			return true, err
		}
		e.Source, e.Key = source, key
		st.Silo[source+"/"+key] = e
	case "group.create":
		var g identity.Group
		if err := json.Unmarshal(r.After, &g); err != nil {
			return true, err
		}
		st.Groups[g.ID] = g
	case "group.delete":
		var g identity.Group
		if err := json.Unmarshal(r.Before, &g); err != nil {
			return true, err
		}
		delete(st.Groups, g.ID)
		delete(st.Members, g.ID)
	case "group.add_member", "group.remove_member":
		var m struct{ Group, Person string }
		raw := r.After
		if len(raw) == 0 {
			raw = r.Before
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			return true, err
		}
		st.member(m.Group, m.Person, r.Action == "group.add_member")
	default:
		return false, nil
	}
	return true, nil
}
