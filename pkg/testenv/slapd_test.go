package testenv

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const peopleLDIF = `dn: ou=people,dc=example,dc=com
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=example,dc=com
objectClass: organizationalUnit
ou: groups

dn: uid=ada,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: ada
cn: Ada Lovelace
sn: Lovelace
mail: ada@example.com

dn: uid=alan,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: alan
cn: Alan Turing
sn: Turing
mail: alan@example.com

dn: uid=grace,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: grace
cn: Grace Hopper
sn: Hopper
mail: grace@example.com
`

const engineersLDIF = `dn: cn=engineers,ou=groups,dc=example,dc=com
objectClass: groupOfNames
cn: engineers
member: uid=ada,ou=people,dc=example,dc=com
member: uid=alan,ou=people,dc=example,dc=com
`

func TestStartSlapd(t *testing.T) {
	t.Parallel()
	start := time.Now()
	s := StartSlapd(t, SlapdOptions{})
	t.Logf("StartSlapd took %s (port %d, dir %s)", time.Since(start), s.Port, s.Dir)
	if s.BaseDN != "dc=example,dc=com" || s.RootDN != "cn=admin,dc=example,dc=com" || s.RootPW != "secret" {
		t.Fatalf("unexpected defaults: %+v", s)
	}
	if s.LDAPSURL != "" || s.CAFile != "" {
		t.Fatalf("TLS fields set without TLS: %q %q", s.LDAPSURL, s.CAFile)
	}

	s.Add(t, peopleLDIF)
	s.Add(t, engineersLDIF)

	// memberof overlay: the user carries the group's DN.
	const group = "memberOf: cn=engineers,ou=groups,dc=example,dc=com"
	if out := s.Search(t, s.BaseDN, "(uid=ada)", "memberOf"); !strings.Contains(out, group) {
		t.Fatalf("memberOf not populated for ada:\n%s", out)
	}
	if out := s.Search(t, s.BaseDN, "(uid=grace)", "memberOf"); strings.Contains(out, "memberOf:") {
		t.Fatalf("grace is in no group but has memberOf:\n%s", out)
	}

	s.Modify(t, `dn: cn=engineers,ou=groups,dc=example,dc=com
changetype: modify
add: member
member: uid=grace,ou=people,dc=example,dc=com
`)
	if out := s.Search(t, s.BaseDN, "(uid=grace)", "memberOf"); !strings.Contains(out, group) {
		t.Fatalf("memberOf not populated after Modify:\n%s", out)
	}

	// refint overlay: deleting a user removes it from the group.
	s.Delete(t, "uid=alan,ou=people,dc=example,dc=com")
	if out := s.Search(t, "ou=groups,dc=example,dc=com", "(cn=engineers)", "member"); strings.Contains(out, "uid=alan") {
		t.Fatalf("refint did not remove deleted member:\n%s", out)
	}

	// Stop takes the silo down; Restart brings it back with its data.
	s.Stop()
	s.Stop()
	if dialable(s.Port) {
		t.Fatalf("port %d still accepts connections after Stop", s.Port)
	}
	start = time.Now()
	s.Restart(t)
	t.Logf("Restart took %s", time.Since(start))
	if out := s.Search(t, s.BaseDN, "(uid=ada)", "uid"); !strings.Contains(out, "uid: ada") {
		t.Fatalf("data lost across Restart:\n%s", out)
	}
}

func TestStartSlapdTLSAndLDIFFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	people := filepath.Join(dir, "people.ldif")
	groups := filepath.Join(dir, "groups.ldif")
	for path, body := range map[string]string{people: peopleLDIF, groups: engineersLDIF} {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	s := StartSlapd(t, SlapdOptions{TLS: true, LDIF: []string{people, groups}})
	t.Logf("StartSlapd(TLS, 2 LDIF files) took %s", time.Since(start))
	if !strings.HasPrefix(s.LDAPSURL, "ldaps://127.0.0.1:") || s.LDAPSPort == 0 || s.LDAPSPort == s.Port {
		t.Fatalf("bad LDAPS endpoint %q / %d", s.LDAPSURL, s.LDAPSPort)
	}

	ldapsearch := func(url string, env ...string) (string, error) {
		cmd := exec.Command(s.bins["ldapsearch"], "-x", "-LLL", "-H", url,
			"-D", s.RootDN, "-w", s.RootPW, "-b", s.BaseDN, "(uid=ada)", "memberOf")
		cmd.Env = cleanEnv(env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := ldapsearch(s.LDAPSURL, "LDAPTLS_CACERT="+s.CAFile, "LDAPTLS_REQCERT=demand")
	if err != nil || !strings.Contains(out, "memberOf: cn=engineers,ou=groups,dc=example,dc=com") {
		t.Fatalf("ldaps search with CA: %v\n%s", err, out)
	}
	// Without our CA the server must not be trusted: proves verification
	// really happened above.
	if out, err := ldapsearch(s.LDAPSURL, "LDAPTLS_CACERT=/dev/null", "LDAPTLS_REQCERT=demand"); err == nil {
		t.Fatalf("ldaps search succeeded without trusting the test CA:\n%s", out)
	}

	// Go clients verify the chain and the IP SAN with CACertPEM.
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.CACertPEM) {
		t.Fatal("CACertPEM holds no certificate")
	}
	conn, err := tls.Dial("tcp", addr(s.LDAPSPort), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("Go TLS handshake with ldaps port: %v", err)
	}
	_ = conn.Close()

	s.Stop()
	if dialable(s.Port) || dialable(s.LDAPSPort) {
		t.Fatalf("ports %d/%d still accept connections after Stop", s.Port, s.LDAPSPort)
	}
}

func TestStartSlapdCustomSuffix(t *testing.T) {
	t.Parallel()
	s := StartSlapd(t, SlapdOptions{Suffix: "o=acme", RootPW: "pa ss\"word"})
	if out := s.Search(t, "o=acme", "(objectClass=organization)", "o"); !strings.Contains(out, "o: acme") {
		t.Fatalf("base entry missing:\n%s", out)
	}
}
