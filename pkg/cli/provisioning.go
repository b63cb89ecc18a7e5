package cli

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/provision"
)

// DefaultReconcile is the full reconciliation's schedule under `tenure serve`.
const DefaultReconcile = "@every 1h"

// serveProvisioning is provisioning inside `tenure serve`: outbox workers in every replica
// (claiming is safe across replicas), changed people reconciled by whichever replica applied
// their HR event, and the scheduled full reconciliation on the leader. A nil value (no app
// configured) does nothing.
type serveProvisioning struct {
	x    *provision.Executor
	r    *provision.Reconciler
	spec string
	e    *env
	wg   sync.WaitGroup
}

func (e *env) openServeProvisioning(ctx context.Context, s *sqlstore.Store, obs provision.Observer) (*serveProvisioning, error) {
	if len(e.cfg.Provisioning.Apps) == 0 {
		e.logger.Info("provisioning off: no provisioning.apps configured")
		return nil, nil
	}
	spec := firstNonEmpty(e.cfg.Provisioning.Reconcile, DefaultReconcile)
	if _, err := cron.ParseStandard(spec); err != nil {
		return nil, fmt.Errorf("provisioning.reconcile: %q: %w", spec, err)
	}
	p, err := e.openPlanner(ctx, s, e.policyDir(""), nil)
	if err != nil {
		return nil, err
	}
	x := e.executor(s, p.Connectors, 2*time.Minute, obs)
	return &serveProvisioning{x: x, r: &provision.Reconciler{Planner: p, Queue: s, Notify: x.Notify, Logger: e.logger}, spec: spec, e: e}, nil
}

// changed is the lifecycle engine's hook.
func (p *serveProvisioning) changed() func([]string) {
	if p == nil {
		return nil
	}
	return p.r.Changed
}

// start runs the workers and the change reconciler until ctx ends; wait waits for them to
// hand back what they hold.
func (p *serveProvisioning) start(ctx context.Context) {
	if p == nil {
		return
	}
	p.wg.Go(func() {
		if err := p.x.Run(ctx); err != nil && ctx.Err() == nil {
			p.e.logger.Error("provisioning workers stopped", "err", err)
		}
	})
	p.wg.Go(func() { _ = p.r.Run(ctx) })
	p.e.logger.Info("provisioning workers running", "owner", p.x.Owner())
}

func (p *serveProvisioning) wait() {
	if p != nil {
		p.wg.Wait()
	}
}

// schedule runs the full reconciliation on its cron spec until stopped; the leader calls it.
func (p *serveProvisioning) schedule(ctx context.Context) (stop func()) {
	if p == nil {
		return func() {}
	}
	c := cron.New()
	if _, err := c.AddFunc(p.spec, func() {
		if err := p.r.Full(ctx); err != nil && ctx.Err() == nil {
			p.e.logger.Warn("scheduled full reconciliation failed", "err", err)
		}
	}); err != nil {
		p.e.logger.Error("provisioning schedule", "err", err)
	}
	c.Start()
	return func() { <-c.Stop().Done() }
}

// paused is the metrics' view of the apps this process holds back for a rate limit; nil when
// provisioning is off.
func (p *serveProvisioning) paused() func() map[string]time.Duration {
	if p == nil {
		return nil
	}
	return p.x.Paused
}
