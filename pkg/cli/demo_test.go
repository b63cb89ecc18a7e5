package cli

import (
	"net/http"
	"path/filepath"
	"testing"
)

// `tenure demo` (what `make run` runs) from a directory without ./policies, given --policies:
// the sample company is imported and the server it starts reads the same policy, so the SAML
// IdP is on.
func TestDemoServesWithTheGivenPolicies(t *testing.T) {
	addr := freePort(t)
	db := "sqlite://" + filepath.Join(t.TempDir(), "demo.db")
	_, logs := spawnCLI(t, []string{"demo", "--listen", addr, "--policies", shippedPolicies,
		"--roster", "../../testdata/hr/piedpiper.csv"}, "TENURE_DB="+db)
	waitFor(t, logs, `msg="SAML IdP on"`)
	waitFor(t, logs, "msg=serving")
	resp, err := http.Get("http://" + addr + "/saml/metadata")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /saml/metadata: HTTP %d; want 200 from the IdP the demo's policy turned on", resp.StatusCode)
	}
}
