package cli

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tenure-id/tenure/connectors/hubspot/hubspotfake"
	"github.com/tenure-id/tenure/pkg/config"
)

func TestHubSpotConnectorType(t *testing.T) {
	const secret = "pat-na1-7c2d"
	fake := hubspotfake.New(hubspotfake.Options{Token: secret})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	fake.PutUser(hubspotfake.User{Email: "monica@piedpiper.example", FirstName: "Monica", LastName: "Hall"})
	getenv := func(k string) string { return map[string]string{"HUBSPOT_TOKEN": secret}[k] }
	cfg := config.AppConfig{BaseURL: srv.URL, TokenEnv: "HUBSPOT_TOKEN"}
	c, err := connectorFor("hubspot", "hubspot", cfg, getenv, quiet)
	if err != nil {
		t.Fatal(err)
	}
	accs, err := c.List(context.Background())
	if err != nil || len(accs) != 1 || accs[0].UserName != "monica" {
		t.Fatalf("List = %+v, %v", accs, err)
	}
	cfg.Options = map[string]string{"send_welcome_email": "maybe"}
	if _, err := connectorFor("hubspot", "hubspot", cfg, getenv, quiet); err == nil ||
		!strings.Contains(err.Error(), "app hubspot: options.send_welcome_email") || strings.Contains(err.Error(), secret) {
		t.Fatalf("bad option: %v", err)
	}
}
