package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// SlapdOptions configures StartSlapd. The zero value is a plain-LDAP server
// for dc=example,dc=com with rootdn cn=admin,dc=example,dc=com / "secret".
type SlapdOptions struct {
	Suffix string // default "dc=example,dc=com"
	RootPW string // default "secret"; stored in plain text, fine for tests

	// LDIF lists files loaded in order with ldapadd after the base entry
	// has been created. Loading goes through the server (not slapadd) so
	// the memberof and refint overlays see every entry.
	LDIF []string
	// ContinueOnError passes -c to ldapadd for the LDIF files, so one bad
	// entry does not stop the rest from loading.
	ContinueOnError bool

	// TLS also listens on ldaps:// with a certificate from a fresh test CA
	// (see Slapd.CAFile); StartTLS on the plain port works too.
	TLS bool
}

// Slapd is a throwaway OpenLDAP server listening on 127.0.0.1.
type Slapd struct {
	URL    string // ldap://127.0.0.1:Port
	Port   int
	BaseDN string // the suffix
	RootDN string // cn=admin,<suffix>
	RootPW string
	Dir    string // temp dir with slapd.conf, db/, slapd.log and the PEMs

	// Set only with SlapdOptions.TLS.
	LDAPSURL  string // ldaps://127.0.0.1:LDAPSPort
	LDAPSPort int
	CACertPEM []byte // the CA that signed the server certificate
	CAFile    string // CACertPEM on disk, e.g. for LDAPTLS_CACERT

	bins map[string]string
	conf string

	mu      sync.Mutex
	proc    *process
	stopped bool
}

var slapdBinaries = []string{"slapd", "slaptest", "ldapadd", "ldapmodify", "ldapdelete", "ldapsearch"}

// slapdStartTimeout bounds start-up; slapd is normally ready in ~0.1 s.
const slapdStartTimeout = 20 * time.Second

// StartSlapd starts a private slapd for tb, creates the base entry and loads
// opts.LDIF. A cleanup stops it and removes its files. Each call is an
// independent "silo"; start two to test multi-directory sync.
func StartSlapd(tb testing.TB, opts SlapdOptions) *Slapd {
	tb.Helper()
	bins := Require(tb, slapdBinaries...)
	s, err := newSlapd(bins, opts)
	if err != nil {
		tb.Fatalf("testenv: start slapd: %v", err)
	}
	tb.Cleanup(s.destroy)
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("testenv: slapd log (%s) tail:\n%s", filepath.Join(s.Dir, "slapd.log"), fileTail(filepath.Join(s.Dir, "slapd.log"), 20))
		}
	})
	base, err := baseEntryLDIF(s.BaseDN)
	if err != nil {
		tb.Fatal(err)
	}
	s.Add(tb, base)
	for _, file := range opts.LDIF {
		args := []string{"-f", file}
		if opts.ContinueOnError {
			args = append(args, "-c")
		}
		if _, err := s.tool("ldapadd", nil, args...); err != nil {
			tb.Fatalf("testenv: load LDIF %s: %v", file, err)
		}
	}
	return s
}

// newSlapd writes and validates the configuration and starts the server.
func newSlapd(bins map[string]string, opts SlapdOptions) (s *Slapd, err error) {
	if opts.Suffix == "" {
		opts.Suffix = "dc=example,dc=com"
	}
	if opts.RootPW == "" {
		opts.RootPW = "secret"
	}
	dir, err := makeServerDir(os.TempDir(), "tenure-slapd-", nil)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	s = &Slapd{
		BaseDN: opts.Suffix,
		RootDN: "cn=admin," + opts.Suffix,
		RootPW: opts.RootPW,
		Dir:    dir,
		bins:   bins,
	}
	var pki *testPKI
	if opts.TLS {
		if pki, err = newTestPKI(dir); err != nil {
			return nil, err
		}
		s.CACertPEM, s.CAFile = pki.CACertPEM, pki.CAFile
	}
	if s.conf, err = writeSlapdConfig(dir, opts, pki); err != nil {
		return nil, err
	}
	// slaptest reports config mistakes with a message; slapd -d 0 exits
	// silently on them.
	if _, err := run(exec.Command(bins["slaptest"], "-f", s.conf, "-u")); err != nil {
		return nil, fmt.Errorf("testenv: slaptest: %w", err)
	}
	for attempt := 1; ; attempt++ {
		ports := []int{0, 0}
		for i := range ports[:1+boolInt(opts.TLS)] {
			if ports[i], err = freePort(); err != nil {
				return nil, err
			}
		}
		err = s.start(ports[0], ports[1])
		if err == nil {
			return s, nil
		}
		if attempt == startAttempts || !errors.Is(err, errPortInUse) {
			return nil, err
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// start runs slapd in the foreground on port (and ldapsPort if non-zero)
// and waits until every listener accepts connections.
func (s *Slapd) start(port, ldapsPort int) error {
	urls := []string{fmt.Sprintf("ldap://%s/", addr(port))}
	ports := []int{port}
	if ldapsPort != 0 {
		urls = append(urls, fmt.Sprintf("ldaps://%s/", addr(ldapsPort)))
		ports = append(ports, ldapsPort)
	}
	// -d keeps slapd in the foreground (a daemonized slapd would escape
	// Pdeathsig and our Wait); TENURE_SLAPD_DEBUG=stats etc. for diagnosis.
	level := os.Getenv("TENURE_SLAPD_DEBUG")
	if level == "" {
		level = "0"
	}
	cmd := exec.Command(s.bins["slapd"], "-f", s.conf, "-h", strings.Join(urls, " "), "-d", level)
	cmd.Dir = s.Dir
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	proc, err := startProcess(cmd, filepath.Join(s.Dir, "slapd.log"))
	if err != nil {
		return err
	}
	deadline := time.Now().Add(slapdStartTimeout)
	for pending := ports; len(pending) > 0; {
		if proc.exited() {
			// slapd -d 0 exits silently when it cannot bind; if someone
			// else now answers on one of our ports, that was the reason.
			tail := proc.logTail()
			for _, p := range ports {
				if dialable(p) || strings.Contains(tail, "Address already in use") {
					return fmt.Errorf("testenv: slapd on port %d: %w", p, errPortInUse)
				}
			}
			return fmt.Errorf("testenv: slapd exited during start-up (%v); log:\n%s", proc.waitErr, tail)
		}
		if dialable(pending[0]) {
			pending = pending[1:]
			continue
		}
		if time.Now().After(deadline) {
			proc.stop(5 * time.Second)
			return fmt.Errorf("testenv: slapd not listening after %s; log:\n%s", slapdStartTimeout, proc.logTail())
		}
		time.Sleep(10 * time.Millisecond)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.proc, s.stopped = proc, false
	s.Port, s.URL = port, fmt.Sprintf("ldap://%s", addr(port))
	if ldapsPort != 0 {
		s.LDAPSPort, s.LDAPSURL = ldapsPort, fmt.Sprintf("ldaps://%s", addr(ldapsPort))
	}
	return nil
}

// Stop shuts slapd down (SIGTERM, then SIGKILL after 10 s) and waits for it
// to exit, so that afterwards its ports refuse connections: tests use it to
// take a silo down mid-run. It is idempotent; the data stays for Restart.
func (s *Slapd) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	s.stopped = true
	s.proc.stop(10*time.Second, syscall.SIGTERM)
}

// Restart starts a stopped server again (stopping it first if it is
// running) on the same ports and with the same data, so clients holding URL
// can reconnect — the "silo comes back" half of an outage test.
func (s *Slapd) Restart(tb testing.TB) {
	tb.Helper()
	s.Stop()
	if err := s.start(s.Port, s.LDAPSPort); err != nil {
		tb.Fatalf("testenv: restart slapd: %v", err)
	}
}

func (s *Slapd) destroy() {
	s.Stop()
	_ = os.RemoveAll(s.Dir)
}

// Add adds the entries in ldif (LDIF content, not a file name) as rootdn.
func (s *Slapd) Add(tb testing.TB, ldif string) {
	tb.Helper()
	if _, err := s.tool("ldapadd", strings.NewReader(ldif)); err != nil {
		tb.Fatalf("testenv: ldapadd: %v", err)
	}
}

// Modify applies ldif (changetype records, as for ldapmodify) as rootdn.
func (s *Slapd) Modify(tb testing.TB, ldif string) {
	tb.Helper()
	if _, err := s.tool("ldapmodify", strings.NewReader(ldif)); err != nil {
		tb.Fatalf("testenv: ldapmodify: %v", err)
	}
}

// Delete deletes the entry dn as rootdn.
func (s *Slapd) Delete(tb testing.TB, dn string) {
	tb.Helper()
	if _, err := s.tool("ldapdelete", nil, dn); err != nil {
		tb.Fatalf("testenv: ldapdelete %s: %v", dn, err)
	}
}

// Search runs a subtree search under base as rootdn and returns the result
// as unwrapped LDIF (ldapsearch -LLL -o ldif-wrap=no). Operational
// attributes such as memberOf are only returned when named in attrs.
func (s *Slapd) Search(tb testing.TB, base, filter string, attrs ...string) string {
	tb.Helper()
	args := append([]string{"-LLL", "-o", "ldif-wrap=no", "-b", base, filter}, attrs...)
	out, err := s.tool("ldapsearch", nil, args...)
	if err != nil {
		tb.Fatalf("testenv: ldapsearch: %v", err)
	}
	return string(out)
}

// tool runs an ldap-utils client bound as rootdn over plain LDAP.
// LDAPNOINIT keeps a developer's ldap.conf/.ldaprc out of the picture.
func (s *Slapd) tool(name string, stdin *strings.Reader, args ...string) ([]byte, error) {
	s.mu.Lock()
	url := s.URL
	s.mu.Unlock()
	cmd := exec.Command(s.bins[name], append([]string{"-x", "-H", url, "-D", s.RootDN, "-w", s.RootPW}, args...)...)
	cmd.Env = cleanEnv("LDAPNOINIT=1")
	if stdin != nil {
		cmd.Stdin = stdin
	}
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if _, err := run(cmd); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, stdout.String())
	}
	return []byte(stdout.String()), nil
}
