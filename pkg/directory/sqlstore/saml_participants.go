package sqlstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// samlParticipantRow is one service provider a session signed in to. The index on
// (sp_entity_id, name_id) serves the lookup of an SP's LogoutRequest, which names the subject
// but not our session ID.
type samlParticipantRow struct {
	SessionID       string    `gorm:"primaryKey;size:36"`
	SPEntityID      string    `gorm:"column:sp_entity_id;primaryKey;size:1024;index:ix_saml_participants_nameid,priority:1"`
	NameID          string    `gorm:"column:name_id;size:1024;not null;index:ix_saml_participants_nameid,priority:2"`
	NameIDFormat    string    `gorm:"column:name_id_format;size:256"`
	NameQualifier   string    `gorm:"size:1024"`
	SPNameQualifier string    `gorm:"column:sp_name_qualifier;size:1024"`
	SessionIndex    string    `gorm:"size:256"`
	CreatedAt       time.Time `gorm:"autoCreateTime:false"`
}

func (samlParticipantRow) TableName() string { return "saml_session_participants" }

func init() { registerModels(&samlParticipantRow{}) }

var _ directory.SAMLSessions = (*Store)(nil)

func (r samlParticipantRow) participant() directory.SAMLParticipant {
	return directory.SAMLParticipant{SessionID: r.SessionID, SPEntityID: r.SPEntityID, NameID: r.NameID,
		NameIDFormat: r.NameIDFormat, NameQualifier: r.NameQualifier, SPNameQualifier: r.SPNameQualifier,
		SessionIndex: r.SessionIndex, CreatedAt: utc(r.CreatedAt)}
}

// AddSAMLParticipant records a session participant; see directory.SAMLSessions.
func (s *Store) AddSAMLParticipant(ctx context.Context, p directory.SAMLParticipant) error {
	switch {
	case p.SessionID == "":
		return &identity.FieldError{Field: "session_id", Reason: "required"}
	case p.SPEntityID == "":
		return &identity.FieldError{Field: "sp_entity_id", Reason: "required"}
	case p.NameID == "":
		return &identity.FieldError{Field: "name_id", Reason: "required"}
	}
	return s.write(ctx, func(tx *Store) error {
		db := tx.db.WithContext(ctx)
		// Checked in the writer's transaction: a sign-out that deleted the session first leaves
		// no row behind, and one that comes after deletes this row with the session.
		var n int64
		if err := db.Model(&authSessionRow{}).Where("id = ? AND stage = ?", p.SessionID, directory.StageSigned).Count(&n).Error; err != nil {
			return fmt.Errorf("read session: %w", err)
		}
		if n == 0 {
			return &identity.NotFoundError{Kind: "session", Key: p.SessionID}
		}
		row := samlParticipantRow{SessionID: p.SessionID, SPEntityID: p.SPEntityID, NameID: p.NameID,
			NameIDFormat: p.NameIDFormat, NameQualifier: p.NameQualifier, SPNameQualifier: p.SPNameQualifier,
			SessionIndex: p.SessionIndex, CreatedAt: tx.now()}
		err := db.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "session_id"}, {Name: "sp_entity_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"name_id", "name_id_format", "name_qualifier", "sp_name_qualifier", "session_index", "created_at"}),
		}).Create(&row).Error
		if err != nil {
			return fmt.Errorf("record session participant: %w", err)
		}
		return nil
	})
}

// SAMLParticipants lists one session's participants; see directory.SAMLSessions.
func (s *Store) SAMLParticipants(ctx context.Context, sessionID string) ([]directory.SAMLParticipant, error) {
	return s.participantsWhere(ctx, "session_id = ?", sessionID)
}

// FindSAMLParticipants lists a service provider's rows for a NameID; see directory.SAMLSessions.
func (s *Store) FindSAMLParticipants(ctx context.Context, spEntityID, nameID string) ([]directory.SAMLParticipant, error) {
	return s.participantsWhere(ctx, "sp_entity_id = ? AND name_id = ?", spEntityID, nameID)
}

func (s *Store) participantsWhere(ctx context.Context, query string, args ...any) ([]directory.SAMLParticipant, error) {
	var rows []samlParticipantRow
	if err := s.read(ctx).Where(query, args...).Order("created_at, session_id, sp_entity_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read session participants: %w", err)
	}
	out := make([]directory.SAMLParticipant, len(rows))
	for i, r := range rows {
		out[i] = r.participant()
	}
	return out, nil
}

// deleteSessionParticipants removes, in tx, the participant rows of the sessions that
// sessionIDs (a query on authn_sessions selecting id) selects, before those sessions go.
func (s *Store) deleteSessionParticipants(ctx context.Context, sessionIDs *gorm.DB) (int, error) {
	res := s.db.WithContext(ctx).Where("session_id IN (?)", sessionIDs).Delete(&samlParticipantRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("delete session participants: %w", res.Error)
	}
	return int(res.RowsAffected), nil
}

// sessionIDs selects the IDs of the sessions matching query.
func (s *Store) sessionIDs(query string, args ...any) *gorm.DB {
	return s.db.Model(&authSessionRow{}).Select("id").Where(query, args...)
}
