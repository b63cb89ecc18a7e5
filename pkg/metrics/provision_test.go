package metrics_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/connector/memconn"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/metrics"
	"github.com/tenure-id/tenure/pkg/provision"
	"github.com/tenure-id/tenure/pkg/server"
)

func creates(app string, n int) []provision.Step {
	out := make([]provision.Step, n)
	for i := range out {
		id := fmt.Sprintf("p-%s-%d", app, i)
		out[i] = provision.Step{Op: connector.Op{Kind: connector.OpCreate, App: app, PersonID: id,
			Account: connector.Account{ExternalID: id, UserName: id, Email: id + "@example.com", Active: true}, Reason: "rule everyone"}}
	}
	return out
}

// An executor run against in-memory apps shows up as attempts by app and result, and the
// outbox gauges read at scrape time show the states, the quarantine, the rate-limit pause and
// the age of the oldest waiting op (aged by the registry's clock).
func TestProvisioningSeries(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, sqlstore.Options{})
	one := connector.Traits{CanDisable: true, Concurrency: 1}
	crm, wiki, chat, erp := memconn.New(one), memconn.New(one), memconn.New(one), memconn.New(one)
	// wiki: told "later" once, then refuses one op for good and takes the other.
	wiki.FailNext(&connector.Error{Kind: connector.ErrRateLimited, Status: 429, RetryAfter: 20 * time.Millisecond}, 1)
	wiki.FailNext(&connector.Error{Kind: connector.ErrInvalid, Status: 400, Detail: "bad email"}, 1)
	// erp: refuses its only op, which quarantines it (threshold 1). One op only: a success
	// recorded in the same batch as the failure would restart the streak.
	erp.FailNext(&connector.Error{Kind: connector.ErrInvalid, Status: 400, Detail: "no such role"}, 1)
	// chat: told to wait an hour, so it is still paused when scraped.
	chat.FailNext(&connector.Error{Kind: connector.ErrRateLimited, Status: 429, RetryAfter: time.Hour}, 1)

	plan := provision.Plan{Apps: []provision.AppPlan{{App: "crm", Ops: creates("crm", 2)}, {App: "wiki", Ops: creates("wiki", 2)},
		{App: "chat", Ops: creates("chat", 1)}, {App: "erp", Ops: creates("erp", 1)}}}
	ops, err := provision.Enqueue(ctx, s, plan)
	if err != nil {
		t.Fatal(err)
	}
	enqueued := time.Now()
	later := enqueued.Add(time.Hour)
	reg := metrics.New(metrics.Options{Clock: func() time.Time { return later }, Outbox: s, Apps: []string{"chat", "crm", "erp", "wiki"}})
	x := provision.NewExecutor(s, map[string]connector.Connector{"crm": crm, "wiki": wiki, "chat": chat, "erp": erp},
		provision.ExecutorConfig{Observer: reg, BaseBackoff: 10 * time.Millisecond, MaxBackoff: 2 * time.Hour,
			Poll: 20 * time.Millisecond, Apps: map[string]provision.AppLimits{"erp": {QuarantineAfter: 1}}})
	reg.SetPaused(x.Paused)

	var ids []int64
	for _, op := range ops {
		if op.App != "chat" {
			ids = append(ids, op.ID)
		}
	}
	settled := provision.UntilSettled(s, ids, 0)
	runCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	err = x.RunUntil(runCtx, func(ctx context.Context) (bool, error) {
		ok, err := settled(ctx)
		return ok && x.Paused()["chat"] > 0, err
	})
	if err != nil {
		t.Fatalf("RunUntil: %v", err)
	}

	srv := httptest.NewServer(server.New(server.Config{DB: s, Metrics: reg.Handler()}))
	t.Cleanup(srv.Close)
	e := scrape(t, srv.URL, "")
	app := func(a string, kv ...string) map[string]string {
		m := map[string]string{"app": a}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	e.check(t, []series{
		{"tenure_provision_attempts_total", app("crm", "result", "done"), 2},
		{"tenure_provision_attempts_total", app("wiki", "result", "rate_limited"), 1},
		{"tenure_provision_attempts_total", app("wiki", "result", "failed"), 1},
		{"tenure_provision_attempts_total", app("wiki", "result", "done"), 1},
		{"tenure_provision_attempts_total", app("erp", "result", "failed"), 1},
		{"tenure_provision_attempts_total", app("chat", "result", "rate_limited"), 1},
		{"tenure_provision_attempt_duration_seconds", app("crm"), 2},
		{"tenure_outbox_ops", app("crm", "state", "done"), 2},
		{"tenure_outbox_ops", app("crm", "state", "pending"), 0},
		{"tenure_outbox_ops", app("wiki", "state", "failed"), 1},
		{"tenure_outbox_ops", app("wiki", "state", "done"), 1},
		{"tenure_outbox_ops", app("wiki", "state", "pending"), 0},
		{"tenure_outbox_ops", app("chat", "state", "pending"), 1},
		{"tenure_outbox_ops", app("chat", "state", "dead"), 0},
		{"tenure_provision_app_quarantined", app("erp"), 1},
		{"tenure_provision_app_quarantined", app("wiki"), 0},
		{"tenure_provision_app_consecutive_failures", app("erp"), 1},
		{"tenure_provision_app_paused", app("chat"), 1},
		{"tenure_provision_app_paused", app("crm"), 0},
		{"tenure_outbox_oldest_pending_age_seconds", app("crm"), 0},
	})
	if age, ok := e.value("tenure_outbox_oldest_pending_age_seconds", app("chat")); !ok || age < 3590 || age > 3610 {
		t.Errorf("chat: oldest pending age %v (present %v), want about an hour by the registry's clock", age, ok)
	}
}

// The store failing is logged and leaves the outbox series out; the rest is still served.
func TestOutboxSeriesLeftOutWhenTheStoreFails(t *testing.T) {
	s := openStore(t, sqlstore.Options{})
	reg := metrics.New(metrics.Options{Outbox: brokenOutbox{}, Apps: []string{"crm"}})
	reg.HRPush(server.HRPushAccepted)
	srv := httptest.NewServer(server.New(server.Config{DB: s, Metrics: reg.Handler()}))
	t.Cleanup(srv.Close)
	e := scrape(t, srv.URL, "")
	if _, ok := e["tenure_outbox_ops"]; ok {
		t.Error("outbox series served though the store could not be read")
	}
	e.check(t, []series{{"tenure_hr_webhook_requests_total", map[string]string{"result": "accepted"}, 1}})
}

type brokenOutbox struct{}

func (brokenOutbox) OutboxStats(context.Context) ([]directory.OutboxStat, error) {
	return nil, fmt.Errorf("database is locked")
}

func (brokenOutbox) OutboxApps(context.Context) ([]directory.OutboxApp, error) {
	return nil, fmt.Errorf("database is locked")
}
