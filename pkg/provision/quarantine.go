package provision

import (
	"context"

	"github.com/tenure-id/tenure/pkg/directory"
)

// noteResult moves the app's failure streak. When the streak reaches the app's threshold the
// app is quarantined here at once (the store quarantines it too when the results are recorded)
// and its locally queued ops are returned, to be handed back: they stay pending, untried,
// until `tenure ops retry`.
func (x *Executor) noteResult(a *appRunner, res directory.OutboxResult) []directory.OutboxOp {
	if res.Release {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if res.State == directory.OpDone {
		a.failures = 0
		return nil
	}
	a.failures++
	if a.quarantined || a.quarantineAfter == 0 || a.failures < a.quarantineAfter {
		return nil
	}
	a.quarantined = true
	x.cfg.Logger.Warn("app quarantined after consecutive failures; its ops wait for `tenure ops retry`",
		"app", a.name, "failures", a.failures, "last_error", res.Error)
	out := append(a.urgent, a.normal...)
	a.urgent, a.normal = nil, nil
	return out
}

// refreshQuarantine reads which apps the store holds quarantined: another replica may have
// quarantined one, or `tenure ops retry` lifted it (which also clears the failure count, so an
// app this process just quarantined, whose results are still being recorded, stays put).
func (x *Executor) refreshQuarantine(ctx context.Context) error {
	apps, err := x.q.OutboxApps(ctx)
	if err != nil {
		return err
	}
	standing := map[string]directory.OutboxApp{}
	for _, s := range apps {
		standing[s.App] = s
	}
	for name, a := range x.apps {
		s, listed := standing[name]
		a.mu.Lock()
		switch {
		case listed && s.QuarantinedAt != nil:
			a.quarantined = true
		case !listed && a.quarantined && a.inflight == 0:
			// Unlisted means lifted only once this process has recorded everything it holds
			// for the app: the failures that quarantined it here may still be on their way to
			// the store, which then lists nothing yet.
			a.quarantined, a.failures = false, 0
		}
		a.mu.Unlock()
	}
	return nil
}

// Quarantined lists the apps this executor holds quarantined.
func (x *Executor) Quarantined() []string {
	var out []string
	for _, name := range x.names {
		a := x.apps[name]
		a.mu.Lock()
		if a.quarantined {
			out = append(out, name)
		}
		a.mu.Unlock()
	}
	return out
}
