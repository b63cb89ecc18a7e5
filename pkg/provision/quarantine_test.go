package provision

import (
	"context"
	"testing"

	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/connector/memconn"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// listedApps is a queue whose store lists the given apps and holds nothing else.
type listedApps []directory.OutboxApp

func (listedApps) ClaimOps(context.Context, directory.OutboxClaim) ([]directory.OutboxOp, error) {
	return nil, nil
}
func (listedApps) FinishOps(context.Context, string, []directory.OutboxResult) ([]int64, error) {
	return nil, nil
}
func (l listedApps) OutboxApps(context.Context) ([]directory.OutboxApp, error) { return l, nil }
func (listedApps) ListAccounts(context.Context, directory.AccountFilter) ([]identity.Account, error) {
	return nil, nil
}
func (listedApps) GetAccount(context.Context, string, string) (identity.Account, error) {
	return identity.Account{}, identity.ErrNotFound
}

// An app this executor quarantined is lifted by an unlisted store only after the results that
// quarantined it are recorded: before that, the store simply has not heard of them yet.
func TestQuarantineIsNotLiftedBeforeItsFailuresAreRecorded(t *testing.T) {
	x := NewExecutor(listedApps(nil), map[string]connector.Connector{"zendesk": memconn.New(connector.Traits{})}, ExecutorConfig{})
	a := x.apps["zendesk"]
	a.quarantined, a.failures, a.inflight = true, 10, 3 // quarantined here, results on their way
	if err := x.refreshQuarantine(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := x.Quarantined(); len(got) != 1 {
		t.Fatalf("quarantined = %v; want zendesk kept while its results are unrecorded", got)
	}
	a.inflight = 0 // recorded, and still unlisted: `tenure ops retry` lifted it
	if err := x.refreshQuarantine(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := x.Quarantined(); len(got) != 0 || a.failures != 0 {
		t.Fatalf("quarantined = %v, failures %d; want lifted with the streak cleared", got, a.failures)
	}
}
