package ldapsync

import (
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/directory"
)

// adEntry builds an entry as Active Directory returns it; objectGUID is raw bytes.
func adEntry(guid []byte, attrs map[string][]string) *ldap.Entry {
	e := ldap.NewEntry("CN=Gavin Belson,OU=Users,DC=hooli,DC=example", attrs)
	if guid != nil {
		e.Attributes = append(e.Attributes, &ldap.EntryAttribute{Name: "objectGUID", Values: []string{string(guid)}, ByteValues: [][]byte{guid}})
	}
	return e
}

func TestADMapping(t *testing.T) {
	guid := []byte{0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	m := newMapping(config.LDAPSource{Name: "corp", Flavour: "ad", Attributes: map[string]string{"department": "department"}})
	tests := []struct {
		name       string
		guid       []byte
		attrs      map[string][]string
		wantKey    string
		wantStatus directory.LDAPEntryStatus
		wantErr    string
	}{
		{"enabled user", guid, map[string][]string{"sAMAccountName": {"GBelson"}, "mail": {"Gavin@Hooli.example"},
			"employeeID": {"H-1"}, "displayName": {"Gavin Belson"}, "userAccountControl": {"512"}, "uSNChanged": {"90210"},
			"department": {"Executive"}},
			"00112233-4455-6677-8899-aabbccddeeff", directory.LDAPEntryActive, ""},
		{"disabled user (ACCOUNTDISABLE)", guid, map[string][]string{"userAccountControl": {"514"}}, "00112233-4455-6677-8899-aabbccddeeff", directory.LDAPEntryDisabled, ""},
		{"disabled with other bits", guid, map[string][]string{"userAccountControl": {"66050"}}, "00112233-4455-6677-8899-aabbccddeeff", directory.LDAPEntryDisabled, ""},
		{"no userAccountControl", guid, nil, "00112233-4455-6677-8899-aabbccddeeff", directory.LDAPEntryActive, ""},
		{"bad userAccountControl", guid, map[string][]string{"userAccountControl": {"lots"}}, "", "", "userAccountControl"},
		{"short objectGUID", guid[:8], nil, "", "", "objectGUID has 8 bytes"},
		{"no objectGUID", nil, nil, "", "", "objectGUID has 0 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := m.entry(adEntry(tt.guid, tt.attrs))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "CN=Gavin Belson") {
					t.Fatalf("entry() error = %v, want one naming the DN and %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.Key != tt.wantKey || e.Status != tt.wantStatus {
				t.Errorf("key %q status %s, want %q %s", e.Key, e.Status, tt.wantKey, tt.wantStatus)
			}
		})
	}
	e, _ := m.entry(adEntry(guid, tests[0].attrs))
	if e.Username != "gbelson" || e.Email != "gavin@hooli.example" || e.EmployeeNumber != "H-1" || e.DisplayName != "Gavin Belson" ||
		e.Stamp != "90210" || e.Attributes["department"] != "Executive" || e.Source != "corp" {
		t.Errorf("mapped AD entry = %+v", e)
	}
}

func TestIncrementalFilterAndStamps(t *testing.T) {
	ad := newMapping(config.LDAPSource{Name: "corp", Flavour: "ad"})
	ol := newMapping(config.LDAPSource{Name: "hooli"})
	custom := newMapping(config.LDAPSource{Name: "x", UserFilter: "(objectClass=person)", Attributes: map[string]string{"stamp": "modifyTimestamp"}})
	tests := []struct {
		name string
		m    mapping
		hw   string
		want string
	}{
		{"AD asks for USNs after the mark", ad, "90210", "(&(&(objectCategory=person)(objectClass=user))(uSNChanged>=90211))"},
		{"OpenLDAP CSN strictly after", ol, "20261128090000.000001Z#000000#000#000000",
			"(&(objectClass=inetOrgPerson)(entryCSN>=20261128090000.000001Z#000000#000#000000)(!(entryCSN=20261128090000.000001Z#000000#000#000000)))"},
		{"modifyTimestamp re-reads its second", custom, "20261128090000Z", "(&(objectClass=person)(modifyTimestamp>=20261128090000Z))"},
		{"mark is escaped", custom, "x)(uid=*", `(&(objectClass=person)(modifyTimestamp>=x\29\28uid=\2a))`},
	}
	for _, tt := range tests {
		if got := tt.m.sinceFilter(tt.hw); got != tt.want {
			t.Errorf("%s: sinceFilter = %s, want %s", tt.name, got, tt.want)
		}
	}
	stamps := []struct {
		m     mapping
		a, b  string
		later bool
	}{
		{ad, "100000", "99999", true}, // numeric, not text, order
		{ad, "99999", "100000", false},
		{ol, "20261128090001.000000Z#000000#000#000000", "20261128090000.999999Z#000000#000#000000", true},
		{ol, "x", "", true},
	}
	for _, s := range stamps {
		if got := s.m.laterStamp(s.a, s.b); got != s.later {
			t.Errorf("%s laterStamp(%s, %s) = %v, want %v", s.m.flavour, s.a, s.b, got, s.later)
		}
	}
}
