package identity

import (
	"encoding/json"
	"strings"
	"time"
)

// EventType is one joiner/mover/leaver change HR can report.
type EventType string

const (
	Hire            EventType = "hire"
	Rehire          EventType = "rehire"
	Transfer        EventType = "transfer"
	ManagerChange   EventType = "manager_change"
	AttributeChange EventType = "attribute_change"
	Leave           EventType = "leave"
	Return          EventType = "return"
	Terminate       EventType = "terminate"
	ContractEnd     EventType = "contract_end"
)

// EventTypes lists every event type.
var EventTypes = []EventType{Hire, Rehire, Transfer, ManagerChange, AttributeChange, Leave, Return, Terminate, ContractEnd}

// Valid reports whether t is one of EventTypes.
func (t EventType) Valid() bool { return oneOf(t, EventTypes) }

// EventState tracks an event from receipt to its effect.
type EventState string

const (
	EventPending  EventState = "pending"  // stored, waiting for its effective moment
	EventApplied  EventState = "applied"  // took effect
	EventRejected EventState = "rejected" // could not take effect (illegal transition, ...); Error says why
	EventHeld     EventState = "held"     // stopped by a safety check until released
)

// Event is an effective-dated change to one person. It is stored before it takes effect, so a
// future-dated termination survives restarts and fires at EffectiveAt.
type Event struct {
	ID          string          `json:"id"`
	ExternalID  string          `json:"external_id,omitempty"` // the sender's event ID; unique, makes pushes idempotent
	Type        EventType       `json:"type"`
	EmployeeID  string          `json:"employee_id"`
	PersonID    string          `json:"person_id,omitempty"`
	EffectiveAt time.Time       `json:"effective_at"`
	Source      string          `json:"source"` // "roster:FILE", "webhook", "cli", ...
	Payload     json.RawMessage `json:"payload,omitempty"`
	State       EventState      `json:"state"`
	Error       string          `json:"error,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	AppliedAt   *time.Time      `json:"applied_at,omitempty"`
}

// Validate checks the event on its own.
func (e Event) Validate() error {
	switch {
	case !e.Type.Valid():
		return invalid("type", "%q is not one of %s", e.Type, join(EventTypes))
	case strings.TrimSpace(e.EmployeeID) == "":
		return invalid("employee_id", "required")
	case e.EffectiveAt.IsZero():
		return invalid("effective_at", "required")
	case !oneOf(e.State, []EventState{EventPending, EventApplied, EventRejected, EventHeld}):
		return invalid("state", "%q is not one of pending|applied|rejected|held", e.State)
	case len(e.Payload) > 0 && !json.Valid(e.Payload):
		return invalid("payload", "not valid JSON")
	}
	return nil
}

// AuditRecord is one entry of the append-only, hash-chained audit log. Hash covers every other
// field and PrevHash, so changing or removing any record breaks the chain after it.
type AuditRecord struct {
	Seq      int64           `json:"seq"`
	Time     time.Time       `json:"time"`
	Actor    string          `json:"actor"`  // "cli:alice", "hr:webhook", "system:scheduler", ...
	Action   string          `json:"action"` // "person.create", "grant.delete", ...
	Target   string          `json:"target"` // "person:<id>", "org_unit:<id>", ...
	Before   json.RawMessage `json:"before,omitempty"`
	After    json.RawMessage `json:"after,omitempty"`
	Reason   string          `json:"reason,omitempty"`
	PrevHash string          `json:"prev_hash"` // hex SHA-256; empty for the first record
	Hash     string          `json:"hash"`      // hex SHA-256
}
