package lifecycle

import (
	"context"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"
)

// Timer is the part of *time.Timer the scheduler uses, so tests can fire it by hand.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
}

// NewTimer starts a timer; RealTimer when nil.
type NewTimer func(d time.Duration) Timer

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time { return r.t.C }
func (r realTimer) Stop() bool          { return r.t.Stop() }

// RealTimer is a time.Timer.
func RealTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

// Scheduler applies stored events at their effective moment. A precise timer is armed for the
// next due event, so a 17:00 termination happens at 17:00, not at the next polling cycle; a
// cron job re-reads the queue periodically to pick up events other replicas stored.
type Scheduler struct {
	engine   *Engine
	timer    NewTimer
	resync   string // cron spec
	logger   *slog.Logger
	wake     chan struct{}
	OnRunDue func(n int, err error) // observes each pass; tests use it to wait
	// ReuseAfter, when set, releases terminated people's usernames daily once this old.
	ReuseAfter time.Duration
}

// NewScheduler returns a scheduler over the engine. resync is a cron spec ("@every 1m" when
// empty); timer is RealTimer when nil.
func NewScheduler(e *Engine, timer NewTimer, resync string, logger *slog.Logger) *Scheduler {
	if timer == nil {
		timer = RealTimer
	}
	if resync == "" {
		resync = "@every 1m"
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{engine: e, timer: timer, resync: resync, logger: logger, wake: make(chan struct{}, 1)}
}

// Wake makes the scheduler re-read the queue now; the engine calls it after storing future
// events. It never blocks.
func (s *Scheduler) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run applies due events until ctx is done.
func (s *Scheduler) Run(ctx context.Context) error {
	c := cron.New()
	if _, err := c.AddFunc(s.resync, s.Wake); err != nil {
		return err
	}
	if s.ReuseAfter > 0 {
		if _, err := c.AddFunc("@daily", func() {
			if n, err := s.engine.ReleaseUsernames(ctx, s.ReuseAfter); err != nil {
				s.logger.Error("releasing usernames", "err", err)
			} else if n > 0 {
				s.logger.Info("released usernames", "count", n)
			}
		}); err != nil {
			return err
		}
	}
	c.Start()
	defer c.Stop()
	for {
		n, err := s.engine.ApplyDue(ctx)
		if err != nil {
			s.logger.Error("applying due hr events", "err", err)
		} else if n > 0 {
			s.logger.Info("applied due hr events", "count", n)
		}
		if s.OnRunDue != nil {
			s.OnRunDue(n, err)
		}
		var fire <-chan time.Time
		var t Timer
		if at, ok, err := s.engine.NextDue(ctx); err != nil {
			s.logger.Error("reading the hr event queue", "err", err)
		} else if ok {
			t = s.timer(max(at.Sub(s.engine.now()), 0))
			fire = t.C()
		}
		select {
		case <-ctx.Done():
			if t != nil {
				t.Stop()
			}
			return nil
		case <-fire:
		case <-s.wake:
			if t != nil {
				t.Stop()
			}
		}
	}
}
