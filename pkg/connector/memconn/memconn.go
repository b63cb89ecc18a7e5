// Package memconn is an in-process target app: a connector.Connector over a map, strict about
// uniqueness like a real app, with injectable faults and latency. It serves engine tests and the
// apply benchmarks, where an HTTP fake would measure the network instead of the engine.
package memconn

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tenure-id/tenure/pkg/connector"
)

// App is one in-memory target app. It is safe for concurrent use.
type App struct {
	traits connector.Traits

	mu       sync.Mutex
	nextID   int
	accounts map[string]*connector.Account // by ID
	faults   []error
	latency  time.Duration
	calls    map[connector.OpKind]int
	lists    int
}

// New returns an empty app with the given traits.
func New(traits connector.Traits) *App {
	return &App{traits: traits, accounts: map[string]*connector.Account{}, calls: map[connector.OpKind]int{}}
}

var _ interface {
	connector.Connector
	connector.Finder
	connector.Describer
} = (*App)(nil)

// Traits implements connector.Describer.
func (a *App) Traits() connector.Traits { return a.traits }

// FailNext makes the next n calls (List, Find or Apply) fail with err before touching state.
func (a *App) FailNext(err error, n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for range n {
		a.faults = append(a.faults, err)
	}
}

// SetLatency makes every call take at least d, as a remote app would.
func (a *App) SetLatency(d time.Duration) {
	a.mu.Lock()
	a.latency = d
	a.mu.Unlock()
}

// Calls returns how many Apply calls of kind succeeded.
func (a *App) Calls(kind connector.OpKind) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls[kind]
}

// Put stores an account as if someone had made it in the app directly (for adoption, drift
// and orphan tests). It returns the account with its ID.
func (a *App) Put(acc connector.Account) connector.Account {
	a.mu.Lock()
	defer a.mu.Unlock()
	if acc.ID == "" {
		a.nextID++
		acc.ID = "u" + strconv.Itoa(a.nextID)
	}
	c := clone(acc)
	a.accounts[acc.ID] = &c
	return clone(c)
}

// Snapshot returns every account, sorted by user name.
func (a *App) Snapshot() []connector.Account {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.listLocked()
}

func (a *App) listLocked() []connector.Account {
	out := make([]connector.Account, 0, len(a.accounts))
	for _, acc := range a.accounts {
		out = append(out, clone(*acc))
	}
	slices.SortFunc(out, func(x, y connector.Account) int { return strings.Compare(x.UserName, y.UserName) })
	return out
}

// begin waits out the latency and pops a fault, if any.
func (a *App) begin(ctx context.Context) error {
	a.mu.Lock()
	lat := a.latency
	var fault error
	if len(a.faults) > 0 {
		fault, a.faults = a.faults[0], a.faults[1:]
	}
	a.mu.Unlock()
	if lat > 0 {
		t := time.NewTimer(lat)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return fault
}

// List implements connector.Connector.
func (a *App) List(ctx context.Context) ([]connector.Account, error) {
	if err := a.begin(ctx); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.lists++
	return a.listLocked(), nil
}

// Find implements connector.Finder.
func (a *App) Find(ctx context.Context, m connector.Match) (connector.Account, error) {
	if err := a.begin(ctx); err != nil {
		return connector.Account{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if acc := a.findLocked(m); acc != nil {
		return clone(*acc), nil
	}
	return connector.Account{}, &connector.Error{Kind: connector.ErrNotFound, Status: 404, Detail: "no account matches"}
}

func (a *App) findLocked(m connector.Match) *connector.Account {
	keys := []struct {
		want string
		get  func(*connector.Account) string
	}{
		{m.ExternalID, func(x *connector.Account) string { return x.ExternalID }},
		{strings.ToLower(m.UserName), func(x *connector.Account) string { return strings.ToLower(x.UserName) }},
		{strings.ToLower(m.Email), func(x *connector.Account) string { return strings.ToLower(x.Email) }},
	}
	for _, k := range keys {
		if k.want == "" {
			continue
		}
		for _, acc := range a.accounts {
			if k.get(acc) == k.want {
				return acc
			}
		}
	}
	return nil
}

// Apply implements connector.Connector.
func (a *App) Apply(ctx context.Context, op connector.Op) (connector.Account, error) {
	if err := a.begin(ctx); err != nil {
		return connector.Account{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	acc, err := a.applyLocked(op)
	if err != nil {
		return connector.Account{}, err
	}
	a.calls[op.Kind]++
	return clone(*acc), nil
}

func (a *App) applyLocked(op connector.Op) (*connector.Account, error) {
	if op.Kind == connector.OpCreate {
		return a.createLocked(op.Account)
	}
	acc, ok := a.accounts[op.AccountID]
	if !ok {
		if op.Kind == connector.OpDelete || op.Kind == connector.OpRemoveMember {
			return &connector.Account{ID: op.AccountID}, nil // already gone: nothing to do
		}
		return nil, &connector.Error{Kind: connector.ErrNotFound, Status: 404, Detail: fmt.Sprintf("account %q", op.AccountID)}
	}
	switch op.Kind {
	case connector.OpUpdate:
		if err := a.uniqueLocked(op.Account, acc.ID); err != nil {
			return nil, err
		}
		upd := clone(op.Account)
		upd.ID, upd.Memberships = acc.ID, acc.Memberships
		*acc = upd
	case connector.OpEnable:
		acc.Active = true
	case connector.OpDisable:
		acc.Active = false
	case connector.OpDelete:
		delete(a.accounts, acc.ID)
	case connector.OpAddMember, connector.OpRemoveMember:
		if op.Entitlement == "" {
			return nil, &connector.Error{Kind: connector.ErrInvalid, Status: 400, Detail: "membership without an entitlement"}
		}
		i := slices.Index(acc.Memberships, op.Entitlement)
		if op.Kind == connector.OpAddMember && i < 0 {
			acc.Memberships = append(acc.Memberships, op.Entitlement)
			slices.Sort(acc.Memberships)
		}
		if op.Kind == connector.OpRemoveMember && i >= 0 {
			acc.Memberships = slices.Delete(acc.Memberships, i, i+1)
		}
	default:
		return nil, &connector.Error{Kind: connector.ErrInvalid, Status: 400, Detail: fmt.Sprintf("unknown operation %q", op.Kind)}
	}
	return acc, nil
}

func (a *App) createLocked(want connector.Account) (*connector.Account, error) {
	if want.UserName == "" {
		return nil, &connector.Error{Kind: connector.ErrInvalid, Status: 400, Detail: "userName is required"}
	}
	if want.ExternalID != "" {
		if acc := a.findLocked(connector.Match{ExternalID: want.ExternalID}); acc != nil {
			return acc, nil // the create already happened: adopt, never duplicate
		}
	}
	if err := a.uniqueLocked(want, ""); err != nil {
		return nil, err
	}
	a.nextID++
	c := clone(want)
	c.ID = "u" + strconv.Itoa(a.nextID)
	a.accounts[c.ID] = &c
	return &c, nil
}

// uniqueLocked refuses a user name or email another account holds, as SCIM apps answer 409.
func (a *App) uniqueLocked(want connector.Account, self string) error {
	for _, acc := range a.accounts {
		if acc.ID == self {
			continue
		}
		if strings.EqualFold(acc.UserName, want.UserName) {
			return &connector.Error{Kind: connector.ErrConflict, Status: 409, Detail: fmt.Sprintf("userName %q is taken", want.UserName)}
		}
		if want.Email != "" && strings.EqualFold(acc.Email, want.Email) {
			return &connector.Error{Kind: connector.ErrConflict, Status: 409, Detail: fmt.Sprintf("email %q is taken", want.Email)}
		}
	}
	return nil
}

func clone(a connector.Account) connector.Account {
	if a.Attributes != nil {
		m := make(map[string]string, len(a.Attributes))
		for k, v := range a.Attributes {
			m[k] = v
		}
		a.Attributes = m
	}
	a.Memberships = slices.Clone(a.Memberships)
	return a
}
