// Package provisiontest holds what the offboarding benchmarks share: a connector wrapper that
// reports removed access, and the wait for a leaver's last app.
package provisiontest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/tenure-id/tenure/pkg/connector"
)

// App is a connector that can also find one account, as every Tenure connector can; the
// planner's event-driven path depends on Find, so a wrapper must keep it.
type App interface {
	connector.Connector
	connector.Finder
}

// Gone says an app disabled or deleted a person's account.
type Gone struct{ App, PersonID string }

// Watch reports each person whose account the wrapped app disabled or deleted.
type Watch struct {
	App
	Name string
	Gone chan<- Gone
}

// Apply implements connector.Connector.
func (w Watch) Apply(ctx context.Context, op connector.Op) (connector.Account, error) {
	acc, err := w.App.Apply(ctx, op)
	if err == nil && (op.Kind == connector.OpDisable || op.Kind == connector.OpDelete) {
		w.Gone <- Gone{w.Name, op.PersonID}
	}
	return acc, err
}

// Traits passes the wrapped app's traits on, so the workers keep its limits.
func (w Watch) Traits() connector.Traits { return connector.TraitsOf(w.App) }

// WaitGone waits until every one of apps has reported personID, or fails after timeout
// naming the apps where the person still has access.
func WaitGone(gone <-chan Gone, personID string, apps []string, timeout time.Duration) error {
	left := map[string]bool{}
	for _, a := range apps {
		left[a] = true
	}
	deadline := time.After(timeout)
	for len(left) > 0 {
		select {
		case g := <-gone:
			if g.PersonID == personID {
				delete(left, g.App)
			}
		case <-deadline:
			return fmt.Errorf("%s still has access in %v after %s", personID, slices.Sorted(maps.Keys(left)), timeout)
		}
	}
	return nil
}

// Millis is the q-quantile of sorted in milliseconds.
func Millis(sorted []time.Duration, q float64) float64 {
	return float64(sorted[min(len(sorted)-1, int(q*float64(len(sorted))))].Microseconds()) / 1000
}
