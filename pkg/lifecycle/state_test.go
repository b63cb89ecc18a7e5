package lifecycle

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/identity"
)

// TestTransitionTable walks every state × event × employment type: the legal moves give the
// listed state, and every other combination is an illegal transition.
func TestTransitionTable(t *testing.T) {
	legal := map[string]identity.Status{
		"-/hire": identity.Active, "pre_hire/hire": identity.Active,
		"terminated/rehire": identity.Active,
		"active/leave":      identity.OnLeave, "on_leave/return": identity.Active,
	}
	for _, s := range working {
		for _, e := range []identity.EventType{identity.Transfer, identity.ManagerChange, identity.AttributeChange} {
			legal[string(s)+"/"+string(e)] = s
		}
		legal[string(s)+"/terminate"] = identity.Terminated
		legal[string(s)+"/contract_end"] = identity.Terminated // not for employees; see below
	}
	states := append([]identity.Status{absent}, identity.Statuses...)
	for _, from := range states {
		for _, ev := range identity.EventTypes {
			for _, et := range identity.EmploymentTypes {
				name := string(from)
				if from == absent {
					name = "-"
				}
				key := name + "/" + string(ev)
				t.Run(fmt.Sprintf("%s/%s", key, et), func(t *testing.T) {
					to, err := Transition("E1", from, ev, et)
					want, ok := legal[key]
					if ev == identity.ContractEnd && et == identity.Employee {
						ok = false
					}
					if ok {
						if err != nil || to != want {
							t.Fatalf("got %q, %v; want %q", to, err, want)
						}
						return
					}
					var te *TransitionError
					if !errors.Is(err, ErrIllegalTransition) || !errors.As(err, &te) || te.From != from || te.Event != ev {
						t.Fatalf("got %q, %v; want an illegal transition", to, err)
					}
					if to != from || !strings.Contains(err.Error(), "employee E1") {
						t.Fatalf("illegal move changed state to %q or error %q lacks the employee", to, err)
					}
				})
			}
		}
	}
}

func TestFoldAndGenerate(t *testing.T) {
	folds := map[string]string{"José": "jose", "Ñúñez": "nunez", "Zoë Brontë": "zoebronte", "Søren": "soren",
		"Müller": "muller", "Straße": "strasse", "O'Brien": "obrien", "Al-Sayed": "alsayed", "Łukasz": "lukasz", "李": ""}
	for in, want := range folds {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
	taken := map[string]bool{"jose.nunez": true, "jose.nunez2@piedpiper.test": true, "a.b": false}
	isTaken := func(c string) (bool, error) { return taken[c], nil }
	tests := []struct {
		pattern, first, last, user, email string
	}{
		{"", "José", "Ñúñez", "jose.nunez3", "jose.nunez3@piedpiper.test"}, // 2 is free as a name, but its email is not
		{"{f}{last}", "Ada", "Lovelace", "alovelace", "alovelace@piedpiper.test"},
		{"{first}_{l}", "Ada", "Lovelace", "ada_l", "ada_l@piedpiper.test"},
		{"", "", "Cher", "cher", "cher@piedpiper.test"},
	}
	for _, tt := range tests {
		u, e, err := Naming{Pattern: tt.pattern, Domain: "PiedPiper.test"}.Generate(tt.first, tt.last, isTaken)
		if err != nil || u != tt.user || e != tt.email {
			t.Errorf("Generate(%q, %q, %q) = %q, %q, %v; want %q, %q", tt.pattern, tt.first, tt.last, u, e, err, tt.user, tt.email)
		}
	}
	if _, _, err := (Naming{}).Generate("李", "", isTaken); err == nil {
		t.Error("a name with no foldable letters should be an error, not an empty username")
	}
}

func TestBreakerThreshold(t *testing.T) {
	evs := func(n int, typ identity.EventType) []identity.Event {
		out := make([]identity.Event, n)
		for i := range out {
			out[i] = identity.Event{Type: typ, EmployeeID: fmt.Sprint("E", i)}
		}
		return out
	}
	tests := []struct {
		name   string
		b      Breaker
		events []identity.Event
		active int64
		held   bool
	}{
		{"two terminations never trip by default", Breaker{}, evs(2, identity.Terminate), 10, false},
		{"three trip when over 5 %", Breaker{}, evs(3, identity.Terminate), 40, true},
		{"5 % of 1000 is 50", Breaker{}, evs(50, identity.Transfer), 1000, false},
		{"51 of 1000 trips", Breaker{}, evs(51, identity.Leave), 1000, true},
		{"attribute changes do not count", Breaker{}, evs(500, identity.AttributeChange), 1000, false},
		{"hires do not count", Breaker{}, evs(500, identity.Hire), 10, false},
		{"custom percent", Breaker{Percent: 20}, evs(8, identity.ContractEnd), 40, false},
		{"custom minimum", Breaker{MinChanges: 10}, evs(9, identity.Terminate), 40, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.b.Check(tt.events, tt.active)
			if held := errors.Is(err, ErrHeld); held != tt.held {
				t.Fatalf("Check = %v, want held=%v", err, tt.held)
			}
		})
	}
}

func TestOrderPutsManagersAndJoinersFirst(t *testing.T) {
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	ev := func(typ identity.EventType, emp, mgr string, at time.Time) identity.Event {
		return identity.Event{Type: typ, EmployeeID: emp, EffectiveAt: at, Payload: mustJSON(map[string]string{"manager_id": mgr})}
	}
	got := order([]identity.Event{
		ev(identity.Terminate, "E9", "", now.Add(time.Hour)),
		ev(identity.ContractEnd, "C1", "", now.AddDate(-1, 0, 0)), // long due: happens now, after C1's hire
		ev(identity.Hire, "E3", "E2", now),
		ev(identity.Transfer, "E5", "E3", now),
		ev(identity.Hire, "E2", "E1", now),
		ev(identity.Hire, "C1", "E3", now),
		ev(identity.Hire, "E1", "", now),
	}, now)
	var seq []string
	for _, e := range got {
		seq = append(seq, string(e.Type)+":"+e.EmployeeID)
	}
	want := "hire:E1 hire:E2 hire:E3 hire:C1 transfer:E5 contract_end:C1 terminate:E9"
	if strings.Join(seq, " ") != want {
		t.Fatalf("order = %s\nwant    %s", strings.Join(seq, " "), want)
	}
}
