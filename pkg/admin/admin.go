// Package admin holds the operations IT and auditors run on the directory — listing and
// showing people, the org tree, access with its reasons, exception grants, the outbox,
// reports and the audit chain — shared by the tenure CLI and the admin REST API, so that the
// two answer alike and cannot drift. Both front ends only parse, call and print.
package admin

import (
	"fmt"
	"strings"

	"github.com/tenure-id/tenure/pkg/identity"
)

// ParamError is a request with a bad parameter. Msg is a whole sentence that starts with the
// parameter's name when it is about its value, so the API can show it as is and the CLI can
// put its flag's spelling in front.
type ParamError struct {
	Param string // snake_case, as the API spells it
	Msg   string
	// Usage marks a mistake in the request's form (CLI exit 2, HTTP 400) rather than one the
	// directory's state reveals, such as an approver who is not active (exit 1, HTTP 422).
	Usage bool
	Err   error
}

func (e *ParamError) Error() string { return e.Msg }
func (e *ParamError) Unwrap() error { return e.Err }

func usage(param, format string, args ...any) error {
	return &ParamError{Param: param, Msg: fmt.Sprintf(format, args...), Usage: true}
}

func refused(param string, err error, format string, args ...any) error {
	return &ParamError{Param: param, Msg: fmt.Sprintf(format, args...), Err: err}
}

// conflictError is a request the directory's state refuses; errors.Is(err, ErrConflict).
type conflictError struct{ msg string }

func (e *conflictError) Error() string        { return e.msg }
func (e *conflictError) Is(target error) bool { return target == identity.ErrConflict }

func conflictf(format string, args ...any) error {
	return &conflictError{msg: fmt.Sprintf(format, args...)}
}

// Who names a person as the CLI and messages do: "Display Name (E001)".
func Who(p identity.Person) string { return fmt.Sprintf("%s (%s)", p.DisplayName(), p.EmployeeID) }

// GrantKey is APP or APP:KIND:NAME.
func GrantKey(app, ent string) string {
	if ent == "" {
		return app
	}
	return app + ":" + ent
}

func nonEmpty(s string) bool { return strings.TrimSpace(s) != "" }
