package connectortest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/connector"
)

func testCreate(t *testing.T, h *harness) {
	want := h.account(1)
	got := h.create(1)
	l := h.mustListed(got.ID)
	if l.UserName != want.UserName || (!h.traits.NoExternalID && l.ExternalID != want.ExternalID) || !l.Active {
		t.Fatalf("listed %+v, want user %s, ExternalID %s, active", l, want.UserName, want.ExternalID)
	}
	if containsField(fieldsOf(h.traits), "email") && !strings.EqualFold(l.Email, want.Email) {
		t.Fatalf("listed email %q, want %q", l.Email, want.Email)
	}
	f, ok := h.tg.Connector.(connector.Finder)
	if !ok {
		return
	}
	for _, m := range []connector.Match{{ExternalID: want.ExternalID}, {UserName: want.UserName}, {Email: want.Email},
		{ExternalID: "ct-nobody", UserName: want.UserName}} {
		if h.traits.NoExternalID && m.UserName == "" && m.Email == "" {
			continue // nothing but an external id to go by, which the app cannot hold
		}
		if h.tg.EmailOnly && m.Email == "" && (m.ExternalID == "" || h.traits.NoExternalID || m.ExternalID == "ct-nobody") {
			continue // a user name alone names nobody in the app
		}
		acc, err := f.Find(h.ctx(), m)
		if h.keep(err) != nil {
			t.Fatalf("Find(%+v): %v", m, err)
		}
		if acc.ID != got.ID {
			t.Fatalf("Find(%+v) = %s, want %s", m, acc.ID, got.ID)
		}
	}
	_, err := f.Find(h.ctx(), connector.Match{ExternalID: "ct-nobody", UserName: "ctnobody", Email: "ctnobody@example.com"})
	expectKind(t, "Find of nobody", h.keep(err), connector.ErrNotFound, false)
}

func testAdopt(t *testing.T, h *harness) {
	first := h.create(1)
	again := h.create(1)
	if again.ID != first.ID {
		t.Fatalf("second create of the same ExternalID made %s, want the existing %s adopted", again.ID, first.ID)
	}
	if h.traits.NoExternalID {
		// The app matches people by user name and email only: a person renamed before a
		// retried create is a new account there, which the planner sees as a conflict.
		return
	}
	// The person was renamed before the retried create ran: still the same account.
	renamed := h.account(1)
	other := h.account(2)
	renamed.UserName, renamed.Email = other.UserName, other.Email
	got := h.mustApply(connector.Op{Kind: connector.OpCreate, PersonID: renamed.ExternalID, Account: renamed})
	if got.ID != first.ID {
		t.Fatalf("create of a held ExternalID under a new user name made %s, want %s adopted", got.ID, first.ID)
	}
	if _, _, n := h.listed(first.ID, &renamed); n != 1 {
		t.Fatalf("%d accounts carry ExternalID %s, want 1", n, renamed.ExternalID)
	}
}

func testConflict(t *testing.T, h *harness) {
	a := h.create(1)
	b := h.account(2)
	b.UserName = a.UserName
	if !h.tg.EmailOnly {
		_, err := h.apply(h.ctx(), connector.Op{Kind: connector.OpCreate, Account: b})
		expectKind(t, "create with a taken user name", err, connector.ErrConflict, false)
	}
	if h.tg.UniqueEmail {
		c := h.account(3)
		c.Email = a.Email
		_, err := h.apply(h.ctx(), connector.Op{Kind: connector.OpCreate, Account: c})
		expectKind(t, "create with a taken email", err, connector.ErrConflict, false)
	}
	if n := len(h.list()); n != 1 {
		t.Fatalf("List holds %d accounts after refused creates, want 1", n)
	}
}

func testInvalid(t *testing.T, h *harness) {
	acc := h.account(1)
	acc.UserName = ""
	_, err := h.apply(h.ctx(), connector.Op{Kind: connector.OpCreate, Account: acc})
	expectKind(t, "create without a user name", err, connector.ErrInvalid, false)
	if n := len(h.list()); n != 0 {
		t.Fatalf("List holds %d accounts after an invalid create, want 0", n)
	}
}

func testUpdate(t *testing.T, h *harness) {
	fields := fieldsOf(h.traits)
	want := h.account(1)
	for _, f := range fields {
		if name, ok := strings.CutPrefix(f, "attributes."); ok {
			if want.Attributes == nil {
				want.Attributes = map[string]string{}
			}
			want.Attributes[name] = "v1-" + name
		}
	}
	created := h.mustApply(connector.Op{Kind: connector.OpCreate, PersonID: want.ExternalID, Account: want})
	checkFields(t, "after create", h.mustListed(created.ID), want, fields)

	next := h.account(1)
	other := h.account(2)
	next.Attributes = map[string]string{}
	var changed []string
	for _, f := range fields {
		switch f {
		case "user_name":
			next.UserName = other.UserName
		case "email":
			next.Email = other.Email
		case "given_name":
			next.GivenName = "Renamed"
		case "family_name":
			next.FamilyName = "Updated"
		case "display_name":
			next.DisplayName = "Renamed Updated"
		case "role":
			if other.Role == want.Role {
				continue // the app's roles are unknown here; the account generator gives them
			}
			next.Role = other.Role
		case "active":
			continue // disable/enable are their own operations
		default:
			name, ok := strings.CutPrefix(f, "attributes.")
			if !ok {
				t.Fatalf("Traits.Fields names %q, which is neither an account field nor attributes.NAME", f)
			}
			next.Attributes[name] = "v2-" + name
		}
		changed = append(changed, f)
	}
	next.ID = created.ID
	got := h.mustApply(connector.Op{Kind: connector.OpUpdate, AccountID: created.ID, Account: next, Fields: changed})
	if got.ID != created.ID {
		t.Fatalf("update returned account %s, want %s", got.ID, created.ID)
	}
	checkFields(t, "after update", h.mustListed(created.ID), next, fields)
}

func checkFields(t *testing.T, when string, got, want connector.Account, fields []string) {
	t.Helper()
	for _, f := range fields {
		g, w := got.Field(f), want.Field(f)
		if f == "email" || f == "user_name" {
			g, w = strings.ToLower(g), strings.ToLower(w)
		}
		if g != w {
			t.Errorf("%s: %s = %q, want %q", when, f, g, w)
		}
	}
}

func containsField(fields []string, f string) bool {
	for _, x := range fields {
		if x == f {
			return true
		}
	}
	return false
}

func testDisableEnable(t *testing.T, h *harness) {
	a := h.create(1)
	if !h.traits.CanDisable {
		return // nothing more to check: the app has no suspended state
	}
	for i := range 2 { // the second disable must succeed without change
		got := h.mustApply(connector.Op{Kind: connector.OpDisable, AccountID: a.ID, Account: a})
		if got.Active {
			t.Fatalf("disable #%d returned an active account", i+1)
		}
		if l := h.mustListed(a.ID); l.Active {
			t.Fatalf("after disable #%d List shows the account active", i+1)
		}
	}
	got := h.mustApply(connector.Op{Kind: connector.OpEnable, AccountID: a.ID, Account: a})
	if !got.Active {
		t.Fatal("enable returned an inactive account")
	}
	if l := h.mustListed(a.ID); !l.Active {
		t.Fatal("after enable List shows the account inactive")
	}
}

func testMemberships(t *testing.T, h *harness) {
	for _, kind := range h.traits.MembershipKinds {
		found := false
		for _, e := range h.tg.Entitlements {
			found = found || strings.HasPrefix(e, kind+":")
		}
		if !found {
			t.Fatalf("Target.Entitlements has none of kind %q, which the connector manages", kind)
		}
	}
	a := h.create(1)
	bystander := h.create(2)
	for _, ent := range h.tg.Entitlements {
		for range 2 {
			h.mustApply(connector.Op{Kind: connector.OpAddMember, AccountID: a.ID, Account: a, Entitlement: ent})
		}
		if l := h.mustListed(a.ID); !hasMembership(l, ent) {
			t.Fatalf("after add_member %s List shows memberships %v", ent, l.Memberships)
		}
		if f, ok := h.tg.Connector.(connector.Finder); ok {
			got, err := f.Find(h.ctx(), h.match(a))
			if h.keep(err) != nil || !hasMembership(got, ent) {
				t.Fatalf("after add_member %s Find shows memberships %v (%v)", ent, got.Memberships, err)
			}
		}
		if l := h.mustListed(bystander.ID); hasMembership(l, ent) {
			t.Fatalf("add_member %s for %s also shows on %s", ent, a.UserName, bystander.UserName)
		}
	}
	for _, ent := range h.tg.Entitlements {
		for range 2 {
			h.mustApply(connector.Op{Kind: connector.OpRemoveMember, AccountID: a.ID, Account: a, Entitlement: ent})
		}
		if l := h.mustListed(a.ID); hasMembership(l, ent) {
			t.Fatalf("after remove_member %s List still shows it: %v", ent, l.Memberships)
		}
	}
	// Removing a membership the account never had is a no-op, not an error.
	h.mustApply(connector.Op{Kind: connector.OpRemoveMember, AccountID: bystander.ID, Account: bystander, Entitlement: h.tg.Entitlements[0]})
}

func testDelete(t *testing.T, h *harness) {
	a := h.create(1)
	keep := h.create(2)
	for range 2 {
		h.mustApply(connector.Op{Kind: connector.OpDelete, AccountID: a.ID, Account: a})
	}
	l, ok, _ := h.listed(a.ID, nil)
	switch {
	case h.tg.DeleteDisables && (!ok || l.Active):
		t.Fatalf("after delete (which deactivates in this app) List shows %+v (listed %v), want it inactive", l, ok)
	case !h.tg.DeleteDisables && ok:
		t.Fatalf("after delete List still shows %s", a.ID)
	}
	h.mustListed(keep.ID)
	if f, ok := h.tg.Connector.(connector.Finder); ok && !h.tg.DeleteDisables {
		_, err := f.Find(h.ctx(), h.match(a))
		expectKind(t, "Find of a deleted account", h.keep(err), connector.ErrNotFound, false)
	}
}

func testUnknown(t *testing.T, h *harness) {
	h.create(1) // a non-empty app
	ghost := h.account(9)
	ghost.ID = h.tg.MissingID
	if ghost.ID == "" {
		ghost.ID = "ct-missing-0000"
	}
	kinds := []connector.OpKind{connector.OpUpdate}
	if h.traits.CanDisable {
		kinds = append(kinds, connector.OpEnable, connector.OpDisable)
	}
	if len(h.tg.Entitlements) > 0 {
		kinds = append(kinds, connector.OpAddMember)
	}
	for _, k := range kinds {
		op := connector.Op{Kind: k, AccountID: ghost.ID, Account: ghost, Fields: []string{"given_name"}}
		if k == connector.OpAddMember {
			op.Entitlement = h.tg.Entitlements[0]
		}
		_, err := h.apply(h.ctx(), op)
		expectKind(t, string(k)+" of an unknown account", err, connector.ErrNotFound, false)
	}
}

func testRateLimited(t *testing.T, h *harness) {
	a := h.create(1)
	wait := h.tg.Faults.RateLimit(1)
	changed := h.account(1)
	changed.ID, changed.GivenName = a.ID, "Limited"
	_, err := h.apply(h.ctx(), connector.Op{Kind: connector.OpUpdate, AccountID: a.ID, Account: changed, Fields: []string{"given_name"}})
	expectKind(t, "apply while rate limited", err, connector.ErrRateLimited, true)
	checkRetryAfter(t, err, wait)

	wait = h.tg.Faults.RateLimit(1)
	_, err = h.tg.Connector.List(h.ctx())
	expectKind(t, "List while rate limited", h.keep(err), connector.ErrRateLimited, true)
	checkRetryAfter(t, err, wait)

	// The limit has passed: the same work goes through.
	h.mustListed(a.ID)
	h.create(2)
}

func checkRetryAfter(t *testing.T, err error, wait time.Duration) {
	t.Helper()
	got := connector.RetryAfter(err)
	if wait > 0 && (got <= 0 || got > wait+2*time.Second) {
		t.Fatalf("RetryAfter = %v, want about %v as the app advertised (%v)", got, wait, err)
	}
}

func testServerError(t *testing.T, h *harness) {
	h.tg.Faults.ServerError(1)
	_, err := h.tg.Connector.List(h.ctx())
	expectKind(t, "List on a server error", h.keep(err), connector.ErrUnavailable, true)

	want := h.account(1)
	h.tg.Faults.ServerError(1)
	_, err = h.apply(h.ctx(), connector.Op{Kind: connector.OpCreate, Account: want})
	expectKind(t, "create on a server error", err, connector.ErrUnavailable, true)
	// The retry the workers make: exactly one account results.
	got := h.create(1)
	if _, _, n := h.listed(got.ID, &want); n != 1 {
		t.Fatalf("%d accounts carry ExternalID %s after a failed and a retried create, want 1", n, want.ExternalID)
	}
}

func testTimeout(t *testing.T, h *harness) {
	const stall, budget = 3 * time.Second, 300 * time.Millisecond
	h.tg.Faults.Stall(stall)
	for _, call := range []struct {
		name string
		do   func(ctx context.Context) error
	}{
		{"List", func(ctx context.Context) error { _, err := h.tg.Connector.List(ctx); return h.keep(err) }},
		{"create", func(ctx context.Context) error {
			_, err := h.apply(ctx, connector.Op{Kind: connector.OpCreate, Account: h.account(1)})
			return err
		}},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), budget)
		start := time.Now()
		err := call.do(ctx)
		took := time.Since(start)
		cancel()
		if err == nil {
			t.Fatalf("%s on a stalled app succeeded", call.name)
		}
		if !connector.Retryable(err) {
			t.Fatalf("%s timed out with %v, which is not retryable", call.name, err)
		}
		if errors.Is(err, connector.ErrConflict) || errors.Is(err, connector.ErrInvalid) {
			t.Fatalf("%s timed out with %v", call.name, err)
		}
		if took > stall-time.Second {
			t.Fatalf("%s took %v on a %v context: the connector did not honour the deadline", call.name, took, budget)
		}
	}
	h.tg.Faults.Reset()
	want := h.account(1)
	got := h.create(1)
	if _, _, n := h.listed(got.ID, &want); n != 1 {
		t.Fatalf("%d accounts carry ExternalID %s after a timed-out and a retried create, want 1", n, want.ExternalID)
	}
}

func testListPages(t *testing.T, h *harness) {
	n := 3
	if h.tg.PageSize > 0 {
		n = 2*h.tg.PageSize + 1
	}
	ids := map[string]bool{}
	for i := range n {
		ids[h.create(i+1).ID] = true
	}
	seen := map[string]int{}
	for _, a := range h.list() {
		seen[a.ID]++
	}
	for id := range ids {
		if seen[id] != 1 {
			t.Fatalf("account %s listed %d times over %d accounts (page size %d), want once", id, seen[id], n, h.tg.PageSize)
		}
	}
	if len(seen) != n {
		t.Fatalf("List gave %d distinct accounts, want %d", len(seen), n)
	}
}

// testAbandonedWrite: a write the app stalls on and the client abandons must never take
// effect, even once the stall is over. (A fake notices a client leaving only once it has read
// the request body; one that stalls first applies the abandoned write later.)
func testAbandonedWrite(t *testing.T, h *harness) {
	a := h.create(1)
	const stall, budget = 1500 * time.Millisecond, 200 * time.Millisecond
	h.tg.Faults.Stall(stall)
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	_, err := h.apply(ctx, connector.Op{Kind: connector.OpDisable, AccountID: a.ID, Account: h.account(1)})
	cancel()
	if err == nil {
		t.Fatal("disable on a stalled app succeeded")
	}
	time.Sleep(stall + 500*time.Millisecond)
	h.tg.Faults.Reset()
	if got := h.mustListed(a.ID); !got.Active {
		t.Fatal("a disable abandoned during a stall took effect once the stall was over")
	}
}
