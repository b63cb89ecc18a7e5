package lifecycle

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/hr"
	"github.com/tenure-id/tenure/pkg/hr/hrgen"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/testenv"
)

// TestBatchedChangesMatchOneByOne puts the same roster change and the same batch of events
// through the batched path and the one-by-one path, on two stores of the same backend, and
// requires the same outcomes, the same people and the same audit trail (per action, per
// employee, with every update's before and after), with the chain intact. The batch holds
// what the batched path must turn into rejections exactly as the one-by-one path does: a
// manager cycle, invalid data, an illegal transition, and two changes of one person.
func TestBatchedChangesMatchOneByOne(t *testing.T) {
	base := hrgen.Roster(1600, 1) // 1,111 managers, then members
	changed := hrgen.Change(base, 0.02, 2)
	open := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "t.db") },
		"postgres": func(t *testing.T) string { return testenv.SharedPostgres(t).NewDatabase(t) },
	}
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			type result struct {
				outcomes []string
				people   map[string]string
				audit    []string
			}
			run := func(oneByOne bool) result {
				c := &clock{t: day1}
				s := openStore(t, open[backend](t), c)
				eng := newEngine(s, c)
				ctx := ctxAs("hr:test")
				var res result
				note := func(r Report) {
					for _, o := range r.Outcomes {
						res.outcomes = append(res.outcomes, fmt.Sprintf("%s %s %s %q dup=%v", o.Event.Type, o.Event.EmployeeID,
							o.Event.State, o.Event.Error, o.Duplicate))
					}
				}
				// Both directories start from the same batched initial import; the paths part after.
				for i, roster := range [][]hr.Record{base, changed} {
					eng.oneByOne = oneByOne && i > 0
					c.Set(day1.Add(time.Duration(i) * 24 * time.Hour))
					rep, err := eng.ImportRoster(ctx, hr.Roster{Records: roster}, ImportOptions{Source: "roster:test",
						SubmitOptions: SubmitOptions{AllowMassChange: true}})
					if err != nil {
						t.Fatalf("import %d: %v", i+1, err)
					}
					note(rep.Report)
				}
				c.Set(day1.Add(48 * time.Hour))
				rep, err := eng.Submit(ctx, batch(t, eng, changed, c.Now()), SubmitOptions{AllowMassChange: true})
				if err != nil {
					t.Fatalf("submit: %v", err)
				}
				note(rep)
				var ids *strings.Replacer
				res.people, res.audit, ids = snapshot(t, s)
				for i, o := range res.outcomes {
					res.outcomes[i] = ids.Replace(o)
				}
				// The batched paths store future events at the end of a batch: compare as multisets.
				slices.Sort(res.outcomes)
				return res
			}
			bulk, single := run(false), run(true)
			if i, d := firstDiff(bulk.outcomes, single.outcomes); d {
				t.Errorf("outcome %d differs:\nbatched    %v\none by one %v", i, at(bulk.outcomes, i), at(single.outcomes, i))
			}
			for emp, want := range single.people {
				if got := bulk.people[emp]; got != want {
					t.Errorf("person %s:\nbatched    %s\none by one %s", emp, got, want)
				}
			}
			if len(bulk.people) != len(single.people) {
				t.Errorf("%d people batched, %d one by one", len(bulk.people), len(single.people))
			}
			if i, d := firstDiff(bulk.audit, single.audit); d {
				t.Errorf("audit trails differ (%d records batched, %d one by one), sorted record %d:\nbatched    %s\none by one %s",
					len(bulk.audit), len(single.audit), i, at(bulk.audit, i), at(single.audit, i))
			}
			for _, want := range []string{"manager_id", "personal_email", "illegal"} {
				if !slices.ContainsFunc(bulk.outcomes, func(o string) bool { return strings.Contains(o, "rejected") && strings.Contains(o, want) }) {
					t.Errorf("no rejection mentioning %q among %v", want, bulk.outcomes)
				}
			}
		})
	}
}

// batch is more than 50 events (so the engine loads everyone) for active members of the
// changed roster: ordinary changes plus those the store would refuse.
func batch(t *testing.T, eng *Engine, roster []hr.Record, now time.Time) []identity.Event {
	t.Helper()
	ctx := context.Background()
	var members []hr.Record
	reportOf := map[string]string{} // manager → one of their reports
	for _, r := range roster {
		if r.Status == identity.Active && r.JobTitle == "Member" {
			members = append(members, r)
		}
		if r.ManagerID != "" && r.Status == identity.Active {
			reportOf[r.ManagerID] = r.EmployeeID
		}
	}
	data := func(emp string, mod func(*hr.Data)) hr.Data {
		d, ok, err := eng.CurrentData(ctx, emp)
		if err != nil || !ok {
			t.Fatalf("CurrentData(%s) = %v, %v", emp, ok, err)
		}
		mod(&d)
		return d
	}
	var evs []identity.Event
	for i, m := range members[:60] {
		evs = append(evs, hrEvent(identity.AttributeChange, m.EmployeeID, now, data(m.EmployeeID, func(d *hr.Data) {
			d.Location = fmt.Sprintf("Site %d", i)
		})))
	}
	twice := members[0].EmployeeID
	var lead string
	for m := range reportOf {
		if lead == "" || m < lead {
			lead = m
		}
	}
	return append(evs,
		hrEvent(identity.ManagerChange, lead, now, data(lead, func(d *hr.Data) { d.ManagerID = reportOf[lead] })),
		hrEvent(identity.AttributeChange, members[1].EmployeeID, now, data(members[1].EmployeeID, func(d *hr.Data) {
			d.PersonalEmail = "not an email"
		})),
		hrEvent(identity.Return, members[2].EmployeeID, now, data(members[2].EmployeeID, func(*hr.Data) {})),
		hrEvent(identity.Leave, twice, now, data(twice, func(*hr.Data) {})),
		hrEvent(identity.Terminate, twice, now, data(twice, func(*hr.Data) {})),
	)
}

// snapshot is every person (references by employee ID) and the audit trail in comparable
// form, after verifying the chain, and what turns person IDs into employee IDs.
func snapshot(t *testing.T, s directory.Store) (map[string]string, []string, *strings.Replacer) {
	t.Helper()
	ctx := context.Background()
	people, err := s.ListPeople(ctx, directory.PersonFilter{})
	if err != nil {
		t.Fatal(err)
	}
	emp := map[string]string{}
	var ids []string
	for _, p := range people {
		emp[p.ID] = p.EmployeeID
		ids = append(ids, p.ID, p.EmployeeID)
	}
	byEmployeeID := strings.NewReplacer(ids...)
	units, err := s.ListOrgUnits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	unit := map[string]string{}
	for _, u := range units {
		unit[u.ID] = u.Name
	}
	// IDs differ between stores; everything else must not.
	plain := func(p identity.Person) string {
		p.ID, p.ManagerID, p.OrgUnitID = emp[p.ID], emp[p.ManagerID], unit[p.OrgUnitID]
		return fmt.Sprintf("%+v", p)
	}
	out := map[string]string{}
	for _, p := range people {
		out[p.EmployeeID] = plain(p)
	}
	recs, err := s.AuditRecords(ctx, 0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	var v audit.Verifier
	var trail []string
	for _, r := range recs {
		if err := v.Next(r); err != nil {
			t.Fatalf("audit chain: %v", err)
		}
		line := r.Action + " " + r.Actor + " " + r.Reason
		if r.Action == "person.update" {
			var before, after identity.Person
			mustUnmarshal(t, r.Before, &before)
			mustUnmarshal(t, r.After, &after)
			line += " " + plain(before) + " → " + plain(after)
		}
		trail = append(trail, byEmployeeID.Replace(line))
	}
	// The batched path writes a run's updates before its events: compare as multisets.
	slices.Sort(trail)
	return out, trail, byEmployeeID
}

func mustUnmarshal(t *testing.T, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("audit record: %v", err)
	}
}

func firstDiff(a, b []string) (int, bool) {
	for i := range max(len(a), len(b)) {
		if at(a, i) != at(b, i) {
			return i, true
		}
	}
	return 0, false
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(none)"
}
