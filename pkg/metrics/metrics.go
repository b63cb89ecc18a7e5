// Package metrics is Tenure's Prometheus exposition. The engines know nothing of Prometheus:
// each declares a small observer interface (provision.Observer, authn.Observer, idp.Observer,
// server.HTTPObserver, server.HRObserver) and a Registry implements them all, so a test or a
// command without metrics passes nothing and the engines stay as they were.
//
// Every label takes its values from a fixed set or from configuration (route patterns, app
// names, LDAP source names, registered service providers), never from a request or a person.
package metrics

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tenure-id/tenure/pkg/server"
)

// Options configure a Registry. Only Clock has a default.
type Options struct {
	// Version labels tenure_build_info.
	Version string
	// Clock dates LDAP syncs and ages outbox ops (time.Now).
	Clock func() time.Time
	// Outbox, when set, is read at every scrape for the outbox gauges.
	Outbox OutboxReader
	// Apps are the configured apps, reported (as zeros) even before they have any op.
	Apps []string
	// Paused, when set, reports how long each app's rate-limit pause still runs in this
	// process (provision.Executor.Paused); SetPaused sets it later.
	Paused func() map[string]time.Duration
	Logger *slog.Logger
}

// Registry holds one server's metrics. It is its own prometheus.Registry, not the global
// default one, so that several servers (or tests) in one process never collide.
type Registry struct {
	reg    *prometheus.Registry
	clock  func() time.Time
	log    *slog.Logger
	outbox *outboxCollector

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	hrPushes     *prometheus.CounterVec
	hrEvents     *prometheus.CounterVec
	signIns      *prometheus.CounterVec
	saml         *prometheus.CounterVec
	opAttempts   *prometheus.CounterVec
	opDuration   *prometheus.HistogramVec
	ldapRuns     *prometheus.CounterVec
	ldapRead     *prometheus.CounterVec
	ldapLastOK   *prometheus.GaugeVec
	ldapDuration *prometheus.GaugeVec
}

// New builds the registry with Go runtime and process metrics alongside Tenure's own.
func New(opt Options) *Registry {
	if opt.Clock == nil {
		opt.Clock = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Registry{reg: prometheus.NewRegistry(), clock: opt.Clock, log: opt.Logger}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	}
	r.httpRequests = counter("tenure_http_requests_total", "HTTP requests answered, by route pattern, method and status class.", "route", "method", "code")
	r.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tenure_http_request_duration_seconds",
		Help: "Time to answer an HTTP request, by route pattern and method.", Buckets: prometheus.DefBuckets}, []string{"route", "method"})
	r.hrPushes = counter("tenure_hr_webhook_requests_total", "Pushes to the HR webhook, by result (accepted, partial, replay, held, unauthorized, invalid, error).", "result")
	r.hrEvents = counter("tenure_hr_webhook_events_total", "Events of HR webhook pushes, by outcome (applied, scheduled, rejected, duplicate).", "outcome")
	r.signIns = counter("tenure_login_attempts_total", "Sign-in steps, by step (password, totp, recovery_code, security_key) and result (success, rejected, throttled, error).", "step", "result")
	r.saml = counter("tenure_saml_responses_total", "SAML sign-ins answered, by service provider entity ID and outcome (issued, refused).", "sp", "outcome")
	r.opAttempts = counter("tenure_provision_attempts_total", "Attempts at outbox ops, by app and result (done, retry, failed, dead, rate_limited).", "app", "result")
	r.opDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tenure_provision_attempt_duration_seconds",
		Help: "Time an app took to answer an outbox op, by app.", Buckets: prometheus.DefBuckets}, []string{"app"})
	r.ldapRuns = counter("tenure_ldap_sync_runs_total", "Scheduled LDAP syncs, by source and result (success, error).", "source", "result")
	r.ldapRead = counter("tenure_ldap_sync_entries_read_total", "Entries read from LDAP by scheduled syncs, by source.", "source")
	r.ldapLastOK = gauge("tenure_ldap_sync_last_success_timestamp_seconds", "When the last successful sync of a source ended (Unix seconds).", "source")
	r.ldapDuration = gauge("tenure_ldap_sync_last_duration_seconds", "How long the last sync of a source took, successful or not.", "source")
	build := gauge("tenure_build_info", "Always 1; the version label says which build serves.", "version")
	build.WithLabelValues(opt.Version).Set(1)

	r.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		r.httpRequests, r.httpDuration, r.hrPushes, r.hrEvents, r.signIns, r.saml, r.opAttempts, r.opDuration,
		r.ldapRuns, r.ldapRead, r.ldapLastOK, r.ldapDuration, build)
	r.outbox = &outboxCollector{store: opt.Outbox, apps: opt.Apps, clock: opt.Clock}
	r.SetPaused(opt.Paused)
	r.reg.MustRegister(r.outbox)
	return r
}

// SetPaused sets where tenure_provision_app_paused comes from: the executor is built after
// the registry it reports to.
func (r *Registry) SetPaused(paused func() map[string]time.Duration) {
	r.outbox.paused.Store(&paused)
}

// Gatherer gives tests and other exporters the registry's metrics.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

// Handler serves the exposition. A metric that cannot be collected (the database is down) is
// logged and left out; the rest is still served, so the process's own health stays visible.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{Registry: r.reg, ErrorHandling: promhttp.ContinueOnError,
		ErrorLog: errorLog{r.log}})
}

type errorLog struct{ l *slog.Logger }

func (e errorLog) Println(v ...any) { e.l.Warn("metrics", "err", slogJoin(v)) }

func slogJoin(v []any) any {
	if len(v) == 1 {
		return v[0]
	}
	return v
}

// HTTPRequest implements server.HTTPObserver.
func (r *Registry) HTTPRequest(route, method string, status int, took time.Duration) {
	r.httpRequests.WithLabelValues(route, method, server.StatusClass(status)).Inc()
	r.httpDuration.WithLabelValues(route, method).Observe(took.Seconds())
}

// HRPush implements server.HRObserver.
func (r *Registry) HRPush(result string) { r.hrPushes.WithLabelValues(result).Inc() }

// HREvents implements server.HRObserver.
func (r *Registry) HREvents(outcome string, n int) {
	r.hrEvents.WithLabelValues(outcome).Add(float64(n))
}

// SignIn implements authn.Observer.
func (r *Registry) SignIn(step, result string) { r.signIns.WithLabelValues(step, result).Inc() }

// SAMLResponse implements idp.Observer.
func (r *Registry) SAMLResponse(sp, outcome string) { r.saml.WithLabelValues(sp, outcome).Inc() }

// OpAttempted implements provision.Observer.
func (r *Registry) OpAttempted(app, result string, took time.Duration) {
	r.opAttempts.WithLabelValues(app, result).Inc()
	r.opDuration.WithLabelValues(app).Observe(took.Seconds())
}

// LDAPSynced records one scheduled sync of source: how many entries it read, how long it took,
// and whether it failed.
func (r *Registry) LDAPSynced(source string, read int, took time.Duration, err error) {
	r.ldapRead.WithLabelValues(source).Add(float64(read))
	r.ldapDuration.WithLabelValues(source).Set(took.Seconds())
	if err != nil {
		r.ldapRuns.WithLabelValues(source, "error").Inc()
		return
	}
	r.ldapRuns.WithLabelValues(source, "success").Inc()
	r.ldapLastOK.WithLabelValues(source).Set(float64(r.clock().UnixNano()) / 1e9)
}
