package directory

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/tenure-id/tenure/pkg/identity"
)

// LDAPEntryStatus is what the silo last said about an entry.
type LDAPEntryStatus string

const (
	LDAPEntryActive   LDAPEntryStatus = "active"
	LDAPEntryDisabled LDAPEntryStatus = "disabled"
	// LDAPEntryRemoved: a full sync no longer found the entry. The row stays, so the history of
	// who had an account where survives; the linked person is never touched.
	LDAPEntryRemoved LDAPEntryStatus = "removed"
)

// LinkState says how (or whether) a silo entry belongs to a person.
type LinkState string

const (
	// LinkAuto: a correlation rule found exactly one person. Later syncs keep it unless the
	// rules come to point at someone else, which becomes a conflict.
	LinkAuto LinkState = "auto"
	// LinkManual: an administrator linked it; syncs never change it.
	LinkManual LinkState = "manual"
	// LinkUnmatched: no rule found anyone. Listed for review, never turned into a new person.
	LinkUnmatched LinkState = "unmatched"
	// LinkConflict: the rules were ambiguous; an administrator must decide.
	LinkConflict LinkState = "conflict"
	// LinkExcluded: an administrator said the entry belongs to nobody (a service account,
	// say); syncs leave it unlinked.
	LinkExcluded LinkState = "excluded"
)

// LDAPEntry is one silo account as last synced, and its link to a person.
type LDAPEntry struct {
	ID     string `json:"id"`
	Source string `json:"source"`
	// Key is the silo's stable identifier (entryUUID, AD objectGUID): DNs change on renames.
	Key            string            `json:"key"`
	DN             string            `json:"dn"`
	Username       string            `json:"username,omitempty"`
	Email          string            `json:"email,omitempty"`
	EmployeeNumber string            `json:"employee_number,omitempty"`
	DisplayName    string            `json:"display_name,omitempty"`
	FirstName      string            `json:"first_name,omitempty"`
	LastName       string            `json:"last_name,omitempty"`
	Attributes     map[string]string `json:"attributes,omitempty"`
	Status         LDAPEntryStatus   `json:"status"`
	// Stamp is the entry's change marker (entryCSN, modifyTimestamp or uSNChanged).
	Stamp    string    `json:"stamp,omitempty"`
	PersonID string    `json:"person_id,omitempty"`
	Link     LinkState `json:"link"`
	// LinkRule names the rule that linked the entry, or "manual".
	LinkRule string `json:"link_rule,omitempty"`
	// Candidates are the people a conflict could belong to; LinkNote says why it is one.
	Candidates []string   `json:"candidates,omitempty"`
	LinkNote   string     `json:"link_note,omitempty"`
	RemovedAt  *time.Time `json:"removed_at,omitempty"`
	Version    int64      `json:"version"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// LDAPSyncState is what a source's sync remembers between runs.
type LDAPSyncState struct {
	Source string `json:"source"`
	// HighWater is the greatest change stamp a completed sync has seen; incremental syncs ask
	// only for entries changed at or after it.
	HighWater  string     `json:"high_water,omitempty"`
	LastFull   *time.Time `json:"last_full,omitempty"`
	LastSync   *time.Time `json:"last_sync,omitempty"`
	LastError  string     `json:"last_error,omitempty"`
	LastResult string     `json:"last_result,omitempty"` // the summary of the last run, as JSON
	UpdatedAt  time.Time  `json:"updated_at"`
}

// LDAPEntryFilter narrows ListLDAPEntries. Zero values do not filter.
type LDAPEntryFilter struct {
	Source   string
	PersonID string
	Links    []LinkState
	Statuses []LDAPEntryStatus
	// Keys and PersonIDs select entries by key or linked person: an incremental sync reads
	// only the entries it touches. Lists of any length work.
	Keys      []string
	PersonIDs []string
}

// LDAPFederation keeps silo entries, their links to people and each source's sync state.
type LDAPFederation interface {
	// PutLDAPEntries creates or replaces entries by (Source, Key) in one transaction, one audit
	// record per entry that changed; an entry equal to the stored one is no change. Versions,
	// IDs and timestamps are the store's. A link to an unknown person is ErrInvalid, and then
	// nothing is written.
	PutLDAPEntries(ctx context.Context, entries []LDAPEntry) error
	GetLDAPEntry(ctx context.Context, source, key string) (LDAPEntry, error)
	// ListLDAPEntries returns entries by source and key.
	ListLDAPEntries(ctx context.Context, f LDAPEntryFilter) ([]LDAPEntry, error)
	// LinkLDAPEntry links an entry to a person by hand (LinkManual); personID "" excludes it
	// (LinkExcluded). Either way syncs will not change the decision.
	LinkLDAPEntry(ctx context.Context, source, key, personID string) (LDAPEntry, error)
	// UnlinkLDAPEntry hands the entry back to the correlation rules (LinkUnmatched until the
	// next sync decides).
	UnlinkLDAPEntry(ctx context.Context, source, key string) (LDAPEntry, error)
	// LDAPSyncState returns the source's state; an unknown source has the zero state.
	LDAPSyncState(ctx context.Context, source string) (LDAPSyncState, error)
	PutLDAPSyncState(ctx context.Context, st LDAPSyncState) error
}

// Validate checks the fields every stored entry needs.
func (e LDAPEntry) Validate() error {
	switch {
	case e.Source == "":
		return &identity.FieldError{Field: "source", Reason: "required"}
	case e.Key == "":
		return &identity.FieldError{Field: "key", Reason: "required"}
	case e.Status != LDAPEntryActive && e.Status != LDAPEntryDisabled && e.Status != LDAPEntryRemoved:
		return &identity.FieldError{Field: "status", Reason: "\"" + string(e.Status) + "\" is not one of active|disabled|removed"}
	}
	switch e.Link {
	case LinkAuto, LinkManual:
		if e.PersonID == "" {
			return &identity.FieldError{Field: "person_id", Reason: "a linked entry names its person"}
		}
	case LinkUnmatched, LinkConflict, LinkExcluded:
		if e.PersonID != "" {
			return &identity.FieldError{Field: "person_id", Reason: "only linked entries name a person"}
		}
	default:
		return &identity.FieldError{Field: "link", Reason: "\"" + string(e.Link) + "\" is not one of auto|manual|unmatched|conflict|excluded"}
	}
	return nil
}

// SameSynced reports whether a and b agree on everything a sync controls: what the silo says
// and how the entry is linked, not the store's bookkeeping (ID, version, timestamps). Unchanged
// entries cost no write and no audit record.
func (a LDAPEntry) SameSynced(b LDAPEntry) bool {
	return a.DN == b.DN && a.Username == b.Username && a.Email == b.Email && a.EmployeeNumber == b.EmployeeNumber &&
		a.DisplayName == b.DisplayName && a.FirstName == b.FirstName && a.LastName == b.LastName &&
		(len(a.Attributes) == 0 && len(b.Attributes) == 0 || maps.Equal(a.Attributes, b.Attributes)) &&
		a.Status == b.Status && a.Stamp == b.Stamp && a.PersonID == b.PersonID && a.Link == b.Link &&
		a.LinkRule == b.LinkRule && slices.Equal(a.Candidates, b.Candidates) && a.LinkNote == b.LinkNote &&
		sameTime(a.RemovedAt, b.RemovedAt)
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}
