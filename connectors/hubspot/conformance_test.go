package hubspot_test

import (
	"testing"

	"github.com/tenure-id/tenure/connectors/hubspot/hubspotfake"
	"github.com/tenure-id/tenure/pkg/connector/connectortest"
)

// HubSpot users have no external id, no user name and no suspended state: the suite knows them
// by email, and their deletion is the deprovisioning.
func TestConformance(t *testing.T) {
	connectortest.Run(t, func(t *testing.T) connectortest.Target {
		e := setup(t, hubspotfake.Options{Teams: []string{"marketing", "sales"}, RetryAfter: true}, map[string]string{"page_size": "2"})
		return connectortest.Target{Connector: e.conn, Faults: e.fake, Entitlements: []string{"team:marketing", "team:sales"},
			PageSize: 2, Secret: token, MissingID: "999999999", EmailOnly: true}
	})
}
