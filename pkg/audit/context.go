package audit

import (
	"context"
	"strings"
)

type actorKey struct{}
type reasonKey struct{}

// SystemActor is recorded when a change carries no actor: work Tenure started by itself.
const SystemActor = "system"

// WithActor names who is making the changes done with ctx, e.g. "cli:alice" or "hr:webhook".
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, strings.TrimSpace(actor))
}

// Actor returns the actor set by WithActor, or SystemActor.
func Actor(ctx context.Context) string {
	if a, _ := ctx.Value(actorKey{}).(string); a != "" {
		return a
	}
	return SystemActor
}

// WithReason attaches a free-text reason ("ticket IT-42") to the changes done with ctx.
func WithReason(ctx context.Context, reason string) context.Context {
	return context.WithValue(ctx, reasonKey{}, reason)
}

// Reason returns the reason set by WithReason, if any.
func Reason(ctx context.Context) string {
	r, _ := ctx.Value(reasonKey{}).(string)
	return r
}
