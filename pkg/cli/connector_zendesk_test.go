package cli

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tenure-id/tenure/connectors/zendesk/zendeskfake"
	"github.com/tenure-id/tenure/pkg/config"
)

func TestZendeskConnectorType(t *testing.T) {
	const secret = "zd-token-5be0c1"
	fake := zendeskfake.New(zendeskfake.Options{Email: "ops@piedpiper.example", Token: secret})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	fake.PutUser(zendeskfake.User{Name: "Jared Dunn", Email: "jared@piedpiper.example", Role: "agent"})
	getenv := func(k string) string { return map[string]string{"ZENDESK_TOKEN": secret}[k] }
	cfg := config.AppConfig{BaseURL: srv.URL, TokenEnv: "ZENDESK_TOKEN", Options: map[string]string{"email": "ops@piedpiper.example"}}
	c, err := connectorFor("zendesk", "zendesk", cfg, getenv, quiet)
	if err != nil {
		t.Fatal(err)
	}
	accs, err := c.List(context.Background())
	if err != nil || len(accs) != 1 || accs[0].Role != "agent" {
		t.Fatalf("List = %+v, %v", accs, err)
	}
	cfg.Options["subdomian"] = "piedpiper"
	if _, err := connectorFor("zendesk", "zendesk", cfg, getenv, quiet); err == nil ||
		!strings.Contains(err.Error(), "app zendesk: options.subdomian") || strings.Contains(err.Error(), secret) {
		t.Fatalf("bad option: %v", err)
	}
}
