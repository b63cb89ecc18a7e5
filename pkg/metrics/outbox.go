package metrics

import (
	"context"
	"slices"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenure-id/tenure/pkg/directory"
)

// OutboxReader is what the outbox gauges read at each scrape (sqlstore.Store).
type OutboxReader interface {
	OutboxStats(ctx context.Context) ([]directory.OutboxStat, error)
	OutboxApps(ctx context.Context) ([]directory.OutboxApp, error)
}

// scrapeTimeout bounds the database reads of one scrape, below Prometheus's default 10 s
// scrape timeout.
const scrapeTimeout = 5 * time.Second

var (
	descOps = prometheus.NewDesc("tenure_outbox_ops", "Outbox ops, by app and state (pending, running, done, failed, dead).",
		[]string{"app", "state"}, nil)
	descOldest = prometheus.NewDesc("tenure_outbox_oldest_pending_age_seconds",
		"Age of the app's oldest pending op (0 when none waits).", []string{"app"}, nil)
	descQuarantined = prometheus.NewDesc("tenure_provision_app_quarantined",
		"1 while the app is quarantined after consecutive failures (until `tenure ops retry`).", []string{"app"}, nil)
	descFailures = prometheus.NewDesc("tenure_provision_app_consecutive_failures",
		"Consecutive failed attempts at the app's ops.", []string{"app"}, nil)
	descPaused = prometheus.NewDesc("tenure_provision_app_paused",
		"1 while this process holds the app's ops back for a rate limit.", []string{"app"}, nil)
)

// outboxCollector reads the outbox when scraped, so the gauges show the store's truth, shared
// by every replica, rather than what one process happened to see.
type outboxCollector struct {
	store  OutboxReader
	apps   []string
	paused atomic.Pointer[func() map[string]time.Duration]
	clock  func() time.Time
}

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descOps, descOldest, descQuarantined, descFailures, descPaused} {
		ch <- d
	}
}

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	if p := c.paused.Load(); p != nil && *p != nil {
		for app, d := range (*p)() {
			ch <- prometheus.MustNewConstMetric(descPaused, prometheus.GaugeValue, bool01(d > 0), app)
		}
	}
	if c.store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	stats, err := c.store.OutboxStats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descOps, err)
		return
	}
	standing, err := c.store.OutboxApps(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descQuarantined, err)
		return
	}
	// Every known app gets every state, zeros included: a series that appears only once an
	// app fails cannot be alerted on by rate() or absent().
	apps := slices.Clone(c.apps)
	count := map[[2]string]int{}
	oldest := map[string]time.Time{}
	for _, s := range stats {
		apps = append(apps, s.App)
		count[[2]string{s.App, string(s.State)}] = s.Count
		if s.State == directory.OpPending && !s.Oldest.IsZero() {
			oldest[s.App] = s.Oldest
		}
	}
	byApp := map[string]directory.OutboxApp{}
	for _, s := range standing {
		apps = append(apps, s.App)
		byApp[s.App] = s
	}
	slices.Sort(apps)
	now := c.clock()
	for _, app := range slices.Compact(apps) {
		for _, st := range directory.OpStates {
			ch <- prometheus.MustNewConstMetric(descOps, prometheus.GaugeValue, float64(count[[2]string{app, string(st)}]), app, string(st))
		}
		age := 0.0
		if t, ok := oldest[app]; ok {
			age = max(now.Sub(t).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, age, app)
		s := byApp[app]
		ch <- prometheus.MustNewConstMetric(descQuarantined, prometheus.GaugeValue, bool01(s.QuarantinedAt != nil), app)
		ch <- prometheus.MustNewConstMetric(descFailures, prometheus.GaugeValue, float64(s.Failures), app)
	}
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
