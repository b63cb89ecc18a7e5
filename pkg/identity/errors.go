package identity

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Callers compare with errors.Is; the concrete errors below wrap them and add
// the detail a person needs to act (which field, which value).
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrInvalid  = errors.New("invalid")
	// ErrStale means an update was computed from a version that another writer has replaced.
	ErrStale = errors.New("stale version")
	// ErrAmbiguous means a lookup key names more than one object (a username that is also
	// someone else's employee ID, say).
	ErrAmbiguous = errors.New("ambiguous")
)

// AmbiguousError says which key named whom. It matches ErrAmbiguous.
type AmbiguousError struct {
	Kind       string // "person", ...
	Key        string
	EmployeeID []string // the people it names
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("%q is ambiguous: it names the people with employee IDs %s; use one of those", e.Key, strings.Join(e.EmployeeID, ", "))
}

// Is makes errors.Is(err, ErrAmbiguous) true.
func (e *AmbiguousError) Is(target error) bool { return target == ErrAmbiguous }

// ConflictError reports a uniqueness violation on one field, e.g. two people with the same
// work email. It matches ErrConflict.
type ConflictError struct {
	Kind  string // "person", "org_unit", ...
	Field string // "employee_id", "username", "work_email", ...
	Value string
}

func (e *ConflictError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("conflict: another %s already has this %s", e.Kind, e.Field)
	}
	return fmt.Sprintf("conflict: another %s already has %s %q", e.Kind, e.Field, e.Value)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// NotFoundError says which kind of object was looked up by which key.
type NotFoundError struct {
	Kind string
	Key  string
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("%s %q not found", e.Kind, e.Key) }

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// FieldError reports one invalid field of an object. It matches ErrInvalid.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return fmt.Sprintf("invalid %s: %s", e.Field, e.Reason) }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
