package memconn_test

import (
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/connector/connectortest"
	"github.com/tenure-id/tenure/pkg/connector/memconn"
)

// faults speaks memconn's "wire form": the connector errors a remote app's connector would
// return, injected before the app touches its state.
type faults struct{ app *memconn.App }

func (f faults) RateLimit(n int) time.Duration {
	const wait = 2 * time.Second
	f.app.FailNext(&connector.Error{Kind: connector.ErrRateLimited, Status: 429, Detail: "slow down", RetryAfter: wait}, n)
	return wait
}

func (f faults) ServerError(n int) {
	f.app.FailNext(&connector.Error{Kind: connector.ErrUnavailable, Status: 503, Detail: "maintenance"}, n)
}

func (f faults) Stall(d time.Duration) { f.app.SetLatency(d) }

// Reset clears the latency; injected failures are consumed by the calls the suite makes.
func (f faults) Reset() { f.app.SetLatency(0) }

func TestConformance(t *testing.T) {
	connectortest.Run(t, func(t *testing.T) connectortest.Target {
		app := memconn.New(connector.Traits{
			CanDisable:      true,
			MembershipKinds: []string{"group", "team"},
			Fields:          []string{"user_name", "email", "given_name", "family_name", "display_name", "active", "attributes.title"},
		})
		return connectortest.Target{
			Connector:    app,
			Faults:       faults{app},
			Entitlements: []string{"group:engineering", "team:backend"},
			Secret:       "memconn-holds-no-credential",
			UniqueEmail:  true,
		}
	})
}
