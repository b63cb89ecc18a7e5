package ldapsync

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/testenv"
)

const benchBase = "dc=bench,dc=example"

// benchUsers is the silo size; TENURE_BENCH_LDAP_USERS overrides it for a quick run.
func benchUsers(b *testing.B) int {
	if v := os.Getenv("TENURE_BENCH_LDAP_USERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 200 {
			b.Fatalf("TENURE_BENCH_LDAP_USERS=%q: want a number of at least 200", v)
		}
		return n
	}
	return 100_000
}

// startBenchSilo starts slapd with n generated users, loaded offline with slapadd -q: loading
// through the server would take minutes for 100k entries. The memberof overlay does not run
// offline, which the benchmark does not need.
func startBenchSilo(b *testing.B, n int) *testenv.Slapd {
	bins := testenv.Require(b, "slapadd", "ldapsearch")
	silo := testenv.StartSlapd(b, testenv.SlapdOptions{Suffix: benchBase})
	_, file, _, _ := runtime.Caller(0)
	gen := filepath.Join(filepath.Dir(file), "..", "..", "testdata", "ldap", "gen-users.sh")
	ldif := filepath.Join(b.TempDir(), "users.ldif")
	out, err := os.Create(ldif)
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command("sh", gen, strconv.Itoa(n), benchBase)
	cmd.Stdout, cmd.Stderr = out, os.Stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("generate users: %v", err)
	}
	out.Close()
	silo.Stop()
	if msg, err := exec.Command(bins["slapadd"], "-q", "-f", filepath.Join(silo.Dir, "slapd.conf"), "-l", ldif).CombinedOutput(); err != nil {
		b.Fatalf("slapadd: %v\n%s", err, msg)
	}
	silo.Restart(b)
	return silo
}

// benchPeople builds a store holding the people HR knows: every tenth silo user, so a tenth of
// the entries link and the rest go to the review queue. Iterations copy this file.
func benchPeople(b *testing.B, dir string, n int) string {
	ctx := context.Background()
	path := filepath.Join(dir, "people.db")
	st, err := sqlstore.Open(ctx, "sqlite://"+path, sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	err = st.InTx(ctx, func(tx directory.Store) error {
		for i := 0; i < n; i += 10 {
			p := identity.Person{EmployeeID: fmt.Sprintf("B%d", i), LegalFirstName: "User", LegalLastName: fmt.Sprintf("Number%d", i),
				WorkEmail: fmt.Sprintf("user%d@bench.example", i), EmploymentType: identity.Employee, Status: identity.Active}
			if _, err := tx.CreatePerson(ctx, p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return path
}

func copyFile(b *testing.B, from, to string) {
	data, err := os.ReadFile(from)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		b.Fatal(err)
	}
}

func openBenchStore(b *testing.B, path string) *sqlstore.Store {
	st, err := sqlstore.Open(context.Background(), "sqlite://"+path, sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// BenchmarkLDAPSync measures, against one slapd in one run: a raw paged ldapsearch of every
// user (the baseline: the cost of reading the silo at all), a full sync of the same entries
// into an SQLite directory (goal: at least 10,000 users/s and at most twice the raw read), and
// an incremental sync of 100 changed entries.
func BenchmarkLDAPSync(b *testing.B) {
	n := benchUsers(b)
	silo := startBenchSilo(b, n)
	dir := b.TempDir()
	people := benchPeople(b, dir, n)
	src := config.LDAPSource{Name: "bench", URL: silo.URL, BindDN: silo.RootDN, PasswordEnv: "PW", BaseDN: benchBase, PageSize: 1000}
	cfg := config.LDAP{Sources: []config.LDAPSource{src}}
	getenv := func(string) string { return silo.RootPW }
	m := newMapping(src)
	var rawPerOp, fullPerOp time.Duration
	// runs are the full syncs one by one: the first in a process pays for growing the heap
	// (page faults on fresh memory), which later ones reuse, as a long-running `tenure serve`
	// does; both are reported.
	var runs []time.Duration
	// paired are raw reads taken just before each full sync (outside its timer): this
	// machine's speed drifts by a fifth from minute to minute, so the ratio that counts is
	// each sync against a raw read of the same moment.
	var paired []time.Duration

	bins := testenv.Require(b, "ldapsearch")
	args := append([]string{"-x", "-LLL", "-H", silo.URL, "-D", silo.RootDN, "-w", silo.RootPW, "-b", benchBase,
		"-E", "pr=1000/noprompt", m.userFilter}, m.userAttributes()...)
	// rawRead is one paged ldapsearch of every user, its output read and counted.
	rawRead := func(b *testing.B) time.Duration {
		start := time.Now()
		cmd := exec.Command(bins["ldapsearch"], args...)
		cmd.Env = []string{"LDAPNOINIT=1"}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		lines := countEntries(b, stdout)
		if err := cmd.Wait(); err != nil {
			b.Fatalf("ldapsearch: %v", err)
		}
		if lines != n {
			b.Fatalf("ldapsearch read %d entries, want %d", lines, n)
		}
		return time.Since(start)
	}

	b.Run("raw-ldapsearch", func(b *testing.B) {
		var elapsed time.Duration
		for b.Loop() {
			elapsed += rawRead(b)
		}
		rawPerOp = elapsed / time.Duration(b.N)
		b.ReportMetric(float64(n)/rawPerOp.Seconds(), "users/s")
	})

	b.Run("full-sync", func(b *testing.B) {
		var elapsed time.Duration
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			path := filepath.Join(dir, fmt.Sprintf("full-%d.db", i))
			copyFile(b, people, path)
			st := openBenchStore(b, path)
			sy := &Syncer{Store: st, Config: cfg, Getenv: getenv}
			paired = append(paired, rawRead(b))
			b.StartTimer()
			start := time.Now()
			res, err := sy.SyncSource(context.Background(), src, true)
			runs = append(runs, time.Since(start))
			elapsed += runs[len(runs)-1]
			b.StopTimer()
			if err != nil || res.Created != n || res.Linked != n/10 {
				b.Fatalf("full sync = %+v, %v; want %d created, %d linked", res, err, n, n/10)
			}
			st.Close()
			os.Remove(path)
			b.StartTimer()
		}
		fullPerOp = elapsed / time.Duration(b.N)
		b.ReportMetric(float64(n)/fullPerOp.Seconds(), "users/s")
		var raw time.Duration
		for _, d := range paired {
			raw += d
		}
		b.ReportMetric(float64(elapsed)/float64(raw), "x-raw-read")
	})

	b.Run("incremental-100", func(b *testing.B) {
		path := filepath.Join(dir, "incremental.db")
		copyFile(b, people, path)
		st := openBenchStore(b, path)
		defer st.Close()
		sy := &Syncer{Store: st, Config: cfg, Getenv: getenv}
		if _, err := sy.SyncSource(context.Background(), src, true); err != nil {
			b.Fatal(err)
		}
		round := 0
		for b.Loop() {
			b.StopTimer()
			round++
			var mods strings.Builder
			for j := 0; j < 100; j++ {
				fmt.Fprintf(&mods, "dn: uid=u%06d,ou=people,%s\nchangetype: modify\nreplace: title\ntitle: Round %d\n\n", (round*100+j)%n, benchBase, round)
			}
			silo.Modify(b, mods.String())
			b.StartTimer()
			res, err := sy.SyncSource(context.Background(), src, false)
			if err != nil || res.Read != 100 || res.Updated != 100 {
				b.Fatalf("incremental sync = %+v, %v; want 100 read and updated", res, err)
			}
		}
	})

	if rawPerOp > 0 && fullPerOp > 0 && len(paired) == len(runs) {
		each := make([]string, len(runs))
		var raw time.Duration
		for i, d := range runs {
			each[i] = fmt.Sprintf("%v/%v=%.2fx", d.Round(10*time.Millisecond), paired[i].Round(10*time.Millisecond), float64(d)/float64(paired[i]))
			raw += paired[i]
		}
		b.Logf("%d users: raw ldapsearch %v, full sync %v: %.0f users/s; %.2fx the raw reads taken beside the syncs (%.2fx the raw-ldapsearch sub-benchmark); each sync/raw: %s",
			n, rawPerOp.Round(time.Millisecond), fullPerOp.Round(time.Millisecond), float64(n)/fullPerOp.Seconds(),
			float64(fullPerOp*time.Duration(len(runs)))/float64(raw), float64(fullPerOp)/float64(rawPerOp), strings.Join(each, " "))
	}
}

// countEntries counts LDIF records ("dn:" lines) without keeping them.
func countEntries(b *testing.B, r io.Reader) int {
	data, err := io.ReadAll(r)
	if err != nil {
		b.Fatal(err)
	}
	return strings.Count(string(data), "\ndn: ") + boolToInt(strings.HasPrefix(string(data), "dn: "))
}

func boolToInt(v bool) int {
	if v {
		return 1
	}
	return 0
}
