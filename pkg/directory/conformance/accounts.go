package conformance

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

func mustPutAccount(t *testing.T, ctx context.Context, s directory.Store, a identity.Account) identity.Account {
	t.Helper()
	got, err := s.PutAccount(ctx, a)
	if err != nil {
		t.Fatalf("PutAccount(%s/%s): %v", a.App, a.ExternalID, err)
	}
	return got
}

func checkAccount(t *testing.T, what string, want, got identity.Account) {
	t.Helper()
	if got.ID != want.ID || got.App != want.App || got.ExternalID != want.ExternalID || got.PersonID != want.PersonID ||
		got.Username != want.Username || got.Email != want.Email || got.Status != want.Status || got.Version != want.Version {
		t.Errorf("%s: got %+v, want %+v", what, got, want)
	}
	if !slices.Equal(got.Memberships, want.Memberships) && (len(got.Memberships) != 0 || len(want.Memberships) != 0) {
		t.Errorf("%s: Memberships = %q, want %q", what, got.Memberships, want.Memberships)
	}
	if !equalStringMaps(got.Attributes, want.Attributes) {
		t.Errorf("%s: Attributes = %v, want %v", what, got.Attributes, want.Attributes)
	}
	if !equalTimePtr(got.LastSeenAt, want.LastSeenAt) {
		t.Errorf("%s: LastSeenAt = %s, want %s", what, fmtTimePtr(got.LastSeenAt), fmtTimePtr(want.LastSeenAt))
	}
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("%s: CreatedAt/UpdatedAt = %v/%v, want %v/%v", what, got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}
}

func testAccountPutGet(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	p := mustCreatePerson(t, ctx, s, newPerson("E001"))
	mustPutApp(t, ctx, s, "github", "github")
	seen := time.Now().UTC().Truncate(time.Second)
	in := identity.Account{
		App: "github", ExternalID: "12345", PersonID: p.ID, Username: "octo", Email: "octo@example.com",
		Status:      identity.AccountActive,
		Memberships: []string{"role:admin", "team:backend", "team:frontend"},
		Attributes:  map[string]string{"two_factor": "true", "plan": "pro"},
		LastSeenAt:  &seen,
	}
	a := mustPutAccount(t, ctx, s, in)
	if a.ID == "" || a.Version != 1 || a.CreatedAt.IsZero() || a.UpdatedAt.IsZero() {
		t.Errorf("PutAccount(new) = %+v; want ID, Version 1 and timestamps set", a)
	}
	want := in
	want.ID, want.Version, want.CreatedAt, want.UpdatedAt = a.ID, 1, a.CreatedAt, a.UpdatedAt
	checkAccount(t, "PutAccount result", want, a)
	got, err := s.GetAccount(ctx, "github", "12345")
	if err != nil {
		t.Fatalf("GetAccount: %v", err)
	}
	checkAccount(t, "GetAccount", want, got)

	_, err = s.GetAccount(ctx, "github", "99999")
	wantErrIs(t, err, identity.ErrNotFound, "GetAccount(unknown external id)")
	_, err = s.GetAccount(ctx, "slack", "12345")
	wantErrIs(t, err, identity.ErrNotFound, "GetAccount(same external id, other app)")

	// An orphan: no person correlates to it.
	orphan := mustPutAccount(t, ctx, s, identity.Account{App: "github", ExternalID: "777", Username: "ghost", Status: identity.AccountDisabled})
	if orphan.PersonID != "" {
		t.Errorf("orphan account got PersonID %q", orphan.PersonID)
	}
	got, err = s.GetAccount(ctx, "github", "777")
	if err != nil {
		t.Fatalf("GetAccount(orphan): %v", err)
	}
	checkAccount(t, "GetAccount(orphan)", orphan, got)

	cases := []struct {
		name  string
		a     identity.Account
		field string
	}{
		{"no external id", identity.Account{App: "github", Status: identity.AccountActive}, "external_id"},
		{"no app", identity.Account{ExternalID: "1", Status: identity.AccountActive}, "app"},
		{"bad status", identity.Account{App: "github", ExternalID: "1", Status: "zombie"}, "status"},
	}
	for _, tc := range cases {
		_, err := s.PutAccount(ctx, tc.a)
		wantField(t, err, "PutAccount("+tc.name+")", tc.field)
	}
}

func testAccountReplace(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	p := mustCreatePerson(t, ctx, s, newPerson("E001"))
	mustPutApp(t, ctx, s, "slack", "slack")
	first := mustPutAccount(t, ctx, s, identity.Account{
		App: "slack", ExternalID: "U1", Status: identity.AccountActive,
		Memberships: []string{"channel:general", "channel:random"}, Attributes: map[string]string{"tz": "UTC"},
	})
	replacement := identity.Account{
		App: "slack", ExternalID: "U1", PersonID: p.ID, Username: "erin", Status: identity.AccountDisabled,
		Memberships: []string{"channel:eng"}, Attributes: map[string]string{"tz": "Europe/Berlin", "guest": "false"},
	}
	second := mustPutAccount(t, ctx, s, replacement)
	if second.ID != first.ID {
		t.Errorf("PutAccount(replace) changed ID from %q to %q", first.ID, second.ID)
	}
	if second.Version != first.Version+1 {
		t.Errorf("PutAccount(replace): Version = %d, want %d", second.Version, first.Version+1)
	}
	if !second.CreatedAt.Equal(first.CreatedAt) || second.UpdatedAt.Before(first.UpdatedAt) {
		t.Errorf("PutAccount(replace): CreatedAt %v→%v, UpdatedAt %v→%v", first.CreatedAt, second.CreatedAt, first.UpdatedAt, second.UpdatedAt)
	}
	want := replacement
	want.ID, want.Version, want.CreatedAt, want.UpdatedAt = first.ID, first.Version+1, first.CreatedAt, second.UpdatedAt
	checkAccount(t, "PutAccount(replace) result", want, second)
	got, err := s.GetAccount(ctx, "slack", "U1")
	if err != nil {
		t.Fatalf("GetAccount: %v", err)
	}
	checkAccount(t, "GetAccount after replace", want, got)

	third := mustPutAccount(t, ctx, s, replacement)
	if third.Version != first.Version+2 {
		t.Errorf("third PutAccount: Version = %d, want %d", third.Version, first.Version+2)
	}
	all, err := s.ListAccounts(ctx, directory.AccountFilter{})
	if err != nil {
		t.Fatalf("ListAccounts: %v", err)
	}
	if len(all) != 1 {
		t.Errorf("ListAccounts after replacing returned %d accounts, want 1", len(all))
	}
}

func accountKeys(as []identity.Account) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.App + "/" + a.ExternalID
	}
	return out
}

func testAccountList(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	a := mustCreatePerson(t, ctx, s, newPerson("E001"))
	b := mustCreatePerson(t, ctx, s, newPerson("E002"))
	mustPutApp(t, ctx, s, "slack", "slack")
	mustPutApp(t, ctx, s, "github", "github")
	for _, acc := range []identity.Account{
		{App: "slack", ExternalID: "U1", PersonID: a.ID, Status: identity.AccountActive},
		{App: "slack", ExternalID: "U2", PersonID: b.ID, Status: identity.AccountActive},
		{App: "slack", ExternalID: "U3", Status: identity.AccountActive},
		{App: "github", ExternalID: "1", PersonID: a.ID, Status: identity.AccountActive},
		{App: "github", ExternalID: "U1", Status: identity.AccountDeleted},
	} {
		mustPutAccount(t, ctx, s, acc)
	}
	cases := []struct {
		name string
		f    directory.AccountFilter
		want []string
	}{
		{"all", directory.AccountFilter{}, []string{"slack/U1", "slack/U2", "slack/U3", "github/1", "github/U1"}},
		{"app", directory.AccountFilter{App: "slack"}, []string{"slack/U1", "slack/U2", "slack/U3"}},
		{"person", directory.AccountFilter{PersonID: a.ID}, []string{"slack/U1", "github/1"}},
		{"person and app", directory.AccountFilter{PersonID: a.ID, App: "github"}, []string{"github/1"}},
		{"no match", directory.AccountFilter{PersonID: b.ID, App: "github"}, nil},
	}
	for _, tc := range cases {
		got, err := s.ListAccounts(ctx, tc.f)
		if err != nil {
			t.Errorf("ListAccounts(%s): %v", tc.name, err)
			continue
		}
		if len(got) != len(tc.want) || !sameSet(accountKeys(got), tc.want) {
			t.Errorf("ListAccounts(%s) = %v, want %v", tc.name, accountKeys(got), tc.want)
		}
	}
}

func testAccountDelete(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	mustPutApp(t, ctx, s, "slack", "slack")
	mustPutApp(t, ctx, s, "github", "github")
	mustPutAccount(t, ctx, s, identity.Account{App: "slack", ExternalID: "U1", Status: identity.AccountActive, Memberships: []string{"channel:general"}})
	mustPutAccount(t, ctx, s, identity.Account{App: "github", ExternalID: "U1", Status: identity.AccountActive})
	if err := s.DeleteAccount(ctx, "slack", "U1"); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	_, err := s.GetAccount(ctx, "slack", "U1")
	wantErrIs(t, err, identity.ErrNotFound, "GetAccount after delete")
	if _, err := s.GetAccount(ctx, "github", "U1"); err != nil {
		t.Errorf("GetAccount(github/U1) after deleting slack/U1: %v", err)
	}
	// Putting it again creates a new account from version 1.
	again := mustPutAccount(t, ctx, s, identity.Account{App: "slack", ExternalID: "U1", Status: identity.AccountActive})
	if again.Version != 1 || len(again.Memberships) != 0 {
		t.Errorf("re-created account: Version %d Memberships %q, want 1 and none", again.Version, again.Memberships)
	}
}
