// Package lifecycle is the joiner/mover/leaver engine: it applies HR events to the directory
// through a state machine, at their effective moment, behind a mass-change breaker.
package lifecycle

import (
	"errors"
	"fmt"

	"github.com/tenure-id/tenure/pkg/identity"
)

// ErrIllegalTransition matches every *TransitionError.
var ErrIllegalTransition = errors.New("illegal lifecycle transition")

// absent is the state of someone the directory does not know yet.
const absent identity.Status = ""

// TransitionError says which event cannot happen to whom, and why.
type TransitionError struct {
	EmployeeID string
	Event      identity.EventType
	From       identity.Status
	Why        string
}

func (e *TransitionError) Error() string {
	from := string(e.From)
	if e.From == absent {
		from = "not in the directory"
	}
	return fmt.Sprintf("illegal transition: %s for employee %s (%s): %s", e.Event, e.EmployeeID, from, e.Why)
}

// Is makes errors.Is(err, ErrIllegalTransition) true.
func (e *TransitionError) Is(target error) bool { return target == ErrIllegalTransition }

// working are the states in which a person holds a position that can change.
var working = []identity.Status{identity.PreHire, identity.Active, identity.OnLeave, identity.Suspended}

// Transition is the state machine: the status event t moves a person from from to, or a
// *TransitionError. Hires and rehires land in active; the engine turns that into pre_hire when
// the start date is still ahead.
//
//	absent ─hire─▶ pre_hire ─hire (start date)─▶ active ⇄ on_leave (leave / return)
//	working ─terminate─▶ terminated ─rehire─▶ active; contractors/vendors/interns: contract_end
func Transition(emp string, from identity.Status, t identity.EventType, et identity.EmploymentType) (identity.Status, error) {
	fail := func(why string) (identity.Status, error) {
		return from, &TransitionError{EmployeeID: emp, Event: t, From: from, Why: why}
	}
	in := func(states ...identity.Status) bool {
		for _, s := range states {
			if s == from {
				return true
			}
		}
		return false
	}
	switch t {
	case identity.Hire:
		switch from {
		case absent, identity.PreHire:
			return identity.Active, nil
		case identity.Terminated:
			return fail("a former worker comes back with rehire, which keeps their identity")
		}
		return fail("already hired")
	case identity.Rehire:
		if from == identity.Terminated {
			return identity.Active, nil
		}
		if from == absent {
			return fail("only a terminated person can be rehired; use hire")
		}
		return fail("not terminated")
	case identity.Transfer, identity.ManagerChange, identity.AttributeChange:
		if in(working...) {
			return from, nil
		}
		return fail("only a current worker can change position or attributes")
	case identity.Leave:
		if from == identity.Active {
			return identity.OnLeave, nil
		}
		return fail("only an active person can go on leave")
	case identity.Return:
		if from == identity.OnLeave {
			return identity.Active, nil
		}
		return fail("only a person on leave can return")
	case identity.Terminate:
		if in(working...) {
			return identity.Terminated, nil
		}
		return fail("only a current worker can be terminated")
	case identity.ContractEnd:
		if et == identity.Employee {
			return fail("contract_end applies to contractors, vendors and interns; employees are terminated")
		}
		if in(working...) {
			return identity.Terminated, nil
		}
		return fail("only a current worker's contract can end")
	}
	return fail("unknown event type")
}
