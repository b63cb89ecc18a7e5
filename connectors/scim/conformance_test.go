package scim_test

import (
	"net/http/httptest"
	"testing"

	"github.com/tenure-id/tenure/connectors/scim"
	"github.com/tenure-id/tenure/connectors/scim/scimtarget"
	"github.com/tenure-id/tenure/pkg/connector/connectortest"
)

const testToken = "scim-test-token-7f3a9c1e5b"

// The strict target injects faults in the SCIM wire form the suite asks for.
var _ connectortest.Faults = (*scimtarget.Target)(nil)

// newTarget starts a strict target on 127.0.0.1 and a connector with profile p pointed at it.
func newTarget(t *testing.T, opts scimtarget.Options, p scim.Profile) (*scimtarget.Target, *scim.Connector) {
	t.Helper()
	if opts.Token == "" {
		opts.Token = testToken
	}
	tg := scimtarget.New(opts)
	srv := httptest.NewServer(tg.Handler())
	t.Cleanup(srv.Close)
	c, err := scim.New(scim.Config{App: "sandbox", BaseURL: srv.URL, Token: opts.Token, Profile: p})
	if err != nil {
		t.Fatal(err)
	}
	return tg, c
}

func TestConformance(t *testing.T) {
	put := scim.Generic()
	put.Update = scim.UpdatePut
	memberFilter := scim.Generic()
	memberFilter.MemberFilter = true
	deactivating := scim.Generic()
	deactivating.DeleteDeactivates = true
	indexed := scim.Generic() // an app that cannot filter on externalId
	indexed.Filters = []string{"userName", "emails.value"}
	indexed.ExternalIDIndex = true
	for _, tc := range []struct {
		name    string
		opts    scimtarget.Options
		profile scim.Profile
	}{
		{"PatchWithETags", scimtarget.Options{MaxResults: 5, ETag: true, UniqueEmail: true}, memberFilter},
		{"PutWithoutETags", scimtarget.Options{MaxResults: 4}, put},
		{"Zapier", scimtarget.Options{MaxResults: 3}, scim.Zapier()},
		{"DeleteDeactivates", scimtarget.Options{MaxResults: 5, DeleteDeactivates: true}, deactivating},
		{"ExternalIDIndex", scimtarget.Options{MaxResults: 4, UniqueEmail: true}, indexed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.profile
			p.PageSize = tc.opts.MaxResults
			connectortest.Run(t, func(t *testing.T) connectortest.Target {
				tg, c := newTarget(t, tc.opts, p)
				return connectortest.Target{
					Connector:    c,
					Faults:       tg,
					Entitlements: []string{"group:engineering", "group:everyone"},
					PageSize:     tc.opts.MaxResults,
					Secret:       testToken,
					UniqueEmail:  tc.opts.UniqueEmail,
					// The target's DELETE deactivates exactly when the profile says so.
					DeleteDisables: tc.opts.DeleteDeactivates,
				}
			})
		})
	}
}
