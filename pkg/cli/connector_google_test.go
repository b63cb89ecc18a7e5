package cli

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tenure-id/tenure/connectors/google/googlefake"
	"github.com/tenure-id/tenure/pkg/config"
)

func TestGoogleConnectorType(t *testing.T) {
	fake := googlefake.New(googlefake.Options{Domain: "piedpiper.example"})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	sa, err := googlefake.NewServiceAccount("tenure@fake.iam.gserviceaccount.com")
	if err != nil {
		t.Fatal(err)
	}
	fake.Delegate(sa.ClientEmail, &sa.Key.PublicKey, googlefake.ScopeUser, googlefake.ScopeGroupMember)
	fake.AddAdmin("admin@piedpiper.example")
	fake.PutUser(googlefake.User{PrimaryEmail: "richard@piedpiper.example", Name: googlefake.Name{GivenName: "Richard", FamilyName: "Hendricks"}})
	key := filepath.Join(t.TempDir(), "sa.json")
	if err := os.WriteFile(key, sa.KeyFile(srv.URL+"/token"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.AppConfig{BaseURL: srv.URL, TokenFile: key,
		Options: map[string]string{"domain": "piedpiper.example", "admin_email": "admin@piedpiper.example"}}
	c, err := connectorFor("google-workspace", "google", cfg, func(string) string { return "" }, quiet)
	if err != nil {
		t.Fatal(err)
	}
	accs, err := c.List(context.Background())
	if err != nil || len(accs) != 1 || accs[0].UserName != "richard" {
		t.Fatalf("List = %+v, %v", accs, err)
	}
	cfg.Options = map[string]string{"domain": "piedpiper.example"}
	if _, err := connectorFor("google-workspace", "google", cfg, func(string) string { return "" }, quiet); err == nil ||
		!strings.Contains(err.Error(), "app google-workspace") || !strings.Contains(err.Error(), "admin_email") {
		t.Fatalf("no admin_email: %v", err)
	}
	cfg.TokenFile = ""
	if _, err := connectorFor("google-workspace", "google", cfg, func(string) string { return "" }, quiet); err == nil || !strings.Contains(err.Error(), "token_file") {
		t.Fatalf("no key: %v", err)
	}
}
