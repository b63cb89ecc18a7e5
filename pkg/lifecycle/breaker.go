package lifecycle

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/tenure-id/tenure/pkg/identity"
)

// ErrHeld means the mass-change breaker stopped a batch; nothing of it was applied.
var ErrHeld = errors.New("held by the mass-change breaker")

// Breaker holds a batch that would terminate, suspend or move too many people at once.
type Breaker struct {
	// Percent of active people a batch may disrupt; more trips the breaker. 5 when zero.
	Percent float64
	// MinChanges is the fewest disruptive changes that can ever trip it. 3 when zero.
	MinChanges int
}

// disruptive are the events the breaker counts: people losing access or changing position.
var disruptive = map[identity.EventType]bool{identity.Terminate: true, identity.ContractEnd: true,
	identity.Leave: true, identity.Transfer: true}

// HeldError is the report of a held batch: what it would do and the limit it passes.
type HeldError struct {
	Changes int                        `json:"changes"` // disruptive changes in the batch
	Active  int64                      `json:"active"`  // active people when it was checked
	Limit   int                        `json:"limit"`   // the most changes allowed
	ByType  map[identity.EventType]int `json:"by_type"` // disruptive changes per event type
}

func (e *HeldError) Error() string {
	types := make([]string, 0, len(e.ByType))
	for t, n := range e.ByType {
		types = append(types, fmt.Sprintf("%d %s", n, t))
	}
	sort.Strings(types)
	return fmt.Sprintf("held by the mass-change breaker, nothing applied: %d disruptive changes (%s) against %d active people, limit %d; rerun with --allow-mass-change if this is intended",
		e.Changes, strings.Join(types, ", "), e.Active, e.Limit)
}

// Is makes errors.Is(err, ErrHeld) true.
func (e *HeldError) Is(target error) bool { return target == ErrHeld }

// Check returns a *HeldError when events disrupt more than the threshold of active people.
func (b Breaker) Check(events []identity.Event, active int64) error {
	pct, min := b.Percent, b.MinChanges
	if pct <= 0 {
		pct = 5
	}
	if min <= 0 {
		min = 3
	}
	byType := map[identity.EventType]int{}
	n := 0
	for _, e := range events {
		if disruptive[e.Type] {
			byType[e.Type]++
			n++
		}
	}
	limit := int(math.Floor(float64(active) * pct / 100))
	if limit < min-1 {
		limit = min - 1
	}
	if n > limit {
		return &HeldError{Changes: n, Active: active, Limit: limit, ByType: byType}
	}
	return nil
}
