// Package connectortest is the conformance suite every connector must pass against its fake. It
// checks the contract documented on connector.Connector through the interface alone: creation
// and adoption by ExternalID, uniqueness conflicts, updates of the fields the app stores,
// disable/enable, memberships of every kind the app manages, deletion, unknown accounts,
// invalid requests, the app's own rate limiting and server errors (injected by the fake in its
// own wire form), timeouts through the context, paging, and credentials kept out of errors.
//
//	func TestConformance(t *testing.T) {
//		connectortest.Run(t, func(t *testing.T) connectortest.Target {
//			fake := githubfake.New(...)          // fresh, empty app per subtest
//			srv := httptest.NewServer(fake.Handler())
//			t.Cleanup(srv.Close)
//			return connectortest.Target{Connector: open(srv.URL), Faults: fake, ...}
//		})
//	}
//
// Every subtest gets a fresh target and none runs in parallel.
package connectortest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/connector"
)

// Faults is implemented by a fake to make the app misbehave in its own wire form: the status,
// headers and body the real service sends. The suite checks that the connector turns each into
// the right connector error. connectors/scim/scimtarget.Target implements it for SCIM apps.
type Faults interface {
	// RateLimit makes the next n requests fail the way the app signals a rate limit (429, or
	// 403 with reset headers, ...). It returns the wait the app advertises (Retry-After or reset
	// time), or zero when the app's answer carries none.
	RateLimit(n int) time.Duration
	// ServerError makes the next n requests fail with the app's server error (500, 503).
	ServerError(n int)
	// Stall makes every request take at least d until Reset, answering nothing meanwhile: a
	// slow app, or one that hangs until the client gives up. A stalled request that the client
	// abandons must not take effect.
	Stall(d time.Duration)
	// Reset clears every fault and the stall.
	Reset()
}

// Target is one fresh, empty app and its connector.
type Target struct {
	// Connector is the connector under test, talking to the fake.
	Connector connector.Connector
	// Faults injects the fake's failures. Required.
	Faults Faults
	// Entitlements are entitlement keys the app offers ("group:engineering", "team:backend"),
	// at least one for each of the connector's Traits.MembershipKinds. Adding an account to one
	// must work on a fresh app (the fake holds the group, or the connector creates it).
	Entitlements []string
	// PageSize is how many accounts one page of the app's list holds; List is checked over more
	// than two pages. Zero: the app does not page (three accounts are listed).
	PageSize int
	// Secret is the credential the connector holds; it must appear in no error. Required.
	Secret string
	// NewAccount returns a valid account for the app, distinct for each i (user name, email and
	// ExternalID); nil uses the suite's own (short lower-case user names, example.com emails).
	NewAccount func(i int) connector.Account
	// UniqueEmail says the app refuses a second account with a taken email.
	UniqueEmail bool
	// EmailOnly says the app knows people by email alone (HubSpot): it has no user names, so
	// user-name conflicts and finding by a user name alone do not apply.
	EmailOnly bool
	// MissingID is an account ID the app does not hold, in the app's own ID format (a number
	// for apps with numeric IDs); "ct-missing-0000" when empty.
	MissingID string
	// DeleteDisables says the app's delete only deactivates: the account stays listed with
	// Active false (Slack's DELETE /Users).
	DeleteDisables bool
}

type subTest struct {
	name string
	run  func(t *testing.T, h *harness)
}

// Run runs the whole suite; newTarget must return a fresh, empty app (closing it is its job,
// through t.Cleanup).
func Run(t *testing.T, newTarget func(t *testing.T) Target) {
	t.Helper()
	all := []subTest{
		{"CreateThenListAndFind", testCreate},
		{"CreateAdoptsSameExternalID", testAdopt},
		{"CreateConflict", testConflict},
		{"CreateInvalid", testInvalid},
		{"UpdateFields", testUpdate},
		{"DisableEnable", testDisableEnable},
		{"Memberships", testMemberships},
		{"Delete", testDelete},
		{"UnknownAccount", testUnknown},
		{"RateLimited", testRateLimited},
		{"ServerError", testServerError},
		{"Timeout", testTimeout},
		{"ListPages", testListPages},
		{"AbandonedWrite", testAbandonedWrite},
	}
	for _, st := range all {
		t.Run(st.name, func(t *testing.T) {
			tg := newTarget(t)
			if tg.Connector == nil || tg.Faults == nil {
				t.Fatal("newTarget must give a Connector and Faults")
			}
			if tg.Secret == "" {
				t.Fatal("newTarget must give the Secret the connector holds, to check errors never show it")
			}
			h := &harness{t: t, tg: tg, traits: connector.TraitsOf(tg.Connector)}
			t.Cleanup(h.checkSecrets)
			st.run(t, h)
		})
	}
}

// harness wraps the connector so every error it returns is kept and checked for the secret.
type harness struct {
	t      *testing.T
	tg     Target
	traits connector.Traits
	errs   []error
}

func (h *harness) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	h.t.Cleanup(cancel)
	return ctx
}

func (h *harness) keep(err error) error {
	if err != nil {
		h.errs = append(h.errs, err)
	}
	return err
}

func (h *harness) checkSecrets() {
	for _, err := range h.errs {
		for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			if strings.Contains(s, h.tg.Secret) {
				h.t.Errorf("an error shows the credential: %q", err.Error())
				break
			}
		}
	}
}

func (h *harness) account(i int) connector.Account {
	if h.tg.NewAccount != nil {
		return h.tg.NewAccount(i)
	}
	return DefaultAccount(i)
}

// DefaultAccount is the suite's account number i: a user name under 21 characters (Slack's
// limit), a unique email and ExternalID, and both names.
func DefaultAccount(i int) connector.Account {
	u := fmt.Sprintf("ctuser%03d", i)
	return connector.Account{
		ExternalID:  fmt.Sprintf("ct-person-%03d", i),
		UserName:    u,
		Email:       u + "@example.com",
		GivenName:   fmt.Sprintf("Given%03d", i),
		FamilyName:  "Conformance",
		DisplayName: fmt.Sprintf("Given%03d Conformance", i),
		Active:      true,
	}
}

func (h *harness) apply(ctx context.Context, op connector.Op) (connector.Account, error) {
	if op.App == "" {
		op.App = "conformance"
	}
	if op.Reason == "" {
		op.Reason = "conformance suite"
	}
	acc, err := h.tg.Connector.Apply(ctx, op)
	return acc, h.keep(err)
}

func (h *harness) mustApply(op connector.Op) connector.Account {
	h.t.Helper()
	acc, err := h.apply(h.ctx(), op)
	if err != nil {
		h.t.Fatalf("%s %s: %v", op.Kind, op.Account.UserName, err)
	}
	return acc
}

func (h *harness) create(i int) connector.Account {
	h.t.Helper()
	want := h.account(i)
	got := h.mustApply(connector.Op{Kind: connector.OpCreate, PersonID: want.ExternalID, Account: want})
	if got.ID == "" {
		h.t.Fatalf("create %s returned no app ID", want.UserName)
	}
	if got.UserName != want.UserName || (!h.traits.NoExternalID && got.ExternalID != want.ExternalID) {
		h.t.Fatalf("create returned %s/%s, want user %s with ExternalID %s", got.UserName, got.ExternalID, want.UserName, want.ExternalID)
	}
	return got
}

func (h *harness) list() []connector.Account {
	h.t.Helper()
	accs, err := h.tg.Connector.List(h.ctx())
	if h.keep(err) != nil {
		h.t.Fatalf("List: %v", err)
	}
	return accs
}

// listed returns the listed account with the given ID and how many accounts are who's: by
// ExternalID, or, in an app that cannot keep one, by user name or email.
func (h *harness) listed(id string, who *connector.Account) (connector.Account, bool, int) {
	h.t.Helper()
	var found connector.Account
	ok, n := false, 0
	for _, a := range h.list() {
		if a.ID == id {
			found, ok = a, true
		}
		switch {
		case who == nil:
		case !h.traits.NoExternalID && a.ExternalID == who.ExternalID,
			h.traits.NoExternalID && (strings.EqualFold(a.UserName, who.UserName) || strings.EqualFold(a.Email, who.Email)):
			n++
		}
	}
	return found, ok, n
}

// match is how the engine looks an account up: ExternalID first, then user name and email,
// which is all an app without external IDs can go by.
func (h *harness) match(a connector.Account) connector.Match {
	return connector.Match{ExternalID: a.ExternalID, UserName: a.UserName, Email: a.Email}
}

func (h *harness) mustListed(id string) connector.Account {
	h.t.Helper()
	a, ok, _ := h.listed(id, nil)
	if !ok {
		h.t.Fatalf("account %s is not in List", id)
	}
	return a
}

// expectKind checks that err is a connector error of kind, and whether it may be retried.
func expectKind(t *testing.T, what string, err, kind error, retryable bool) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want %v", what, kind)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("%s: %v, want errors.Is(err, %q)", what, err, kind)
	}
	if connector.Retryable(err) != retryable {
		t.Fatalf("%s: Retryable(%v) = %v, want %v", what, err, !retryable, retryable)
	}
}

func fieldsOf(tr connector.Traits) []string {
	if len(tr.Fields) > 0 {
		return tr.Fields
	}
	return []string{"user_name", "email", "given_name", "family_name", "display_name", "active"}
}

func hasMembership(a connector.Account, ent string) bool { return slices.Contains(a.Memberships, ent) }
