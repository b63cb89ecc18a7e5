package slack_test

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/tenure-id/tenure/connectors/slack"
	"github.com/tenure-id/tenure/connectors/slack/slackfake"
	"github.com/tenure-id/tenure/pkg/connector/connectortest"
)

const testToken = "xoxp-test-5514-93be71c2a8d4f0"

// start serves a fresh fake on 127.0.0.1 and points a connector at it.
func start(t *testing.T, fo slackfake.Options, cfg slack.Config) (*slackfake.Server, *slack.Connector) {
	t.Helper()
	if fo.Token == "" {
		fo.Token = testToken
	}
	fake := slackfake.New(fo)
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	cfg.BaseURL, cfg.Token = srv.URL+"/scim/v2", fo.Token
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c, err := slack.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return fake, c
}

func TestConformance(t *testing.T) {
	for _, v1 := range []bool{false, true} {
		name := "V2Errors"
		if v1 {
			name = "V1Errors"
		}
		t.Run(name, func(t *testing.T) {
			connectortest.Run(t, func(t *testing.T) connectortest.Target {
				fake, c := start(t, slackfake.Options{V1Errors: v1}, slack.Config{Options: map[string]string{"page_size": "4"}})
				return connectortest.Target{Connector: c, Faults: fake, Secret: testToken, PageSize: 4,
					Entitlements: []string{"group:engineering", "channel:general"}, UniqueEmail: true, DeleteDisables: true}
			})
		})
	}
}
