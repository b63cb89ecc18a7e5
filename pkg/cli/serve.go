package cli

import (
	"context"
	"errors"
	"os/signal"
	"syscall"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/spf13/cobra"

	"github.com/tenure-id/tenure/pkg/ldapsync"
	"github.com/tenure-id/tenure/pkg/lifecycle"
	"github.com/tenure-id/tenure/pkg/metrics"
	"github.com/tenure-id/tenure/pkg/server"
)

func (e *env) serveCommand() *cobra.Command {
	var listen string
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve HTTP (health, metrics, sign-in, SAML, SCIM, HR webhook, admin API) and run the scheduler (due HR events, LDAP syncs, sign-in purge)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			if s, err = e.prepareMFAKeys(ctx, s, false); err != nil {
				return err
			}
			// The registry exists even with metrics.enabled false, so the engines' observers are
			// never nil; it is just not served then.
			reg := metrics.New(metrics.Options{Version: buildVersion().Version, Clock: e.clock, Outbox: s,
				Apps: sortedKeysOf(e.cfg.Provisioning.Apps), Logger: e.logger})
			prov, err := e.openServeProvisioning(ctx, s, reg)
			if err != nil {
				return err
			}
			reg.SetPaused(prov.paused())
			defer prov.wait()
			var sched *lifecycle.Scheduler
			eng, err := e.lifecycleEngineHooked(s, func() {
				if sched != nil {
					sched.Wake()
				}
			}, prov.changed())
			if err != nil {
				return err
			}
			sched = lifecycle.NewScheduler(eng, nil, "", e.logger)
			sched.ReuseAfter = time.Duration(e.cfg.HR.UsernameReuseDays) * 24 * time.Hour
			syncer := &ldapsync.Syncer{Store: s, Config: e.cfg.LDAP, Getenv: e.getenv, Clock: e.clock, Logger: e.logger}
			jobs, err := syncer.Jobs()
			if err != nil {
				return err
			}

			srvCfg := server.Config{DB: s, Logger: e.logger, Version: buildVersion().Version, Observer: reg}
			if srvCfg.Proxies, err = e.cfg.HTTP.Trust(); err != nil {
				return err
			}
			if srvCfg.Metrics, err = e.metricsHandler(reg); err != nil {
				return err
			}
			if token, secret := e.cfg.HR.Webhook.Secrets(e.getenv); token != "" || secret != "" {
				h, err := server.NewHRWebhook(server.HRWebhookConfig{Engine: eng, Token: token, Secret: secret, Clock: e.clock, Logger: e.logger,
					Observer: reg})
				if err != nil {
					return err
				}
				srvCfg.HREvents = h
			} else {
				e.logger.Info("HR webhook off: set hr.webhook.token_env or hr.webhook.secret_env to enable POST /api/v1/hr/events")
			}

			// Token buckets run on the wall clock, like the provisioning gates: they are real
			// waiting, not dates to store.
			limits := server.NewTokenLimiter(e.cfg.HTTP.TokenRatePerSecond(), nil)
			if srvCfg.SCIM, err = server.NewSCIM(server.SCIMConfig{Directory: s, Engine: eng, Clock: e.clock, Limits: limits, Logger: e.logger}); err != nil {
				return err
			}

			apiCfg, err := e.adminAPI(s)
			if err != nil {
				return err
			}
			apiCfg.Limits = limits
			if srvCfg.Admin, err = server.NewAdminAPI(*apiCfg); err != nil {
				return err
			}

			auth, err := e.authnManager(s, reg)
			if err != nil {
				return err
			}
			srvCfg.Auth = auth.Handler()
			if srvCfg.SAML, err = e.samlIdP(ctx, s, auth, firstNonEmpty(listen, e.cfg.Listen), reg); err != nil {
				return err
			}

			prov.start(ctx)
			background := make(chan error, 1)
			go func() {
				background <- s.RunAsLeader(ctx, "scheduler", func(lctx context.Context) error {
					e.logger.Info("scheduler running on this replica", "ldap_jobs", len(jobs))
					stopJobs := startLDAPJobs(lctx, jobs, e, reg)
					defer stopJobs()
					defer startAuthnPurge(lctx, auth, e.cfg.Authn.Purge(), e.logger)()
					defer startOutboxPurge(lctx, s, e.cfg.Provisioning.OutboxRetention(), time.Hour, e.clock, e.logger)()
					defer prov.schedule(lctx)()
					return sched.Run(lctx)
				})
			}()
			addr := firstNonEmpty(listen, e.cfg.Listen)
			err = server.Serve(ctx, addr, server.New(srvCfg), grace, e.logger, nil)
			stop() // the server is down: stop the scheduler too, whatever ended the server
			if berr := <-background; err == nil {
				err = berr
			}
			return err
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "address to listen on (env TENURE_LISTEN; default 127.0.0.1:8080)")
	cmd.Flags().StringVar(&e.servePolicies, "policies", "", "policy directory (env TENURE_POLICIES; default policies)")
	cmd.Flags().DurationVar(&grace, "grace", 10*time.Second, "how long shutdown waits for requests in flight")
	return cmd
}

// startLDAPJobs runs each LDAP source's scheduled sync on its cron spec until stopped.
func startLDAPJobs(ctx context.Context, jobs []ldapsync.Job, e *env, reg *metrics.Registry) (stop func()) {
	c := cron.New()
	for _, j := range jobs {
		if _, err := c.AddFunc(j.Spec, func() {
			start := time.Now()
			res, err := j.Run(ctx)
			if !errors.Is(err, ldapsync.ErrBusy) {
				reg.LDAPSynced(j.Source, res.Read, time.Since(start), err)
			}
			if err != nil {
				e.logger.Warn("scheduled ldap sync", "source", j.Source, "err", err)
			} else {
				e.logger.Info("scheduled ldap sync", "source", j.Source, "summary", res)
			}
		}); err != nil {
			e.logger.Error("ldap schedule", "source", j.Source, "err", err)
		}
	}
	c.Start()
	return func() { <-c.Stop().Done() }
}
