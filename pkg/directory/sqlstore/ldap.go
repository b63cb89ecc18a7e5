package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// ldapEntryRow is one silo account. The key column is entry_key because KEY is a keyword.
type ldapEntryRow struct {
	ID             string `gorm:"primaryKey;size:36"`
	Source         string `gorm:"size:100;not null;uniqueIndex:ux_ldap_entries_source_key,priority:1"`
	Key            string `gorm:"column:entry_key;size:300;not null;uniqueIndex:ux_ldap_entries_source_key,priority:2"`
	DN             string `gorm:"column:dn;type:text"`
	Username       string `gorm:"size:200"`
	Email          string `gorm:"size:320"`
	EmployeeNumber string `gorm:"size:64"`
	DisplayName    string `gorm:"size:300"`
	FirstName      string `gorm:"size:200"`
	LastName       string `gorm:"size:200"`
	Attributes     string `gorm:"type:text"` // JSON object
	Status         string `gorm:"size:16;not null"`
	Stamp          string `gorm:"size:100"`
	PersonID       string `gorm:"size:36;index"`
	Link           string `gorm:"size:16;not null"`
	LinkRule       string `gorm:"size:100"`
	Candidates     string `gorm:"type:text"` // JSON array of person IDs
	LinkNote       string `gorm:"type:text"`
	RemovedAt      *time.Time
	Version        int64 `gorm:"not null"`
	CreatedAt      time.Time
	UpdatedAt      time.Time `gorm:"autoUpdateTime:false"`
}

func (ldapEntryRow) TableName() string { return "ldap_entries" }

type ldapSyncStateRow struct {
	Source     string `gorm:"primaryKey;size:100"`
	HighWater  string `gorm:"size:100"`
	LastFull   *time.Time
	LastSync   *time.Time
	LastError  string    `gorm:"type:text"`
	LastResult string    `gorm:"type:text"`
	UpdatedAt  time.Time `gorm:"autoUpdateTime:false"`
}

func (ldapSyncStateRow) TableName() string { return "ldap_sync_states" }

func init() { registerModels(&ldapEntryRow{}, &ldapSyncStateRow{}) }

var _ directory.LDAPFederation = (*Store)(nil)

func toLDAPEntryRow(e directory.LDAPEntry) ldapEntryRow {
	return ldapEntryRow{ID: e.ID, Source: e.Source, Key: e.Key, DN: e.DN, Username: e.Username, Email: e.Email,
		EmployeeNumber: e.EmployeeNumber, DisplayName: e.DisplayName, FirstName: e.FirstName, LastName: e.LastName,
		Attributes: stringMapColumn(e.Attributes),
		Status:     string(e.Status), Stamp: e.Stamp, PersonID: e.PersonID, Link: string(e.Link), LinkRule: e.LinkRule,
		Candidates: stringsColumn(e.Candidates), LinkNote: e.LinkNote, RemovedAt: utcPtr(e.RemovedAt), Version: e.Version,
		CreatedAt: utc(e.CreatedAt), UpdatedAt: utc(e.UpdatedAt)}
}

func (r ldapEntryRow) entry() (directory.LDAPEntry, error) {
	attrs, err := fromJSON[map[string]string](r.Attributes)
	if err != nil {
		return directory.LDAPEntry{}, fmt.Errorf("ldap entry %s/%s: attributes: %w", r.Source, r.Key, err)
	}
	cands, err := fromJSON[[]string](r.Candidates)
	if err != nil {
		return directory.LDAPEntry{}, fmt.Errorf("ldap entry %s/%s: candidates: %w", r.Source, r.Key, err)
	}
	e := directory.LDAPEntry{ID: r.ID, Source: r.Source, Key: r.Key, DN: r.DN, Username: r.Username, Email: r.Email,
		EmployeeNumber: r.EmployeeNumber, DisplayName: r.DisplayName, FirstName: r.FirstName, LastName: r.LastName,
		Attributes: attrs, Status: directory.LDAPEntryStatus(r.Status), Stamp: r.Stamp, PersonID: r.PersonID,
		Link: directory.LinkState(r.Link), LinkRule: r.LinkRule, Candidates: cands, LinkNote: r.LinkNote,
		RemovedAt: utcPtr(r.RemovedAt), Version: r.Version, CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt)}
	liftNames(&e)
	return e, nil
}

// liftNames moves first and last names out of the attributes of entries stored before they
// had columns of their own, so such an entry reads as a sync writes it now and the next
// sync finds nothing to change.
func liftNames(e *directory.LDAPEntry) {
	if len(e.Attributes) == 0 {
		return
	}
	lift := func(name string, field *string) {
		if v, ok := e.Attributes[name]; ok {
			if *field == "" {
				*field = v
			}
			delete(e.Attributes, name)
		}
	}
	lift("first_name", &e.FirstName)
	lift("last_name", &e.LastName)
	if len(e.Attributes) == 0 {
		e.Attributes = nil
	}
}

func ldapTarget(e directory.LDAPEntry) string { return "ldap_entry:" + e.Source + "/" + e.Key }

// inChunk bounds IN lists well under every backend's parameter limit.
const inChunk = 500

// PutLDAPEntries upserts a batch of entries; see directory.LDAPFederation.
func (s *Store) PutLDAPEntries(ctx context.Context, entries []directory.LDAPEntry) error {
	seen := map[[2]string]bool{}
	for i, e := range entries {
		if err := e.Validate(); err != nil {
			return fmt.Errorf("ldap entry %d (%s/%s): %w", i+1, e.Source, e.Key, err)
		}
		k := [2]string{e.Source, e.Key}
		if seen[k] {
			return fmt.Errorf("ldap entry %d: %w", i+1, &identity.FieldError{Field: "key", Reason: fmt.Sprintf("%s/%s is listed twice", e.Source, e.Key)})
		}
		seen[k] = true
	}
	return s.write(ctx, func(tx *Store) error {
		old, err := tx.loadLDAPEntries(ctx, entries)
		if err != nil {
			return err
		}
		if err := tx.checkPeopleExist(ctx, entries, old); err != nil {
			return err
		}
		now := tx.now()
		var inserts [][]any
		var records []identity.AuditRecord
		db := tx.db.WithContext(ctx)
		for _, e := range entries {
			before, exists := old[[2]string{e.Source, e.Key}]
			if !exists {
				e.ID, e.Version, e.CreatedAt, e.UpdatedAt = newID(), 1, now, now
				inserts = append(inserts, toLDAPEntryRow(e).values())
				rec, err := auditRecord("ldap_entry.create", ldapTarget(e), nil, ldapAudit(e))
				if err != nil {
					return err
				}
				records = append(records, rec)
				continue
			}
			if before.SameSynced(e) {
				continue
			}
			e.ID, e.Version, e.CreatedAt, e.UpdatedAt = before.ID, before.Version+1, before.CreatedAt, now
			row := toLDAPEntryRow(e)
			res := db.Model(&ldapEntryRow{}).Where("id = ? AND version = ?", e.ID, before.Version).
				Select("*").Omit("id", "created_at").Updates(&row)
			if res.Error != nil {
				return fmt.Errorf("update %s: %w", ldapTarget(e), res.Error)
			}
			if res.RowsAffected != 1 {
				return fmt.Errorf("update %s: %w", ldapTarget(e), identity.ErrStale)
			}
			rec, err := auditRecord("ldap_entry.update", ldapTarget(e), ldapAudit(before), ldapAudit(e))
			if err != nil {
				return err
			}
			records = append(records, rec)
		}
		if err := tx.insertRows(ctx, "ldap_entries", ldapEntryCols, inserts); err != nil {
			return conflict(err, "ldap_entry", nil)
		}
		return tx.appendAuditBatch(ctx, records)
	})
}

// loadLDAPEntries reads the stored versions of entries, keyed by source and key.
func (s *Store) loadLDAPEntries(ctx context.Context, entries []directory.LDAPEntry) (map[[2]string]directory.LDAPEntry, error) {
	bySource := map[string][]string{}
	for _, e := range entries {
		bySource[e.Source] = append(bySource[e.Source], e.Key)
	}
	out := make(map[[2]string]directory.LDAPEntry, len(entries))
	for source, keys := range bySource {
		for chunk := range slices.Chunk(keys, inChunk) {
			var rows []ldapEntryRow
			q := s.lockRow(s.db.WithContext(ctx)).Where("source = ? AND entry_key IN ?", source, chunk)
			if err := q.Find(&rows).Error; err != nil {
				return nil, fmt.Errorf("read ldap entries of %s: %w", source, err)
			}
			for _, r := range rows {
				e, err := r.entry()
				if err != nil {
					return nil, err
				}
				out[[2]string{e.Source, e.Key}] = e
			}
		}
	}
	return out, nil
}

// checkPeopleExist rejects links to people that do not exist; links already stored were
// checked when written.
func (s *Store) checkPeopleExist(ctx context.Context, entries []directory.LDAPEntry, old map[[2]string]directory.LDAPEntry) error {
	want := map[string]bool{}
	for _, e := range entries {
		if e.PersonID != "" && old[[2]string{e.Source, e.Key}].PersonID != e.PersonID {
			want[e.PersonID] = true
		}
	}
	ids := slices.Sorted(maps.Keys(want))
	found := map[string]bool{}
	for chunk := range slices.Chunk(ids, inChunk) {
		var got []string
		if err := s.db.WithContext(ctx).Model(&personRow{}).Where("id IN ?", chunk).Pluck("id", &got).Error; err != nil {
			return fmt.Errorf("check linked people: %w", err)
		}
		for _, id := range got {
			found[id] = true
		}
	}
	for _, id := range ids {
		if !found[id] {
			return &identity.FieldError{Field: "person_id", Reason: fmt.Sprintf("no person with ID %q", id)}
		}
	}
	return nil
}

// GetLDAPEntry reads one entry.
func (s *Store) GetLDAPEntry(ctx context.Context, source, key string) (directory.LDAPEntry, error) {
	var row ldapEntryRow
	if err := s.read(ctx).Where("source = ? AND entry_key = ?", source, key).Take(&row).Error; err != nil {
		return directory.LDAPEntry{}, notFound(err, "ldap entry", source+"/"+key)
	}
	return row.entry()
}

// ListLDAPEntries returns entries by source and key.
func (s *Store) ListLDAPEntries(ctx context.Context, f directory.LDAPEntryFilter) ([]directory.LDAPEntry, error) {
	query := func(keys, people []string) ([]ldapEntryRow, error) {
		q := s.read(ctx)
		if f.Source != "" {
			q = q.Where("source = ?", f.Source)
		}
		if f.PersonID != "" {
			q = q.Where("person_id = ?", f.PersonID)
		}
		if len(f.Links) > 0 {
			q = q.Where("link IN ?", f.Links)
		}
		if len(f.Statuses) > 0 {
			q = q.Where("status IN ?", f.Statuses)
		}
		if keys != nil {
			q = q.Where("entry_key IN ?", keys)
		}
		if people != nil {
			q = q.Where("person_id IN ?", people)
		}
		var rows []ldapEntryRow
		if err := q.Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("list ldap entries: %w", err)
		}
		return rows, nil
	}
	var rows []ldapEntryRow
	switch {
	case f.Keys == nil && f.PersonIDs == nil:
		var err error
		if rows, err = query(nil, nil); err != nil {
			return nil, err
		}
	case f.Keys != nil:
		for chunk := range slices.Chunk(f.Keys, inChunk) {
			got, err := query(chunk, f.PersonIDs)
			if err != nil {
				return nil, err
			}
			rows = append(rows, got...)
		}
	default:
		for chunk := range slices.Chunk(f.PersonIDs, inChunk) {
			got, err := query(nil, chunk)
			if err != nil {
				return nil, err
			}
			rows = append(rows, got...)
		}
	}
	slices.SortFunc(rows, func(a, b ldapEntryRow) int {
		if a.Source != b.Source {
			return strings.Compare(a.Source, b.Source)
		}
		return strings.Compare(a.Key, b.Key)
	})
	out := make([]directory.LDAPEntry, len(rows))
	for i, r := range rows {
		e, err := r.entry()
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

// LinkLDAPEntry records an administrator's decision; see directory.LDAPFederation.
func (s *Store) LinkLDAPEntry(ctx context.Context, source, key, personID string) (directory.LDAPEntry, error) {
	action := "ldap_entry.link"
	return s.changeLDAPEntry(ctx, source, key, func(tx *Store, e *directory.LDAPEntry) error {
		if personID == "" {
			action = "ldap_entry.exclude"
			e.Link, e.PersonID, e.LinkRule = directory.LinkExcluded, "", "manual"
		} else {
			if _, err := tx.GetPerson(ctx, personID); err != nil {
				return err
			}
			e.Link, e.PersonID, e.LinkRule = directory.LinkManual, personID, "manual"
		}
		e.Candidates, e.LinkNote = nil, ""
		return nil
	}, &action)
}

// UnlinkLDAPEntry hands the entry back to the correlation rules.
func (s *Store) UnlinkLDAPEntry(ctx context.Context, source, key string) (directory.LDAPEntry, error) {
	action := "ldap_entry.unlink"
	return s.changeLDAPEntry(ctx, source, key, func(_ *Store, e *directory.LDAPEntry) error {
		e.Link, e.PersonID, e.LinkRule, e.Candidates, e.LinkNote = directory.LinkUnmatched, "", "", nil, ""
		return nil
	}, &action)
}

func (s *Store) changeLDAPEntry(ctx context.Context, source, key string, fn func(*Store, *directory.LDAPEntry) error, action *string) (directory.LDAPEntry, error) {
	var out directory.LDAPEntry
	err := s.write(ctx, func(tx *Store) error {
		var row ldapEntryRow
		if err := tx.lockRow(tx.db.WithContext(ctx)).Where("source = ? AND entry_key = ?", source, key).Take(&row).Error; err != nil {
			return notFound(err, "ldap entry", source+"/"+key)
		}
		before, err := row.entry()
		if err != nil {
			return err
		}
		e := before
		if err := fn(tx, &e); err != nil {
			return err
		}
		e.Version, e.UpdatedAt = before.Version+1, tx.now()
		r := toLDAPEntryRow(e)
		res := tx.db.WithContext(ctx).Model(&ldapEntryRow{}).Where("id = ? AND version = ?", e.ID, before.Version).
			Select("*").Omit("id", "created_at").Updates(&r)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("%s: %w", ldapTarget(e), identity.ErrStale)
		}
		out = e
		return tx.audit(ctx, *action, ldapTarget(e), ldapAudit(before), ldapAudit(e))
	})
	return out, err
}

// LDAPSyncState returns the source's state, the zero state when it never synced.
func (s *Store) LDAPSyncState(ctx context.Context, source string) (directory.LDAPSyncState, error) {
	var row ldapSyncStateRow
	err := s.read(ctx).Where("source = ?", source).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return directory.LDAPSyncState{Source: source}, nil
	}
	if err != nil {
		return directory.LDAPSyncState{}, fmt.Errorf("ldap sync state %s: %w", source, err)
	}
	return row.state(), nil
}

func (r ldapSyncStateRow) state() directory.LDAPSyncState {
	return directory.LDAPSyncState{Source: r.Source, HighWater: r.HighWater, LastFull: utcPtr(r.LastFull),
		LastSync: utcPtr(r.LastSync), LastError: r.LastError, LastResult: r.LastResult, UpdatedAt: utc(r.UpdatedAt)}
}

// PutLDAPSyncState stores the state of one source after a run.
func (s *Store) PutLDAPSyncState(ctx context.Context, st directory.LDAPSyncState) error {
	if st.Source == "" {
		return &identity.FieldError{Field: "source", Reason: "required"}
	}
	return s.write(ctx, func(tx *Store) error {
		before, err := tx.LDAPSyncState(ctx, st.Source)
		if err != nil {
			return err
		}
		st.UpdatedAt = tx.now()
		row := ldapSyncStateRow{Source: st.Source, HighWater: st.HighWater, LastFull: utcPtr(st.LastFull),
			LastSync: utcPtr(st.LastSync), LastError: st.LastError, LastResult: st.LastResult, UpdatedAt: st.UpdatedAt}
		if err := tx.db.WithContext(ctx).Save(&row).Error; err != nil {
			return fmt.Errorf("store ldap sync state %s: %w", st.Source, err)
		}
		var prev any
		if !before.UpdatedAt.IsZero() {
			prev = before
		}
		return tx.audit(ctx, "ldap_sync_state.put", "ldap_source:"+st.Source, prev, st)
	})
}
