package policy

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tenure-id/tenure/pkg/identity"
)

// Error is one problem in a policy file, located precisely enough to fix it without searching.
type Error struct {
	File  string `json:"file"`
	Line  int    `json:"line"`
	Field string `json:"field"`
	Msg   string `json:"error"`
}

func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Field, e.Msg)
}

// Is makes errors.Is(err, identity.ErrInvalid) true.
func (e *Error) Is(target error) bool { return target == identity.ErrInvalid }

// Errors is every problem found in a policy directory, in file and line order.
type Errors []*Error

func (es Errors) Error() string {
	if len(es) == 1 {
		return es[0].Error()
	}
	return fmt.Sprintf("%d policy errors, first: %v", len(es), es[0])
}

// Unwrap lets errors.As find an individual *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

func (es Errors) sorted() Errors {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].File != es[j].File {
			return es[i].File < es[j].File
		}
		return es[i].Line < es[j].Line
	})
	return es
}

// errs collects errors while loading, so one run reports them all.
type errs struct{ list Errors }

func (c *errs) add(p Pos, field, format string, args ...any) {
	c.list = append(c.list, &Error{File: p.File, Line: p.Line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

func quoteList(vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}
