package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/identity"
)

func spMetadataDoc(entityID, acs string) string {
	return `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="` + entityID + `">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="` + acs + `" index="0"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>
`
}

// spDB is an initialised database whose catalogue has the wiki and github apps.
func spDB(t *testing.T) (string, map[string]string) {
	t.Helper()
	db := tempDB(t)
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, db, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"wiki", "github"} {
		if _, err := s.PutApp(ctx, identity.App{Name: a, Connector: "scim"}); err != nil {
			t.Fatal(err)
		}
	}
	return db, map[string]string{"TENURE_DB": db}
}

func spFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSPAddListRemove(t *testing.T) {
	_, env := spDB(t)
	wiki := spFile(t, "wiki.xml", spMetadataDoc("https://wiki.example.com/saml", "https://wiki.example.com/saml/acs"))
	r := run(t, env, "sp", "add", "--metadata", wiki)
	if r.code != 0 || !strings.Contains(r.stdout, "added https://wiki.example.com/saml for app wiki") {
		t.Fatalf("sp add (app from the host name): %d %q %q", r.code, r.stdout, r.stderr)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(spMetadataDoc("https://sso.example.net/gh", "https://sso.example.net/gh/acs")))
	}))
	defer srv.Close()
	r = run(t, env, "sp", "add", "--metadata", srv.URL+"/metadata", "--app", "github", "--nameid", "email", "--attributes", "email,groups")
	if r.code != 0 {
		t.Fatalf("sp add from URL: %d %q", r.code, r.stderr)
	}
	r = run(t, env, "sp", "add", "--metadata", wiki, "--nameid", "unspecified")
	if r.code != 0 || !strings.Contains(r.stdout, "updated") {
		t.Fatalf("sp add again: %d %q %q", r.code, r.stdout, r.stderr)
	}

	r = run(t, env, "sp", "list", "-o", "json")
	if r.code != 0 {
		t.Fatalf("sp list: %d %q", r.code, r.stderr)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatalf("sp list -o json: %v\n%s", err, r.stdout)
	}
	if len(rows) != 2 {
		t.Fatalf("sp list: %d rows, want 2:\n%s", len(rows), r.stdout)
	}
	var keys []string
	for k := range rows[0] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"acs_urls", "app", "attributes", "created_at", "entity_id", "nameid_format", "updated_at", "version"}; !slices.Equal(keys, want) {
		t.Errorf("JSON keys %v, want %v", keys, want)
	}
	gh, wk := rows[0], rows[1]
	if gh["entity_id"] != "https://sso.example.net/gh" || gh["app"] != "github" || gh["nameid_format"] != "email" ||
		!slices.Equal(toStrings(gh["attributes"]), []string{"email", "groups"}) || !slices.Equal(toStrings(gh["acs_urls"]), []string{"https://sso.example.net/gh/acs"}) {
		t.Errorf("github SP listed as %v", gh)
	}
	if wk["nameid_format"] != "unspecified" || wk["version"] != float64(2) || len(toStrings(wk["attributes"])) != 5 {
		t.Errorf("wiki SP after re-adding: %v; want version 2, unspecified, all five attributes by default", wk)
	}

	if r = run(t, env, "sp", "remove", "https://wiki.example.com/saml"); r.code != 0 {
		t.Fatalf("sp remove: %d %q", r.code, r.stderr)
	}
	r = run(t, env, "sp", "remove", "https://wiki.example.com/saml")
	if r.code != 1 || !strings.Contains(r.stderr, "not found") {
		t.Errorf("removing twice: %d %q; want exit 1 naming what was not found", r.code, r.stderr)
	}
}

func TestSPAddRefusesBadInput(t *testing.T) {
	_, env := spDB(t)
	good := spFile(t, "ok.xml", spMetadataDoc("https://unknown.example.org/saml", "https://unknown.example.org/acs"))
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unparseable", []string{"--metadata", spFile(t, "bad.xml", "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\">\n<oops>\n</md:EntityDescriptor>")}, 1, "line 3: not well-formed XML"},
		{"no SP descriptor", []string{"--metadata", spFile(t, "idp.xml", `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.org"><IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></EntityDescriptor>`)}, 1, "no SPSSODescriptor"},
		{"no ACS", []string{"--metadata", spFile(t, "noacs.xml", `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp.example.org"><SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></EntityDescriptor>`)}, 1, "no AssertionConsumerService"},
		{"missing file", []string{"--metadata", "/nonexistent/sp.xml"}, 1, "no such file"},
		{"file URL", []string{"--metadata", "file:///etc/passwd"}, 1, "only files and http(s) URLs"},
		{"app not guessable", []string{"--metadata", good}, 1, "pass --app NAME"},
		{"unknown app", []string{"--metadata", good, "--app", "payroll"}, 1, `"payroll" is not in the directory's app catalogue`},
		{"bad nameid", []string{"--metadata", good, "--app", "wiki", "--nameid", "transient"}, 2, "use email, persistent or unspecified"},
		{"bad attribute", []string{"--metadata", good, "--app", "wiki", "--attributes", "email,salary"}, 2, `"salary" is not one of`},
		{"no metadata", []string{"--app", "wiki"}, 2, "--metadata FILE|URL is required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, env, append([]string{"sp", "add"}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Errorf("exit %d, stderr %q; want exit %d and one line containing %q", r.code, r.stderr, tc.code, tc.want)
			}
		})
	}
	r := run(t, env, "sp", "list", "-o", "json")
	if strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("refused additions left service providers behind: %s", r.stdout)
	}
}

func toStrings(v any) []string {
	xs, _ := v.([]any)
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i], _ = x.(string)
	}
	return out
}
