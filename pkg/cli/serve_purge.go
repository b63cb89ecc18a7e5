package cli

import (
	"context"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/tenure-id/tenure/pkg/directory"
)

// authnPurger removes dead sign-in rows; *authn.Manager is one.
type authnPurger interface {
	Purge(ctx context.Context) (directory.AuthnPurged, error)
}

// startAuthnPurge runs the sign-in purge every interval until stopped; the leader calls it, so
// one replica purges. It also purges at once: a replica that just became leader may inherit
// the backlog of one that died before its turn came.
func startAuthnPurge(ctx context.Context, p authnPurger, every time.Duration, log *slog.Logger) (stop func()) {
	run := func() {
		n, err := p.Purge(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("authn purge failed", "err", err)
		case err == nil:
			log.Info("authn purge", "sessions", n.Sessions, "activations", n.Activations, "throttle", n.Throttle,
				"saml_requests", n.SAMLRequests, "saml_replays", n.SAMLReplays)
		}
	}
	c := cron.New()
	c.Schedule(cron.Every(every), cron.FuncJob(run))
	first := make(chan struct{})
	go func() {
		defer close(first)
		run()
	}()
	c.Start()
	return func() {
		<-first
		<-c.Stop().Done()
	}
}
