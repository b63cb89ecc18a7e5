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

// startAuthnPurge runs the sign-in purge every interval until stopped.
func startAuthnPurge(ctx context.Context, p authnPurger, every time.Duration, log *slog.Logger) (stop func()) {
	return startPeriodic(ctx, every, func() {
		n, err := p.Purge(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("authn purge failed", "err", err)
		case err == nil:
			log.Info("authn purge", "sessions", n.Sessions, "activations", n.Activations, "throttle", n.Throttle,
				"saml_requests", n.SAMLRequests, "saml_replays", n.SAMLReplays, "saml_participants", n.SAMLParticipants)
		}
	})
}

// opsPurger deletes done outbox ops; the store is one.
type opsPurger interface {
	PurgeOps(ctx context.Context, doneBefore time.Time) (int, error)
}

// startOutboxPurge deletes, every interval, the outbox ops done longer ago than keep (forever
// when keep is 0): what each did stays in the audit log, and the table (which every claim
// and metrics scrape reads) stops growing with history.
func startOutboxPurge(ctx context.Context, p opsPurger, keep, every time.Duration, now func() time.Time, log *slog.Logger) (stop func()) {
	if keep <= 0 {
		return func() {}
	}
	return startPeriodic(ctx, every, func() {
		n, err := p.PurgeOps(ctx, now().Add(-keep))
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("outbox purge failed", "err", err)
		case err == nil && n > 0:
			log.Info("outbox purge", "ops", n, "kept", keep)
		}
	})
}

// startPeriodic runs job every interval until stopped, and once at once: the leader calls it,
// so one replica does the work, and a replica that just became leader may inherit the backlog
// of one that died before its turn came.
func startPeriodic(ctx context.Context, every time.Duration, job func()) (stop func()) {
	c := cron.New()
	c.Schedule(cron.Every(every), cron.FuncJob(job))
	first := make(chan struct{})
	go func() {
		defer close(first)
		job()
	}()
	c.Start()
	return func() {
		<-first
		<-c.Stop().Done()
	}
}
