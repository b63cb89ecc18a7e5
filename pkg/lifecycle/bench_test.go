package lifecycle

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/hr"
	"github.com/tenure-id/tenure/pkg/hr/hrgen"
)

// BenchmarkRosterImport measures the whole roster path on SQLite — parse the CSV, read the
// directory, diff, apply — for 100,000 people: the initial import into an empty directory,
// an unchanged roster (the baseline: everything but applying), and a roster with 1 % changes.
// Before those, 20,000 people imported one by one and in bulk show what the bulk path saves.
// people/s counts roster rows processed per second.
func BenchmarkRosterImport(b *testing.B) {
	const n = 100_000
	var base, changed bytes.Buffer
	roster := hrgen.Roster(n, 1)
	if err := hrgen.WriteCSV(&base, roster); err != nil {
		b.Fatal(err)
	}
	if err := hrgen.WriteCSV(&changed, hrgen.Change(roster, 0.01, 2)); err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	importCSV := func(b *testing.B, path string, data []byte, c *clock, oneByOne bool) ImportReport {
		s, err := sqlstore.Open(context.Background(), "sqlite://"+path, sqlstore.Options{Clock: c.Now})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		if err := s.CheckSchema(context.Background()); err != nil {
			if err := s.Migrate(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
		r, err := hr.Parse(bytes.NewReader(data), hr.CSV, nil)
		if err != nil {
			b.Fatal(err)
		}
		eng := newEngine(s, c)
		eng.oneByOne = oneByOne
		rep, err := eng.ImportRoster(context.Background(), r, ImportOptions{Source: "roster:bench",
			SubmitOptions: SubmitOptions{AllowMassChange: true}})
		if err != nil {
			b.Fatal(err)
		}
		return rep
	}
	dir := b.TempDir()
	// The bulk path against one person at a time, on a smaller roster so the slow one stays
	// bearable.
	var small bytes.Buffer
	if err := hrgen.WriteCSV(&small, hrgen.Roster(n/5, 1)); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name     string
		oneByOne bool
	}{{"initial_20k_one_by_one", true}, {"initial_20k_bulk", false}} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				path := filepath.Join(dir, fmt.Sprintf("%s-%d.db", bc.name, i))
				for _, suffix := range []string{"", "-wal", "-shm"} {
					os.Remove(path + suffix)
				}
				if rep := importCSV(b, path, small.Bytes(), &clock{t: now}, bc.oneByOne); rep.Applied < n/5 {
					b.Fatalf("applied %d", rep.Applied)
				}
			}
			b.ReportMetric(float64(n/5*b.N)/b.Elapsed().Seconds(), "people/s")
		})
	}
	loaded := filepath.Join(dir, "loaded.db")
	b.Run("initial_100k", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(loaded + suffix)
			}
			rep := importCSV(b, loaded, base.Bytes(), &clock{t: now}, false)
			if rep.Applied < n {
				b.Fatalf("applied %d", rep.Applied)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "people/s")
	})
	if _, err := os.Stat(loaded); err != nil {
		b.Skip("initial import did not run (filtered out): nothing to change")
	}
	later := &clock{t: now.Add(24 * time.Hour)}
	for _, bc := range []struct {
		name string
		data []byte
		want func(ImportReport) bool
	}{
		{"unchanged_100k", base.Bytes(), func(r ImportReport) bool { return r.Applied == 0 }},
		{"change_1pct_100k", changed.Bytes(), func(r ImportReport) bool { return r.Applied >= n/100 }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				work := filepath.Join(dir, "work.db")
				copyFile(b, loaded, work)
				b.StartTimer()
				if rep := importCSV(b, work, bc.data, later, false); !bc.want(rep) {
					b.Fatalf("applied %d, scheduled %d", rep.Applied, rep.Scheduled)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "people/s")
		})
	}
}

func copyFile(b *testing.B, from, to string) {
	b.Helper()
	for _, suffix := range []string{"-wal", "-shm"} {
		os.Remove(to + suffix)
	}
	src, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		b.Fatal(err)
	}
	// The copy is set-up: flushed here, outside the timer, its write-back cannot land on the
	// import's own fsync at checkpoint.
	if err := dst.Sync(); err != nil {
		b.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		b.Fatal(err)
	}
}
