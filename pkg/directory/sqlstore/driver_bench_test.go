//go:build unix

package sqlstore_test

// Benchmarks behind the SQLite driver choice recorded in docs/BENCHMARKS.md: the same store code
// on modernc.org/sqlite (pure Go) and github.com/mattn/go-sqlite3 (cgo), through the real write
// path (one transaction plus an audit-chain record per person) and the read paths the API uses.
//
//	go test -run '^$' -bench BenchmarkSQLiteDriver -benchtime 2s -count 5 ./pkg/directory/sqlstore/ | tee sqlite-driver.txt
//	benchstat -col '/driver@(mattn modernc)' sqlite-driver.txt
//
// The run takes about 2.5 minutes on 2 cores. Run it on an otherwise idle machine: other load
// moves these figures by 2x and more (docs/BENCHMARKS.md says how the published ones were taken).
//
// With -short the read benchmarks pre-fill 1,000 people instead of 10,000 (a smoke run).
//
// Besides wall time (ns/op) every benchmark reports cpu-ns/op, the process's user+system CPU
// time per op (getrusage, hence the unix build constraint). On a shared machine wall time moves
// with other people's load; CPU time moves much less, so it is the cross-check for a ratio.

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	// Registers "sqlite3" (cgo), the alternative measured against the default pure-Go driver.
	// gorm's SQLite dialect imports it too; importing it here keeps the benchmark honest should
	// that change.
	_ "github.com/mattn/go-sqlite3"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/identity"
)

// benchPeople is the size of the table the read benchmarks run against.
const benchPeople = 10_000

// benchDrivers is every SQLite driver Tenure can run on; mattn first, as the baseline.
var benchDrivers = []struct {
	name string
	drv  sqlstore.SQLiteDriver
}{
	{"mattn", sqlstore.MattnSQLite},
	{"modernc", sqlstore.ModerncSQLite},
}

func BenchmarkSQLiteDriver(b *testing.B) {
	for _, d := range benchDrivers {
		b.Run("driver="+d.name, func(b *testing.B) {
			benchDriver(b, d.drv)
		})
	}
}

// benchDriver runs every operation on one driver. The read operations share one pre-filled
// store, built once here (not once per b.N ramp-up round); insert gets a store of its own.
func benchDriver(b *testing.B, drv sqlstore.SQLiteDriver) {
	ctx := audit.WithActor(context.Background(), "bench")
	settings, err := sqliteSettings(drv, filepath.Join(b.TempDir(), "settings.db"))
	if err != nil {
		b.Skipf("driver %q unusable (built without cgo?): %v", drv.Name, err)
	}
	b.Logf("driver %q: %s", drv.Name, settings)

	b.Run("op=insert", func(b *testing.B) {
		s := openBenchStore(b, drv)
		i := 0
		b.ReportAllocs()
		cpu := cpuTime(b)
		for b.Loop() {
			if _, err := s.CreatePerson(ctx, benchPerson(i)); err != nil {
				b.Fatal(err)
			}
			i++
		}
		report(b, cpu, 1)
	})

	n := benchPeople
	if testing.Short() {
		n = 1_000
	}
	s := openBenchStore(b, drv)
	people := fillPeople(b, ctx, s, n)
	runtime.GC() // collect the pre-fill's garbage now, not during the first read benchmark

	b.Run("op=get-by-id", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(1, 2))
		b.ReportAllocs()
		cpu := cpuTime(b)
		for b.Loop() {
			want := people[rng.IntN(len(people))]
			p, err := s.GetPerson(ctx, want.ID)
			if err != nil || p.ID != want.ID {
				b.Fatalf("GetPerson(%s) = %s, %v", want.ID, p.ID, err)
			}
		}
		report(b, cpu, 1)
	})

	b.Run("op=lookup-by-email", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(3, 4))
		b.ReportAllocs()
		cpu := cpuTime(b)
		for b.Loop() {
			want := people[rng.IntN(len(people))]
			p, err := s.LookupPerson(ctx, want.WorkEmail)
			if err != nil || p.ID != want.ID {
				b.Fatalf("LookupPerson(%s) = %s, %v", want.WorkEmail, p.ID, err)
			}
		}
		report(b, cpu, 1)
	})

	b.Run("op=list-1000", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cpuTime(b)
		for b.Loop() {
			got, err := s.ListPeople(ctx, directory.PersonFilter{Limit: 1000})
			if err != nil || len(got) != 1000 {
				b.Fatalf("ListPeople = %d people, %v", len(got), err)
			}
		}
		report(b, cpu, 1000)
	})

	// 90 % reads (half GetPerson, half LookupPerson by email), 10 % CreatePerson, from
	// 4 goroutines on 2 cores (SetParallelism(2)): as many as the store's SQLite pool has
	// connections, so writers queue on the write lock while readers go on under WAL.
	// It runs last because its writes grow the shared table.
	var next atomic.Int64
	next.Store(int64(n))
	b.Run("op=mixed-parallel", func(b *testing.B) {
		var seed atomic.Uint64
		b.ReportAllocs()
		b.SetParallelism(2)
		cpu := cpuTime(b)
		b.RunParallel(func(pb *testing.PB) {
			rng := rand.New(rand.NewPCG(seed.Add(1), 5))
			for pb.Next() {
				switch r := rng.IntN(100); {
				case r < 10:
					if _, err := s.CreatePerson(ctx, benchPerson(int(next.Add(1)))); err != nil {
						b.Error(err)
						return
					}
				case r < 55:
					want := people[rng.IntN(len(people))]
					if _, err := s.GetPerson(ctx, want.ID); err != nil {
						b.Error(err)
						return
					}
				default:
					want := people[rng.IntN(len(people))]
					if _, err := s.LookupPerson(ctx, want.WorkEmail); err != nil {
						b.Error(err)
						return
					}
				}
			}
		})
		report(b, cpu, 1)
	})
}

// report adds the people/s metric (each op writes or reads perOp people) and cpu-ns/op, the
// CPU time used since cpuStart divided by the ops run.
func report(b *testing.B, cpuStart time.Duration, perOp int) {
	if b.N == 0 {
		return
	}
	b.ReportMetric(float64(cpuTime(b)-cpuStart)/float64(b.N), "cpu-ns/op")
	if sec := b.Elapsed().Seconds(); sec > 0 {
		b.ReportMetric(float64(b.N*perOp)/sec, "people/s")
	}
}

// cpuTime is the user plus system CPU time the process has used so far, all threads included.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func openBenchStore(b *testing.B, drv sqlstore.SQLiteDriver) *sqlstore.Store {
	b.Helper()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, "sqlite://"+filepath.Join(b.TempDir(), "bench.db"), sqlstore.Options{SQLite: drv})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	return s
}

// fillPeople creates n people through CreatePerson (audit records included), 1,000 to a
// transaction so that setup takes a second or two rather than one commit per person.
func fillPeople(b *testing.B, ctx context.Context, s *sqlstore.Store, n int) []identity.Person {
	b.Helper()
	start := time.Now()
	people := make([]identity.Person, 0, n)
	for lo := 0; lo < n; lo += 1000 {
		err := s.InTx(ctx, func(tx directory.Store) error {
			for i := lo; i < min(lo+1000, n); i++ {
				p, err := tx.CreatePerson(ctx, benchPerson(i))
				if err != nil {
					return err
				}
				people = append(people, p)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("pre-filled %d people in %v", n, time.Since(start).Round(time.Millisecond))
	return people
}

// benchPerson is a plausible HR record: every key set, a start date and two attributes. It has
// no org unit or manager, so insert measures the transaction and the audit append, not the
// reference checks (which are GetPerson-like reads, measured on their own).
func benchPerson(i int) identity.Person {
	start := time.Date(2020, 1, 6, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%2000)
	return identity.Person{
		EmployeeID:     fmt.Sprintf("E%07d", i),
		LegalFirstName: "Ada",
		LegalLastName:  fmt.Sprintf("Lovelace-%d", i),
		Username:       fmt.Sprintf("u%07d", i),
		WorkEmail:      fmt.Sprintf("u%07d@example.com", i),
		EmploymentType: identity.Employee,
		Status:         identity.Active,
		JobTitle:       "Software Engineer",
		JobCode:        "ENG-2",
		Location:       "Berlin",
		Country:        "DE",
		CostCenter:     "CC-4100",
		StartDate:      &start,
		Attributes:     map[string]string{"badge": fmt.Sprintf("B%06d", i), "shift": "day"},
	}
}

// sqliteSettings opens a database file with the driver and the DSN Tenure gives it, and reports
// the SQLite version and the settings the DSN asks for, so that a run shows both drivers were
// measured under the same ones. It fails when the driver is not usable in this build.
func sqliteSettings(drv sqlstore.SQLiteDriver, path string) (string, error) {
	db, err := sql.Open(drv.Name, drv.DSN(path))
	if err != nil {
		return "", err
	}
	defer db.Close()
	var version, journal string
	var synchronous, busyTimeout, foreignKeys, cacheSize int
	for _, q := range []struct {
		sql  string
		dest any
	}{
		{"SELECT sqlite_version()", &version},
		{"PRAGMA journal_mode", &journal},
		{"PRAGMA synchronous", &synchronous},
		{"PRAGMA busy_timeout", &busyTimeout},
		{"PRAGMA foreign_keys", &foreignKeys},
		{"PRAGMA cache_size", &cacheSize},
	} {
		if err := db.QueryRow(q.sql).Scan(q.dest); err != nil {
			return "", fmt.Errorf("%s: %w", q.sql, err)
		}
	}
	return fmt.Sprintf("SQLite %s, journal_mode=%s synchronous=%d busy_timeout=%d foreign_keys=%d cache_size=%d",
		version, journal, synchronous, busyTimeout, foreignKeys, cacheSize), nil
}
