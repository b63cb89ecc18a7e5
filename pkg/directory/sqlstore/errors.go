package sqlstore

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/tenure-id/tenure/pkg/identity"
)

// uniqueFields maps unique constraints (PostgreSQL names the index; SQLite names the columns)
// to the field a person sees in the error.
var uniqueFields = map[string]string{
	"ux_people_employee_id":       "employee_id",
	"people.employee_id":          "employee_id",
	"ux_people_username":          "username",
	"people.username":             "username",
	"ux_people_work_email":        "work_email",
	"people.work_email":           "work_email",
	"ux_org_units_parent_name":    "name",
	"org_units.parent_id":         "name",
	"ux_groups_source_name":       "name",
	"groups.source":               "name",
	"ux_apps_name":                "name",
	"apps.name":                   "name",
	"ux_accounts_app_external_id": "external_id",
	"accounts.app":                "external_id",
	"ux_events_external_id":       "external_id",
	"events.external_id":          "external_id",
}

// uniqueViolation reports whether err is a unique-constraint violation and on which field.
func uniqueViolation(err error) (field string, ok bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		if pgErr.Code != "23505" {
			return "", false
		}
		if f, ok := uniqueFields[pgErr.ConstraintName]; ok {
			return f, true
		}
		return pgErr.ConstraintName, true
	}
	// Both SQLite drivers say "UNIQUE constraint failed: table.col[, table.col2]".
	msg := err.Error()
	i := strings.Index(msg, "UNIQUE constraint failed: ")
	if i < 0 {
		return "", false
	}
	cols := msg[i+len("UNIQUE constraint failed: "):]
	first, _, _ := strings.Cut(cols, ",")
	// Some drivers append the extended result code: "people.username (2067)".
	first, _, _ = strings.Cut(strings.TrimSpace(first), " ")
	if f, ok := uniqueFields[first]; ok {
		return f, true
	}
	return first, true
}

// conflict turns a unique violation into a ConflictError naming the field; other errors pass.
func conflict(err error, kind string, values map[string]string) error {
	if err == nil {
		return nil
	}
	field, ok := uniqueViolation(err)
	if !ok {
		return err
	}
	return &identity.ConflictError{Kind: kind, Field: field, Value: values[field]}
}

func notFound(err error, kind, key string) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return &identity.NotFoundError{Kind: kind, Key: key}
	}
	return err
}
