package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const validSources = `ldap:
  sources:
    - name: hooli
      url: ldaps://ldap.hooli.example:636
      ca_file: /etc/tenure/hooli-ca.pem
      bind_dn: cn=tenure,dc=hooli,dc=example
      password_env: HOOLI_PW
      base_dn: dc=hooli,dc=example
      user_filter: (objectClass=inetOrgPerson)
      group_filter: (objectClass=groupOfNames)
      flavour: openldap
      page_size: 1000
      schedule: "*/15 * * * *"
      timeout: 10s
      on_removed: unlink
      delegated_bind: true
      attributes:
        title: title
        phone: telephoneNumber
    - name: endframe
      url: ldap://ad.endframe.example
      start_tls: true
      bind_dn: CN=svc,DC=endframe,DC=example
      password_file: /run/secrets/endframe
      base_dn: DC=endframe,DC=example
      flavour: ad
  correlation:
    - attribute: employee_number
      person_field: employee_id
    - attribute: badge
      person_field: attributes.badge
  precedence:
    title: [hr, endframe, hooli]
`

func TestParseLDAP(t *testing.T) {
	cfg, err := Parse(strings.NewReader(validSources))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	h, ok := cfg.LDAP.Source("hooli")
	if !ok || h.PageSizeOrDefault() != 1000 || h.TimeoutOrDefault().String() != "10s" || h.Attributes["phone"] != "telephoneNumber" || !h.DelegatedBind || h.OnRemoved != "unlink" {
		t.Errorf("hooli = %+v", h)
	}
	e, _ := cfg.LDAP.Source("endframe")
	if !e.StartTLS || e.Flavour != "ad" || e.PageSizeOrDefault() != DefaultLDAPPageSize || e.TimeoutOrDefault() != DefaultLDAPTimeout {
		t.Errorf("endframe = %+v", e)
	}
	if r := cfg.LDAP.Rules(); len(r) != 2 || r[1].PersonField != "attributes.badge" {
		t.Errorf("rules = %+v", r)
	}
	if r := (LDAP{}).Rules(); len(r) != 2 || r[0].Attribute != "employee_number" || r[1].Attribute != "email" {
		t.Errorf("default rules = %+v", r)
	}
}

func TestLDAPValidationNamesTheField(t *testing.T) {
	base := "ldap:\n  sources:\n    - name: hooli\n      url: ldap://127.0.0.1:389\n      base_dn: dc=hooli,dc=example\n"
	tests := []struct {
		name, doc, want string
	}{
		{"no name", strings.Replace(base, "name: hooli", "name: \"\"", 1), "ldap.sources[0].name"},
		{"name with colon", strings.Replace(base, "name: hooli", "name: a:b", 1), "ldap.sources[0] (a:b).name"},
		{"http url", strings.Replace(base, "ldap://", "http://", 1), "ldap.sources[0] (hooli).url"},
		{"starttls on ldaps", strings.Replace(base, "ldap://", "ldaps://", 1) + "      start_tls: true\n", ".start_tls"},
		{"bind without password", base + "      bind_dn: cn=x\n", ".bind_dn: needs password_env or password_file"},
		{"two password sources", base + "      password_env: A\n      password_file: /b\n", ".password_env"},
		{"no base", strings.Replace(base, "      base_dn: dc=hooli,dc=example\n", "", 1), ".base_dn: required"},
		{"flavour", base + "      flavour: novell\n", `.flavour: "novell"`},
		{"page size", base + "      page_size: 100000\n", ".page_size"},
		{"schedule", base + "      schedule: every day\n", ".schedule"},
		{"timeout", base + "      timeout: soon\n", ".timeout"},
		{"on_removed", base + "      on_removed: delete\n", `.on_removed: "delete"`},
		{"unknown key", base + "      passwd: x\n", "field passwd not found"},
		{"duplicate name", base + "    - name: hooli\n      url: ldap://127.0.0.1:1\n      base_dn: dc=x\n", `ldap.sources[1] (hooli).name: "hooli" is used`},
		{"bad rule field", base + "  correlation:\n    - attribute: email\n      person_field: shoe_size\n", "ldap.correlation[0].person_field"},
		{"precedence names a stranger", base + "  precedence:\n    title: [hr, initech]\n", `ldap.precedence.title: "initech"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestLDAPPassword(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(file, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PW": "from-env"}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		name string
		src  LDAPSource
		want string
		err  string
	}{
		{"env", LDAPSource{Name: "a", PasswordEnv: "PW"}, "from-env", ""},
		{"file, newline trimmed", LDAPSource{Name: "a", PasswordFile: file}, "s3cret", ""},
		{"empty env", LDAPSource{Name: "a", PasswordEnv: "NOPE"}, "", "NOPE (password_env) is empty"},
		{"missing file", LDAPSource{Name: "a", PasswordFile: file + ".x"}, "", "password_file"},
		{"anonymous", LDAPSource{Name: "a"}, "", ""},
	}
	for _, tt := range tests {
		got, err := tt.src.Password(getenv)
		if got != tt.want || (tt.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: Password = %q, %v; want %q, %q", tt.name, got, err, tt.want, tt.err)
		}
		if err != nil && strings.Contains(err.Error(), "from-env") {
			t.Errorf("%s: error leaks a password: %v", tt.name, err)
		}
	}
}
