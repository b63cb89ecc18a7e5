package report_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore/sqlstoretest"
	"github.com/tenure-id/tenure/pkg/hr/hrgen"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/report"
)

// BenchmarkAsOfReport measures what a past-dated report costs on SQLite for a directory of
// 100,000 people with three accounts each (about 410,000 audit records): reading the log
// (the baseline: paging through the audit table and nothing else), verifying its chain, and
// the replay a report runs (verify, decode and apply every access change). records/s counts
// audit records read; x-read is the time against the plain read measured in the same run.
func BenchmarkAsOfReport(b *testing.B) {
	const people, appsEach = 100_000, 3
	ctx := context.Background()
	day := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	now := day
	s := sqlstoretest.SQLite(b, sqlstore.Options{Clock: func() time.Time { return now }})
	made := seedAccess(b, s, people, appsEach, func(d int) { now = day.Add(time.Duration(d) * 24 * time.Hour) })
	var records int64
	read := func() {
		next := audit.Pages(ctx, s, 0, 0)
		records = 0
		for {
			if _, err := next(); err != nil {
				break
			}
			records++
		}
	}
	var readTime time.Duration
	b.Run("read", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			read()
		}
		readTime = b.Elapsed() / time.Duration(b.N)
		b.ReportMetric(float64(records)/readTime.Seconds(), "records/s")
	})
	b.Run("verify", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if res, err := audit.VerifyLog(ctx, s); err != nil || res.Count != records {
				b.Fatalf("verify: %+v %v", res, err)
			}
		}
		per := b.Elapsed() / time.Duration(b.N)
		b.ReportMetric(float64(records)/per.Seconds(), "records/s")
		b.ReportMetric(per.Seconds()/readTime.Seconds(), "x-read")
	})
	b.Run("replay", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			// Halfway: after the accounts, before the terminations.
			st, _, err := report.Replay(ctx, s, day.Add(36*time.Hour))
			if err != nil {
				b.Fatal(err)
			}
			if len(st.People) != people || len(st.Accounts) != made {
				b.Fatalf("replayed %d people, %d accounts; want %d, %d", len(st.People), len(st.Accounts), people, made)
			}
			rows := report.Access(st, nil)
			if len(rows) != made {
				b.Fatalf("%d rows", len(rows))
			}
		}
		per := b.Elapsed() / time.Duration(b.N)
		b.ReportMetric(float64(records)/per.Seconds(), "records/s")
		b.ReportMetric(per.Seconds()/readTime.Seconds(), "x-read")
	})
}

// seedAccess creates the people on day 0, appsEach accounts each on day 1 and terminates 1 %
// of them on day 2, all through the store so that every change is audited as in production.
// It returns how many accounts it made.
func seedAccess(b *testing.B, s *sqlstore.Store, people, appsEach int, setDay func(int)) int {
	b.Helper()
	ctx := context.Background()
	org, err := s.CreateOrgUnit(ctx, identity.OrgUnit{Name: "Acme", Kind: identity.Organization})
	if err != nil {
		b.Fatal(err)
	}
	roster := hrgen.Roster(people, 1)
	var ids []string
	for lo := 0; lo < len(roster); lo += 5000 {
		var batch []directory.NewPerson
		for _, r := range roster[lo:min(lo+5000, len(roster))] {
			batch = append(batch, directory.NewPerson{Person: identity.Person{EmployeeID: r.EmployeeID, LegalFirstName: r.FirstName,
				LegalLastName: r.LastName, EmploymentType: identity.Employee, Status: identity.Active, OrgUnitID: org.ID}})
		}
		created, err := s.CreatePeople(ctx, batch)
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range created {
			ids = append(ids, p.ID)
		}
	}
	setDay(1)
	made := 0
	for lo := 0; lo < len(ids); lo += 2000 {
		err := s.InTx(ctx, func(tx directory.Store) error {
			for _, id := range ids[lo:min(lo+2000, len(ids))] {
				for a := range appsEach {
					acc := identity.Account{App: fmt.Sprintf("app%d", a), ExternalID: id, PersonID: id, Username: id,
						Status: identity.AccountActive, Memberships: []string{"group:all"}}
					if _, err := tx.PutAccount(ctx, acc); err != nil {
						return err
					}
					made++
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	setDay(2)
	for i := 0; i < len(ids); i += 100 {
		if _, err := s.UpdatePerson(ctx, ids[i], func(p *identity.Person) error { p.Status = identity.Terminated; return nil }); err != nil {
			b.Fatal(err)
		}
	}
	return made
}
