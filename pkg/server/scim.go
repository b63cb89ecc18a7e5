package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/hr"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/lifecycle"
	"github.com/tenure-id/tenure/pkg/scimserver"
)

// SCIMConfig configures the SCIM service provider under /scim/v2.
type SCIMConfig struct {
	Directory scimserver.Directory
	Engine    HRSubmitter
	// Clock dates the events SCIM writes become; it must be the engine's, so they are due.
	Clock func() time.Time
	// Limits paces each token (NewTokenLimiter); nil for no limit.
	Limits *TokenLimiter
	Logger *slog.Logger
}

// NewSCIM returns the SCIM service provider's handler, to be mounted at /scim/v2 (Config.SCIM).
func NewSCIM(cfg SCIMConfig) (http.Handler, error) {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	p, err := scimserver.New(scimserver.Config{Directory: cfg.Directory, Lifecycle: SCIMLifecycle{Engine: cfg.Engine, Clock: cfg.Clock},
		WithActor: audit.WithActor, Clock: cfg.Clock, Logger: cfg.Logger, Allow: func(token string) (bool, time.Duration) { return cfg.Limits.Allow("scim:" + token) }})
	if err != nil {
		return nil, err
	}
	return p.Handler(), nil
}

// SCIMLifecycle turns SCIM writes into HR events effective now, submitted to the lifecycle
// engine like the webhook's: a create is a hire, a deactivation a termination.
type SCIMLifecycle struct {
	Engine HRSubmitter
	Clock  func() time.Time
}

var _ scimserver.Lifecycle = SCIMLifecycle{}

// overlay is d with what SCIM holds replaced by c.
func overlay(d hr.Data, c scimserver.Change) hr.Data {
	d.FirstName, d.LastName, d.PreferredName, d.WorkEmail = c.FirstName, c.LastName, c.PreferredName, c.WorkEmail
	d.EmploymentType, d.JobTitle, d.CostCenter, d.ManagerID = c.EmploymentType, c.JobTitle, c.CostCenter, c.ManagerEmployeeID
	d.Organization, d.Division, d.Department, d.Team = c.Organization, c.Division, c.Department, c.Team
	if c.StartDate != nil { // as in HR, a start date is moved, never removed
		d.StartDate = c.StartDate
	}
	d.EndDate = c.EndDate
	return d
}

func (l SCIMLifecycle) current(ctx context.Context, emp string) (hr.Data, error) {
	d, ok, err := l.Engine.CurrentData(ctx, emp)
	if err != nil {
		return d, err
	}
	if !ok {
		return d, &identity.NotFoundError{Kind: "person", Key: emp}
	}
	return d, nil
}

// Hire implements scimserver.Lifecycle.
func (l SCIMLifecycle) Hire(ctx context.Context, c scimserver.Change) error {
	d := overlay(hr.Data{}, c)
	d.Username = c.Username
	return l.submit(ctx, l.event(identity.Hire, c.EmployeeID, d))
}

// Change implements scimserver.Lifecycle: a transfer when the position (org path, title)
// changes, a manager change, and an attribute change for the rest, in one batch.
func (l SCIMLifecycle) Change(ctx context.Context, c scimserver.Change) error {
	cur, err := l.current(ctx, c.EmployeeID)
	if err != nil {
		return err
	}
	next := overlay(cur, c)
	var evs []identity.Event
	if hr.PathString(next.OrgPath()) != hr.PathString(cur.OrgPath()) || next.JobTitle != cur.JobTitle {
		evs = append(evs, l.event(identity.Transfer, c.EmployeeID, next))
	}
	if next.ManagerID != cur.ManagerID {
		evs = append(evs, l.event(identity.ManagerChange, c.EmployeeID, next))
	}
	if next.FirstName != cur.FirstName || next.LastName != cur.LastName || next.PreferredName != cur.PreferredName ||
		next.WorkEmail != cur.WorkEmail || next.EmploymentType != cur.EmploymentType || next.CostCenter != cur.CostCenter ||
		!sameDay(next.StartDate, cur.StartDate) || !sameDay(next.EndDate, cur.EndDate) {
		// A pre-hire's changed start date moves their activation, as HR's attribute change does.
		evs = append(evs, l.event(identity.AttributeChange, c.EmployeeID, next))
	}
	return l.submit(ctx, evs...)
}

// Rehire implements scimserver.Lifecycle.
func (l SCIMLifecycle) Rehire(ctx context.Context, c scimserver.Change) error {
	cur, err := l.current(ctx, c.EmployeeID)
	if err != nil {
		return err
	}
	next := overlay(cur, c)
	next.StartDate, next.EndDate = nil, nil // a rehire now: the old dates are the previous stint's
	return l.submit(ctx, l.event(identity.Rehire, c.EmployeeID, next))
}

// Return implements scimserver.Lifecycle.
func (l SCIMLifecycle) Return(ctx context.Context, emp string) error {
	return l.status(ctx, identity.Return, emp)
}

// Terminate implements scimserver.Lifecycle.
func (l SCIMLifecycle) Terminate(ctx context.Context, emp string) error {
	return l.status(ctx, identity.Terminate, emp)
}

func (l SCIMLifecycle) status(ctx context.Context, t identity.EventType, emp string) error {
	cur, err := l.current(ctx, emp)
	if err != nil {
		return err
	}
	return l.submit(ctx, l.event(t, emp, cur))
}

func (l SCIMLifecycle) event(t identity.EventType, emp string, d hr.Data) identity.Event {
	payload, _ := json.Marshal(d) // plain strings and times: cannot fail
	// Truncated as the engine truncates its own now, so the event is due, not scheduled.
	return identity.Event{Type: t, EmployeeID: emp, EffectiveAt: l.Clock().UTC().Truncate(time.Microsecond), Source: "scim", Payload: payload, State: identity.EventPending}
}

// submit applies the events, after a dry run: an illegal transition found by the dry run
// leaves no rejected event behind, and a batch is never applied in part because of one.
func (l SCIMLifecycle) submit(ctx context.Context, evs ...identity.Event) error {
	if len(evs) == 0 {
		return nil
	}
	for _, dry := range []bool{true, false} {
		rep, err := l.Engine.Submit(ctx, evs, lifecycle.SubmitOptions{DryRun: dry})
		var held *lifecycle.HeldError
		if errors.As(err, &held) {
			return fmt.Errorf("%w: %v", scimserver.ErrHeld, err)
		}
		if err != nil {
			return err
		}
		for _, o := range rep.Outcomes {
			if o.Event.State == identity.EventRejected {
				return fmt.Errorf("%w: %s", scimserver.ErrRejected, o.Event.Error)
			}
		}
	}
	return nil
}

func sameDay(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}
