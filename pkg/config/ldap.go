package config

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// LDAP lists the directory silos Tenure federates and how their entries map onto people.
type LDAP struct {
	Sources []LDAPSource `yaml:"sources"`
	// Correlation rules, tried in order, link a silo entry to a person. Empty means the default:
	// employee number to employee ID, then email to work email.
	Correlation []CorrelationRule `yaml:"correlation"`
	// Precedence says, per person attribute, whose value wins: "hr" and source names, highest
	// first. Attributes not listed take values from sources in the order they are configured.
	Precedence map[string][]string `yaml:"precedence"`
	// FullSyncGCPercent is Go's garbage-collection target while a full sync runs (see
	// ldapsync.DefaultFullSyncGCPercent); 0 means that default, a negative value leaves the
	// runtime's setting alone. GOGC in the environment always wins.
	FullSyncGCPercent int `yaml:"full_sync_gc_percent"`
}

// CorrelationRule matches a mapped silo attribute against a person field.
type CorrelationRule struct {
	// Attribute is the mapped silo attribute: employee_number, email, username or a custom
	// mapping name.
	Attribute string `yaml:"attribute"`
	// PersonField is employee_id, work_email, personal_email, username or attributes.NAME.
	PersonField string `yaml:"person_field"`
}

// DefaultCorrelation is used when the file lists no rules.
var DefaultCorrelation = []CorrelationRule{
	{Attribute: "employee_number", PersonField: "employee_id"},
	{Attribute: "email", PersonField: "work_email"},
}

// LDAPSource is one silo.
type LDAPSource struct {
	Name string `yaml:"name"`
	// URL is ldap://host:port or ldaps://host:port; StartTLS upgrades a plain ldap:// URL.
	URL      string `yaml:"url"`
	StartTLS bool   `yaml:"start_tls"`
	// CAFile verifies the server certificate; empty uses the system roots.
	CAFile string `yaml:"ca_file"`
	BindDN string `yaml:"bind_dn"`
	// The bind password comes from an environment variable or a file, never from this file,
	// so configuration can be shared and logged without leaking it.
	PasswordEnv  string `yaml:"password_env"`
	PasswordFile string `yaml:"password_file"`
	BaseDN       string `yaml:"base_dn"`
	UserFilter   string `yaml:"user_filter"`
	GroupFilter  string `yaml:"group_filter"`
	// Flavour picks defaults for the stable key, change stamp and disabled state.
	Flavour string `yaml:"flavour"` // openldap|ad
	// Attributes maps Tenure names (username, email, employee_number, first_name, last_name,
	// display_name, or any other name, kept as a person attribute) to LDAP attribute names.
	// Entries here replace the flavour's default for that name.
	Attributes map[string]string `yaml:"attributes"`
	PageSize   int               `yaml:"page_size"`
	Schedule   string            `yaml:"schedule"` // cron, five fields
	// Timeout bounds connecting and each request, so one slow silo cannot hold a sync run.
	Timeout string `yaml:"timeout"`
	// OnRemoved says what a full sync does with entries gone from the silo: "mark" keeps the
	// link and marks the entry removed; "unlink" also drops the link. People are never deleted.
	OnRemoved string `yaml:"on_removed"`
	// DelegatedBind lets the IdP check passwords of people linked to this silo by binding to it.
	DelegatedBind bool `yaml:"delegated_bind"`
}

// Defaults for sources.
const (
	DefaultLDAPPageSize = 500
	DefaultLDAPTimeout  = 30 * time.Second
)

// Source finds a configured source by name.
func (l LDAP) Source(name string) (LDAPSource, bool) {
	for _, s := range l.Sources {
		if s.Name == name {
			return s, true
		}
	}
	return LDAPSource{}, false
}

// Rules returns the correlation rules in force.
func (l LDAP) Rules() []CorrelationRule {
	if len(l.Correlation) == 0 {
		return DefaultCorrelation
	}
	return l.Correlation
}

// Validate checks every source and rule, naming the offending field.
func (l LDAP) Validate() error {
	seen := map[string]bool{}
	for i, s := range l.Sources {
		where := fmt.Sprintf("ldap.sources[%d]", i)
		if s.Name != "" {
			where = fmt.Sprintf("ldap.sources[%d] (%s)", i, s.Name)
		}
		if err := s.Validate(); err != nil {
			return fmt.Errorf("%s.%w", where, err)
		}
		if seen[s.Name] {
			return fmt.Errorf("%s.name: %q is used by another source", where, s.Name)
		}
		seen[s.Name] = true
	}
	for i, r := range l.Correlation {
		if strings.TrimSpace(r.Attribute) == "" {
			return fmt.Errorf("ldap.correlation[%d].attribute: required", i)
		}
		switch f := r.PersonField; {
		case f == "employee_id", f == "work_email", f == "personal_email", f == "username":
		case strings.HasPrefix(f, "attributes.") && len(f) > len("attributes."):
		default:
			return fmt.Errorf("ldap.correlation[%d].person_field: %q is not one of employee_id|work_email|personal_email|username|attributes.NAME", i, f)
		}
	}
	for attr, order := range l.Precedence {
		for _, who := range order {
			if who != "hr" && !seen[who] {
				return fmt.Errorf("ldap.precedence.%s: %q is neither hr nor a configured source", attr, who)
			}
		}
	}
	return nil
}

// Validate checks one source. The error starts with the field name.
func (s LDAPSource) Validate() error {
	if strings.TrimSpace(s.Name) == "" || strings.ContainsAny(s.Name, " /:") {
		return fmt.Errorf("name: %q must be non-empty, without spaces, '/' or ':'", s.Name)
	}
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" {
		return fmt.Errorf("url: %q is not an ldap:// or ldaps:// URL", s.URL)
	}
	if s.StartTLS && u.Scheme == "ldaps" {
		return fmt.Errorf("start_tls: not with an ldaps:// URL, which is already TLS")
	}
	if s.PasswordEnv != "" && s.PasswordFile != "" {
		return fmt.Errorf("password_env: give password_env or password_file, not both")
	}
	if s.BindDN != "" && s.PasswordEnv == "" && s.PasswordFile == "" {
		return fmt.Errorf("bind_dn: needs password_env or password_file")
	}
	if strings.TrimSpace(s.BaseDN) == "" {
		return fmt.Errorf("base_dn: required")
	}
	switch s.Flavour {
	case "", "openldap", "ad":
	default:
		return fmt.Errorf("flavour: %q is not one of openldap|ad", s.Flavour)
	}
	if s.PageSize < 0 || s.PageSize > 10000 {
		return fmt.Errorf("page_size: %d is not between 1 and 10000", s.PageSize)
	}
	if s.Schedule != "" {
		if _, err := cron.ParseStandard(s.Schedule); err != nil {
			return fmt.Errorf("schedule: %q: %v", s.Schedule, err)
		}
	}
	if s.Timeout != "" {
		if d, err := time.ParseDuration(s.Timeout); err != nil || d <= 0 {
			return fmt.Errorf("timeout: %q is not a positive duration such as 30s", s.Timeout)
		}
	}
	switch s.OnRemoved {
	case "", "mark", "unlink":
	default:
		return fmt.Errorf("on_removed: %q is not one of mark|unlink", s.OnRemoved)
	}
	for name, attr := range s.Attributes {
		if strings.TrimSpace(name) == "" || strings.TrimSpace(attr) == "" {
			return fmt.Errorf("attributes: mapping %q: %q needs a name and an LDAP attribute", name, attr)
		}
	}
	return nil
}

// Password reads the bind password from the environment variable or file named in the source.
// The value is returned, never stored or logged.
func (s LDAPSource) Password(getenv func(string) string) (string, error) {
	switch {
	case s.PasswordEnv != "":
		v := getenv(s.PasswordEnv)
		if v == "" {
			return "", fmt.Errorf("ldap source %s: environment variable %s (password_env) is empty", s.Name, s.PasswordEnv)
		}
		return v, nil
	case s.PasswordFile != "":
		b, err := os.ReadFile(s.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("ldap source %s: password_file: %w", s.Name, err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return "", nil
}

// TimeoutOrDefault is the parsed Timeout.
func (s LDAPSource) TimeoutOrDefault() time.Duration {
	if d, err := time.ParseDuration(s.Timeout); err == nil && d > 0 {
		return d
	}
	return DefaultLDAPTimeout
}

// PageSizeOrDefault is PageSize, or the default when unset.
func (s LDAPSource) PageSizeOrDefault() int {
	if s.PageSize > 0 {
		return s.PageSize
	}
	return DefaultLDAPPageSize
}
