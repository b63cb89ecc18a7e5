package directory

import (
	"context"
	"encoding/json"
	"time"

	"github.com/tenure-id/tenure/pkg/identity"
)

// OpState is where an outbox operation stands.
type OpState string

const (
	OpPending OpState = "pending" // waiting for a worker (possibly until NextAttemptAt)
	OpRunning OpState = "running" // leased by a worker until LeaseUntil
	OpDone    OpState = "done"    // the app holds the change
	OpFailed  OpState = "failed"  // the app refused it; not retried until `tenure ops retry`
	OpDead    OpState = "dead"    // retried MaxAttempts times without success
)

// OpStates lists every state, in the order a lifecycle moves through them.
var OpStates = []OpState{OpPending, OpRunning, OpDone, OpFailed, OpDead}

// OutboxOp is one provisioning operation, stored before any worker attempts it.
type OutboxOp struct {
	ID int64 `json:"id"`
	// Key is the idempotency key: while an op with a key is pending or running, enqueuing the
	// same key again stores nothing.
	Key      string `json:"key"`
	App      string `json:"app"`
	Kind     string `json:"kind"`
	PersonID string `json:"person_id,omitempty"`
	// Chain orders ops on one account: an op is not claimed while an older op of its chain is
	// pending or running (an account's create before its memberships).
	Chain  string `json:"chain"`
	Urgent bool   `json:"urgent,omitempty"`
	// Payload is the operation itself, as the provisioner encoded it.
	Payload       json.RawMessage `json:"payload"`
	State         OpState         `json:"state"`
	Attempts      int             `json:"attempts"`
	NextAttemptAt time.Time       `json:"next_attempt_at"`
	// LastError is the app's answer to the last attempt (never a credential).
	LastError  string     `json:"last_error,omitempty"`
	LeaseOwner string     `json:"lease_owner,omitempty"`
	LeaseUntil *time.Time `json:"lease_until,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// OutboxClaim says which ops a worker wants.
type OutboxClaim struct {
	Owner string        // who holds the lease; results from anyone else are refused
	Limit int           // at most this many ops
	Lease time.Duration // how long before another worker may take the op over
	// Apps, when set, limits the claim to these apps; Skip leaves these out (apps paused
	// for a rate limit). Quarantined apps are always left out.
	Apps []string
	Skip []string
	// IDs, when set, limits the claim to these ops.
	IDs []int64
	// UrgentOnly claims only urgent ops (a leaver's disables), which skip every queue.
	UrgentOnly bool
}

// OutboxResult is the outcome of one attempt at a leased op.
type OutboxResult struct {
	ID int64
	// State is OpDone, OpPending (retry at NextAttemptAt), OpFailed or OpDead.
	State OpState
	// Release hands a pending op back unattempted (its app paused or rate limited): the
	// claim's attempt is taken back and nothing counts as a failure. Error, when set, is kept
	// as the op's last error (why it waits).
	Release       bool
	NextAttemptAt time.Time
	Error         string
	// Account, on success, is what the app now holds; it replaces the directory's record of
	// the account (nil leaves the record alone).
	Account *identity.Account
	// QuarantineAfter consecutive failures of the op's app quarantine the app (0: never).
	QuarantineAfter int
	// Audit is what the audit record of a finished op says about it.
	Audit any
}

// OutboxApp is an app's standing with the workers.
type OutboxApp struct {
	App string `json:"app"`
	// Failures counts consecutive failed attempts; a success resets it.
	Failures      int        `json:"consecutive_failures"`
	QuarantinedAt *time.Time `json:"quarantined_at,omitempty"`
	LastError     string     `json:"last_error,omitempty"`
}

// OutboxFilter narrows ListOps. Zero values do not filter.
type OutboxFilter struct {
	States []OpState
	App    string
	IDs    []int64
	Limit  int
}

// OutboxRetry says which ops `tenure ops retry` requeues: failed and dead ops of App (every
// app when empty) or with the given IDs. The apps concerned are lifted out of quarantine.
type OutboxRetry struct {
	App string
	IDs []int64
}

// Outbox is the durable queue of provisioning operations.
type Outbox interface {
	// EnqueueOps stores ops as pending, skipping any whose key a pending or running op
	// already holds. It returns the op standing for each input, new or existing, in order.
	EnqueueOps(ctx context.Context, ops []OutboxOp) ([]OutboxOp, error)
	// ClaimOps leases up to c.Limit due ops: pending ones whose time has come and running ones
	// whose lease expired, urgent first, then oldest. Two claimers never get the same op.
	// Claiming counts an attempt, so an op that crashes its worker still runs out of tries.
	ClaimOps(ctx context.Context, c OutboxClaim) ([]OutboxOp, error)
	// FinishOps records attempts in one transaction: each op must still be leased by owner
	// (otherwise its result is dropped and its ID returned in stale). Finished ops are audited,
	// successful ones update the account record, and the app's failure count moves.
	FinishOps(ctx context.Context, owner string, results []OutboxResult) (stale []int64, err error)
	// OpenOps counts, per app, the ops among ids that are still pending or running.
	OpenOps(ctx context.Context, ids []int64) (map[string]int, error)
	GetOp(ctx context.Context, id int64) (OutboxOp, error)
	ListOps(ctx context.Context, f OutboxFilter) ([]OutboxOp, error)
	// RetryOps makes failed and dead ops pending again with fresh attempts and lifts the
	// quarantine of their apps (of r.App, or every app for an empty retry). It returns how
	// many ops it requeued.
	RetryOps(ctx context.Context, r OutboxRetry) (int, error)
	// OutboxApps returns the apps that have failures or are quarantined.
	OutboxApps(ctx context.Context) ([]OutboxApp, error)
	// PurgeOps deletes the ops that finished done before doneBefore and returns how many. The
	// audit log keeps what each did (provision.KIND.done); failed and dead ops stay until
	// someone acts on them. Each batch deleted is one audit record with its count.
	PurgeOps(ctx context.Context, doneBefore time.Time) (int, error)
}
