package ldapsync

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

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
// user (the baseline: the cost of reading the silo at all), the same search through go-ldap
// with nothing done with the entries (the floor the library sets), a full sync of the same
// entries into an SQLite directory (goal: at least 10,000 users/s and at most twice the raw
// read), and an incremental sync of 100 changed entries. cpu-s/op is this process's CPU time;
// on a machine of few cores the sync is bound by it.
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
	// paired are raw reads of the same moment as each full sync: this machine's speed drifts
	// by a fifth from minute to minute, so the ratio that counts is each sync against the
	// mean of the raw reads taken just before and just after it (outside its timer). A read
	// after one sync is the read before the next.
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

	// go-ldap-read is the floor the library sets: the same paged search through go-ldap, each
	// page dropped as it arrives, with the garbage collector set as a full sync sets it.
	b.Run("go-ldap-read", func(b *testing.B) {
		var elapsed, cpu time.Duration
		for b.Loop() {
			start, cpu0 := time.Now(), processCPU()
			restore := raiseGC(DefaultFullSyncGCPercent)
			conn, err := dial(context.Background(), src, getenv)
			if err != nil {
				b.Fatal(err)
			}
			read := 0
			err = pagedSearch(conn, benchBase, m.userFilter, m.userAttributes(), src.PageSizeOrDefault(), func(page []*ldap.Entry) error {
				read += len(page)
				return nil
			})
			conn.Close()
			restore()
			elapsed, cpu = elapsed+time.Since(start), cpu+processCPU()-cpu0
			if err != nil || read != n {
				b.Fatalf("go-ldap read %d entries, %v; want %d", read, err, n)
			}
		}
		perOp := elapsed / time.Duration(b.N)
		b.ReportMetric(float64(n)/perOp.Seconds(), "users/s")
		b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
		if rawPerOp > 0 {
			b.ReportMetric(float64(perOp)/float64(rawPerOp), "x-raw-read")
		}
	})

	b.Run("full-sync", func(b *testing.B) {
		var elapsed, cpu time.Duration
		var brackets []time.Duration
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			path := filepath.Join(dir, fmt.Sprintf("full-%d.db", i))
			copyFile(b, people, path)
			st := openBenchStore(b, path)
			sy := &Syncer{Store: st, Config: cfg, Getenv: getenv}
			if i == 0 {
				brackets = append(brackets, rawRead(b))
			}
			b.StartTimer()
			start, cpu0 := time.Now(), processCPU()
			res, err := sy.SyncSource(context.Background(), src, true)
			runs = append(runs, time.Since(start))
			cpu += processCPU() - cpu0
			elapsed += runs[len(runs)-1]
			b.StopTimer()
			if err != nil || res.Created != n || res.Linked != n/10 {
				b.Fatalf("full sync = %+v, %v; want %d created, %d linked", res, err, n, n/10)
			}
			st.Close()
			os.Remove(path)
			brackets = append(brackets, rawRead(b))
			b.StartTimer()
		}
		for i := range runs {
			paired = append(paired, (brackets[i]+brackets[i+1])/2)
		}
		fullPerOp = elapsed / time.Duration(b.N)
		b.ReportMetric(float64(n)/fullPerOp.Seconds(), "users/s")
		var raw time.Duration
		for _, d := range paired {
			raw += d
		}
		b.ReportMetric(float64(elapsed)/float64(raw), "x-raw-read")
		b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
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
		b.Logf("%d users: raw ldapsearch %v, full sync %v: %.0f users/s; %.2fx the raw reads taken around the syncs (%.2fx the raw-ldapsearch sub-benchmark); each sync/raw: %s",
			n, rawPerOp.Round(time.Millisecond), fullPerOp.Round(time.Millisecond), float64(n)/fullPerOp.Seconds(),
			float64(fullPerOp*time.Duration(len(runs)))/float64(raw), float64(fullPerOp)/float64(rawPerOp), strings.Join(each, " "))
	}
}

// processCPU is the CPU time this process has used, user and system: on a machine of few
// cores the sync is bound by it, not by waiting.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// countEntries counts LDIF records ("dn:" or "dn::" lines) as they stream by, keeping none of them, so
// the baseline is the cost of ldapsearch and not of buffering its output here.
func countEntries(b *testing.B, r io.Reader) int {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		if bytes.HasPrefix(sc.Bytes(), []byte("dn:")) {
			n++
		}
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	return n
}
