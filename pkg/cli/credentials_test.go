package cli

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/authn/authntest"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
)

func TestCredentialsIssueAndMFAReset(t *testing.T) {
	db := tempDB(t)
	seed(t, db)
	cfg := filepath.Join(t.TempDir(), "tenure.yaml")
	if err := os.WriteFile(cfg, []byte("authn:\n  public_url: https://id.piedpiper.test/\n  activation_ttl: 48h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TENURE_DB": db, "TENURE_CONFIG": cfg, "TENURE_ACTOR": "ops"}

	r := run(t, env, "credentials", "issue", "gilfoyle")
	if r.code != ExitOK {
		t.Fatalf("credentials issue: exit %d, stderr %q", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	link := lines[len(lines)-1]
	if !strings.HasPrefix(link, "https://id.piedpiper.test/activate/") || len(link) != len("https://id.piedpiper.test/activate/")+43 {
		t.Errorf("last line %q is not the activation URL alone", link)
	}
	token := strings.TrimPrefix(link, "https://id.piedpiper.test/activate/")

	if r := run(t, env, "credentials", "issue", "nobody"); r.code != ExitError || !strings.Contains(r.stderr, "nobody") {
		t.Errorf("credentials issue nobody: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := run(t, env, "mfa", "reset", "gilfoyle"); r.code != ExitUsage || !strings.Contains(r.stderr, "--reason") {
		t.Errorf("mfa reset without --reason: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := run(t, env, "mfa", "reset", "gilfoyle", "--reason", "lost phone"); r.code != ExitOK {
		t.Fatalf("mfa reset: exit %d, stderr %q", r.code, r.stderr)
	}

	ctx := context.Background()
	s, err := sqlstore.Open(ctx, db, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recs, err := s.AuditRecords(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var issued, reset bool
	for _, rec := range recs {
		if strings.Contains(string(rec.After)+string(rec.Before), token) {
			t.Errorf("audit record %s holds the activation token", rec.Action)
		}
		switch rec.Action {
		case "authn.activation.issue":
			var exp struct {
				ExpiresAt time.Time `json:"expires_at"`
			}
			_ = json.Unmarshal(rec.After, &exp)
			issued = rec.Actor == "cli:ops" && exp.ExpiresAt.Sub(rec.Time).Round(time.Hour) == 48*time.Hour
		case "authn.mfa.reset":
			reset = rec.Actor == "cli:ops" && rec.Reason == "lost phone"
		}
	}
	if !issued || !reset {
		t.Errorf("audit: activation issued by cli:ops for 48h = %v, mfa reset by cli:ops with reason = %v", issued, reset)
	}
}

// TestServeSignInWithIssuedLink: `tenure serve` mounts sign-in; a link from `tenure credentials
// issue` works against it end to end.
func TestServeSignInWithIssuedLink(t *testing.T) {
	db := tempDB(t)
	seed(t, db)
	addr := freePort(t)
	cfg := filepath.Join(t.TempDir(), "tenure.yaml")
	writeFile(t, cfg, "authn:\n  public_url: http://"+addr+"\n")
	env := map[string]string{"TENURE_DB": db, "TENURE_CONFIG": cfg}
	r := run(t, env, "credentials", "issue", "gilfoyle")
	if r.code != ExitOK {
		t.Fatalf("credentials issue: exit %d, stderr %q", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	link := lines[len(lines)-1]
	startServe(t, addr, "TENURE_DB="+db, "TENURE_CONFIG="+cfg)

	ctx := context.Background()
	c := authntest.NewClient()
	const password = "anton the server rack"
	if _, err := authntest.Activate(ctx, c, link, password, time.Now()); err != nil {
		t.Fatalf("activate against tenure serve: %v", err)
	}
	pg, err := authntest.Get(ctx, c, "http://"+addr+"/login")
	if err != nil {
		t.Fatal(err)
	}
	pg, err = authntest.Submit(ctx, c, pg, "/login", url.Values{"login": {"gilfoyle@piedpiper.test"}, "password": {password}})
	if err != nil || pg.URL.Path != "/mfa/verify" {
		t.Fatalf("sign in against tenure serve: at %s HTTP %d, %v", pg.URL.Path, pg.Status, err)
	}
}
