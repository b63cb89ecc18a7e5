package directory

import "time"

// OutboxStat counts one app's ops in one state.
type OutboxStat struct {
	App   string
	State OpState
	Count int
	// Oldest is when the longest-waiting op was enqueued; set for pending ops only.
	Oldest time.Time
}
