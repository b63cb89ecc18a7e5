package sqlstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"time"

	"gorm.io/gorm"
)

// schemaRow records which schema the database holds. Migrate compares it with the fingerprint
// of the row types compiled into this binary and skips AutoMigrate when they match: gorm's
// AutoMigrate on SQLite rebuilds tables whose declared types it cannot compare, which on a
// large directory takes seconds for nothing.
type schemaRow struct {
	ID          int    `gorm:"primaryKey;autoIncrement:false"`
	Fingerprint string `gorm:"size:64;not null"`
	MigratedAt  time.Time
}

func (schemaRow) TableName() string { return "schema_version" }

// schemaFingerprint hashes every registered row type's table name, field names, types and
// tags: any change to a model changes it, so new tables and columns always get migrated.
func schemaFingerprint() string {
	h := sha256.New()
	for _, m := range allModels {
		t := reflect.TypeOf(m).Elem()
		name := t.Name()
		if tn, ok := m.(interface{ TableName() string }); ok {
			name = tn.TableName()
		}
		fmt.Fprintf(h, "table %s\n", name)
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			fmt.Fprintf(h, "%s %s %q\n", f.Name, f.Type, f.Tag)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Migrate creates or updates the schema. It is idempotent and cheap on a current schema.
func (s *Store) Migrate(ctx context.Context) error {
	db := s.db.WithContext(ctx)
	want := schemaFingerprint()
	if current, err := s.schemaFingerprintInDB(db); err != nil {
		return err
	} else if current == want {
		return nil
	}
	if err := db.AutoMigrate(append([]any{&schemaRow{}}, allModels...)...); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, step := range afterMigrate {
		if err := step(db); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	row := schemaRow{ID: 1, Fingerprint: want, MigratedAt: s.now()}
	if err := db.Save(&row).Error; err != nil {
		return fmt.Errorf("migrate: record schema version: %w", err)
	}
	return nil
}

// afterMigrate holds the steps AutoMigrate cannot take by itself, such as dropping an index a
// model no longer declares; each must be idempotent, as it runs on every schema change.
var afterMigrate []func(db *gorm.DB) error

func registerAfterMigrate(step func(db *gorm.DB) error) { afterMigrate = append(afterMigrate, step) }

func (s *Store) schemaFingerprintInDB(db *gorm.DB) (string, error) {
	if !db.Migrator().HasTable(&schemaRow{}) {
		return "", nil
	}
	var row schemaRow
	err := db.Where("id = 1").Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("migrate: read schema version: %w", err)
	}
	return row.Fingerprint, nil
}
