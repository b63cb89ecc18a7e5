package cli

import (
	"slices"
	"strings"
	"testing"

	"github.com/tenure-id/tenure/connectors/github"
	"github.com/tenure-id/tenure/connectors/slack"
	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/connector"
)

func TestGitHubAndSlackConnectorTypes(t *testing.T) {
	const secret = "tok-5b1e0c"
	getenv := func(k string) string {
		if k == "APP_TOKEN" {
			return secret
		}
		return ""
	}
	for _, tc := range []struct {
		name, typ string
		cfg       config.AppConfig
		err       string // "" when the connector opens
		kinds     []string
	}{
		{"github enterprise", "github", config.AppConfig{TokenEnv: "APP_TOKEN", Options: map[string]string{"enterprise": "acme", "org": "acme-eng", "team_links": "backend=Backend"}}, "", []string{"group", "team"}},
		{"github org", "github", config.AppConfig{TokenEnv: "APP_TOKEN", Options: map[string]string{"mode": "org", "org": "acme-oss"}}, "", []string{"team"}},
		{"github without enterprise", "github", config.AppConfig{TokenEnv: "APP_TOKEN"}, "options.enterprise", nil},
		{"github bad links", "github", config.AppConfig{TokenEnv: "APP_TOKEN", Options: map[string]string{"enterprise": "acme", "org": "o", "team_links": "backend"}}, "options.team_links", nil},
		{"github bad mode", "github", config.AppConfig{TokenEnv: "APP_TOKEN", Options: map[string]string{"mode": "cloud"}}, "options.mode", nil},
		{"github unknown option", "github", config.AppConfig{TokenEnv: "APP_TOKEN", Options: map[string]string{"enterprise": "acme", "colour": "blue"}}, "options.colour", nil},
		{"github no token", "github", config.AppConfig{TokenEnv: "NOPE", Options: map[string]string{"enterprise": "acme"}}, "NOPE", nil},
		{"slack", "slack", config.AppConfig{TokenEnv: "APP_TOKEN", Options: map[string]string{"sync_manager": "true"}}, "", []string{"channel", "group"}},
		{"slack bad bool", "slack", config.AppConfig{TokenEnv: "APP_TOKEN", Options: map[string]string{"sync_manager": "maybe"}}, "options.sync_manager", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := connectorFor("app", tc.typ, tc.cfg, getenv, quiet)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), secret) {
					t.Fatalf("err = %v, want one naming %s (and never the token)", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch c.(type) {
			case *github.Connector, *slack.Connector:
			default:
				t.Fatalf("opened %T", c)
			}
			if got := connector.TraitsOf(c).MembershipKinds; !slices.Equal(got, tc.kinds) {
				t.Fatalf("membership kinds %v, want %v", got, tc.kinds)
			}
		})
	}
}
