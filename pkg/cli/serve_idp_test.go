package cli

import (
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

var metadataCert = regexp.MustCompile(`<X509Certificate[^>]*>([^<]+)</X509Certificate>`)

// `tenure serve` mounts the IdP: it generates its key pair on the first start, keeps it in the
// database, and publishes the same certificate after a restart.
func TestServePublishesIdPMetadataWithAStableKey(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "tenure.db")
	if r := run(t, map[string]string{"TENURE_DB": db}, "init"); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	policies, err := filepath.Abs("../../policies")
	if err != nil {
		t.Fatal(err)
	}
	metadata := func() (string, string) {
		addr := freePort(t)
		cmd, logs := startServe(t, addr, "TENURE_DB="+db, "TENURE_POLICIES="+policies)
		resp, err := http.Get("http://" + addr + "/saml/metadata")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /saml/metadata = %d: %s", resp.StatusCode, body)
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		waitFor(t, logs, "msg=stopped")
		_ = cmd.Wait()
		m := metadataCert.FindStringSubmatch(string(body))
		if m == nil {
			t.Fatalf("no certificate in the metadata:\n%s", body)
		}
		return strings.Join(strings.Fields(m[1]), ""), string(body)
	}
	first, body := metadata()
	if !strings.Contains(body, `entityID="http://`) || !strings.Contains(body, "/saml/sso") {
		t.Errorf("metadata lacks the entity ID or SSO URL:\n%s", body)
	}
	second, _ := metadata()
	if first != second {
		t.Error("the signing certificate changed across a restart; the generated key must be kept")
	}
}
