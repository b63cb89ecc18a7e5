package github_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/tenure-id/tenure/connectors/github"
	"github.com/tenure-id/tenure/connectors/github/githubfake"
	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/connector/connectortest"
)

const testToken = "ghp_test7Q2wE9rT4yU6iO8pA1sD3fG5hJ"

// start serves a fresh fake on 127.0.0.1 and points a connector at it.
func start(t *testing.T, fo githubfake.Options, cfg github.Config) (*githubfake.Server, *github.Connector, string) {
	t.Helper()
	if fo.Token == "" {
		fo.Token = testToken
	}
	fake := githubfake.New(fo)
	for _, o := range fo.Orgs {
		if err := fake.CreateTeam(o, "backend", "Backend"); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	cfg.BaseURL, cfg.Token = srv.URL, fo.Token
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c, err := github.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return fake, c, srv.URL
}

func TestConformance(t *testing.T) {
	t.Run("EnterpriseManagedUsers", func(t *testing.T) {
		connectortest.Run(t, func(t *testing.T) connectortest.Target {
			fake, c, _ := start(t, githubfake.Options{Enterprise: "acme", Orgs: []string{"acme-eng"}},
				github.Config{Enterprise: "acme", Org: "acme-eng", Options: map[string]string{"page_size": "5"}})
			return connectortest.Target{Connector: c, Faults: fake, Secret: testToken, PageSize: 5,
				Entitlements: []string{"group:engineering", "team:backend"}}
		})
	})
	// Email-shaped userNames exercise GitHub's login normalisation (renames included).
	t.Run("EnterpriseEmailUserNames", func(t *testing.T) {
		connectortest.Run(t, func(t *testing.T) connectortest.Target {
			fake, c, _ := start(t, githubfake.Options{Enterprise: "acme", Orgs: []string{"acme-eng"}, RateLimitStatus: 429},
				github.Config{Enterprise: "acme", Org: "acme-eng", Options: map[string]string{"page_size": "3"}})
			return connectortest.Target{Connector: c, Faults: fake, Secret: testToken, PageSize: 3,
				Entitlements: []string{"team:backend", "group:engineering"},
				NewAccount: func(i int) connector.Account {
					a := connectortest.DefaultAccount(i)
					a.UserName = fmt.Sprintf("ct.user%03d@acme.example", i)
					a.Email = a.UserName
					return a
				}}
		})
	})
	t.Run("OrganizationSCIM", func(t *testing.T) {
		connectortest.Run(t, func(t *testing.T) connectortest.Target {
			fake, c, _ := start(t, githubfake.Options{Orgs: []string{"acme-oss"}},
				github.Config{Mode: "org", Org: "acme-oss", Options: map[string]string{"page_size": "4"}})
			return connectortest.Target{Connector: c, Faults: fake, Secret: testToken, PageSize: 4,
				Entitlements: []string{"team:backend"}}
		})
	})
}
