// Package provision makes the apps match policy: it compares desired accounts (policy grants
// over the directory) with the accounts each app really holds, plans the difference as ordered
// operations (a pure function), and applies a plan through a durable outbox whose workers honour
// each app's rate limits.
package provision

import (
	"time"

	"github.com/tenure-id/tenure/pkg/connector"
)

// Plan is what apply would do, per app. Ops within an app are in the order they must run.
type Plan struct {
	GeneratedAt time.Time `json:"generated_at"`
	Apps        []AppPlan `json:"apps"`
}

// AppPlan is one app's share of a plan.
type AppPlan struct {
	App string `json:"app"`
	Ops []Step `json:"operations"`
	// Orphans are accounts in the app that no person correlates to. They are reported; they
	// become operations only when the app's orphan mode is "enforce".
	Orphans []connector.Account `json:"orphans,omitempty"`
	// Drift lists fields and memberships someone changed in the app since Tenure last set
	// them. They become operations only when the app's drift mode is "enforce".
	Drift []Drift `json:"drift,omitempty"`
	// Conflicts are correlations Tenure refuses to guess (an account two people match, a
	// person two accounts match); no operation is planned for the people involved.
	Conflicts []Conflict `json:"conflicts,omitempty"`
	// Error is set when the app could not be read; its plan is then empty, and other apps'
	// plans stand.
	Error string `json:"error,omitempty"`
}

// Step is one planned operation.
type Step struct {
	connector.Op
	// Urgent steps (a leaver's disable) jump the queue ahead of other work in every app.
	Urgent bool `json:"urgent,omitempty"`
}

// Count returns the number of steps in the plan.
func (p Plan) Count() int {
	n := 0
	for _, a := range p.Apps {
		n += len(a.Ops)
	}
	return n
}
