package conformance

import (
	"errors"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

func samlSessionTests() []subTest {
	return []subTest{
		{"SAMLParticipantsRecordAndFind", testSAMLParticipantsRecordAndFind},
		{"SAMLParticipantsNeedLiveSession", testSAMLParticipantsNeedLiveSession},
		{"SAMLParticipantsEndWithSession", testSAMLParticipantsEndWithSession},
		{"SAMLParticipantsPurged", testSAMLParticipantsPurged},
	}
}

var signedAt = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// signedSession creates a signed-in session of the person, live for an hour after signedAt.
func signedSession(t *testing.T, s directory.Store, personID, token string) directory.AuthSession {
	t.Helper()
	as, err := s.CreateAuthSession(testContext(t), directory.AuthSession{TokenHash: hashOf(token), PersonID: personID,
		Stage: directory.StageSigned, Methods: []string{"pwd", "totp"}, AuthnAt: signedAt, LastSeen: signedAt, ExpiresAt: signedAt.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return as
}

func participant(sessionID, sp, nameID string) directory.SAMLParticipant {
	return directory.SAMLParticipant{SessionID: sessionID, SPEntityID: sp, NameID: nameID,
		NameIDFormat: "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent", SPNameQualifier: sp, SessionIndex: "idx-" + sessionID}
}

func mustAddParticipant(t *testing.T, s directory.Store, p directory.SAMLParticipant) {
	t.Helper()
	if err := s.AddSAMLParticipant(testContext(t), p); err != nil {
		t.Fatalf("AddSAMLParticipant(%s, %s): %v", p.SessionID, p.SPEntityID, err)
	}
}

func participantKeys(ps []directory.SAMLParticipant) []string {
	return pluck(ps, func(p directory.SAMLParticipant) string { return p.SessionID + " " + p.SPEntityID + " " + p.NameID })
}

func testSAMLParticipantsRecordAndFind(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	alice := mustCreatePerson(t, ctx, s, newPerson("E001"))
	s1 := signedSession(t, s, alice.ID, "s1")
	s2 := signedSession(t, s, alice.ID, "s2")
	mustAddParticipant(t, s, participant(s1.ID, "https://wiki", "n-wiki"))
	mustAddParticipant(t, s, participant(s1.ID, "https://crm", "n-crm"))
	mustAddParticipant(t, s, participant(s2.ID, "https://wiki", "n-wiki"))
	// The same service provider again in the same session: one row, the latest NameID.
	again := participant(s1.ID, "https://crm", "n-crm-2")
	again.SessionIndex = "idx-again"
	mustAddParticipant(t, s, again)

	got, err := s.SAMLParticipants(ctx, s1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if keys := participantKeys(got); !sameSet(keys, []string{s1.ID + " https://wiki n-wiki", s1.ID + " https://crm n-crm-2"}) {
		t.Errorf("participants of s1 = %v", keys)
	}
	for _, p := range got {
		want := participant(s1.ID, p.SPEntityID, p.NameID)
		if p.SPEntityID == "https://crm" {
			want.SessionIndex = "idx-again"
		}
		if p.NameIDFormat != want.NameIDFormat || p.SPNameQualifier != want.SPNameQualifier || p.SessionIndex != want.SessionIndex || p.CreatedAt.IsZero() {
			t.Errorf("participant %+v, want the fields as recorded (%+v) and CreatedAt set", p, want)
		}
	}
	found, err := s.FindSAMLParticipants(ctx, "https://wiki", "n-wiki")
	if err != nil {
		t.Fatal(err)
	}
	if keys := participantKeys(found); !sameSet(keys, []string{s1.ID + " https://wiki n-wiki", s2.ID + " https://wiki n-wiki"}) {
		t.Errorf("FindSAMLParticipants(wiki, n-wiki) = %v, want both sessions", keys)
	}
	// A NameID is looked up only under the service provider it was issued to.
	if found, err := s.FindSAMLParticipants(ctx, "https://crm", "n-wiki"); err != nil || len(found) != 0 {
		t.Errorf("FindSAMLParticipants(crm, n-wiki) = %v, %v; want none", participantKeys(found), err)
	}
	for _, bad := range []directory.SAMLParticipant{
		{SPEntityID: "https://wiki", NameID: "n"},
		{SessionID: s1.ID, NameID: "n"},
		{SessionID: s1.ID, SPEntityID: "https://wiki"},
	} {
		if err := s.AddSAMLParticipant(ctx, bad); !errors.Is(err, identity.ErrInvalid) {
			t.Errorf("AddSAMLParticipant(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
}

func testSAMLParticipantsNeedLiveSession(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	alice := mustCreatePerson(t, ctx, s, newPerson("E001"))
	if err := s.AddSAMLParticipant(ctx, participant("no-such-session", "https://wiki", "n")); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("participant of a missing session: %v, want ErrNotFound", err)
	}
	// A session still at the second-factor step gets no assertion, so it has no participants.
	pending, err := s.CreateAuthSession(ctx, directory.AuthSession{TokenHash: hashOf("p"), PersonID: alice.ID, Stage: directory.StageMFA,
		Methods: []string{"pwd"}, AuthnAt: signedAt, LastSeen: signedAt, ExpiresAt: signedAt.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddSAMLParticipant(ctx, participant(pending.ID, "https://wiki", "n")); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("participant of a session at the MFA step: %v, want ErrNotFound", err)
	}
	ended := signedSession(t, s, alice.ID, "ended")
	if err := s.DeleteAuthSession(ctx, ended.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSAMLParticipant(ctx, participant(ended.ID, "https://wiki", "n")); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("participant of an ended session: %v, want ErrNotFound", err)
	}
}

func testSAMLParticipantsEndWithSession(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	alice := mustCreatePerson(t, ctx, s, newPerson("E001"))
	bob := mustCreatePerson(t, ctx, s, newPerson("E002"))
	one := signedSession(t, s, alice.ID, "one")
	two := signedSession(t, s, alice.ID, "two")
	three := signedSession(t, s, alice.ID, "three")
	other := signedSession(t, s, bob.ID, "bob")
	for _, as := range []directory.AuthSession{one, two, three, other} {
		mustAddParticipant(t, s, participant(as.ID, "https://wiki", "n-"+as.PersonID))
	}
	left := func(as directory.AuthSession) int {
		t.Helper()
		ps, err := s.SAMLParticipants(ctx, as.ID)
		if err != nil {
			t.Fatal(err)
		}
		return len(ps)
	}

	if err := s.DeleteAuthSession(ctx, one.ID); err != nil {
		t.Fatal(err)
	}
	if n := left(one); n != 0 {
		t.Errorf("after DeleteAuthSession %d participant rows remain", n)
	}
	replaced, err := s.ReplaceAuthSession(ctx, two.ID, directory.AuthSession{TokenHash: hashOf("two-b"), PersonID: alice.ID,
		Stage: directory.StageSigned, Methods: []string{"pwd", "totp"}, AuthnAt: signedAt, LastSeen: signedAt, ExpiresAt: signedAt.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if n := left(two); n != 0 {
		t.Errorf("after ReplaceAuthSession %d participant rows of the old session remain", n)
	}
	if n := left(replaced); n != 0 {
		t.Errorf("the replacing session inherited %d participant rows", n)
	}
	if _, err := s.DeletePersonAuthSessions(ctx, alice.ID); err != nil {
		t.Fatal(err)
	}
	if n := left(three); n != 0 {
		t.Errorf("after DeletePersonAuthSessions %d participant rows remain", n)
	}
	if n := left(other); n != 1 {
		t.Errorf("another person's session has %d participant rows, want its 1", n)
	}
}

func testSAMLParticipantsPurged(t *testing.T, s directory.Store) {
	ctx := testContext(t)
	alice := mustCreatePerson(t, ctx, s, newPerson("E001"))
	live := signedSession(t, s, alice.ID, "live")
	dead, err := s.CreateAuthSession(ctx, directory.AuthSession{TokenHash: hashOf("dead"), PersonID: alice.ID,
		Stage: directory.StageSigned, Methods: []string{"pwd", "totp"}, AuthnAt: signedAt, LastSeen: signedAt, ExpiresAt: signedAt.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	mustAddParticipant(t, s, participant(live.ID, "https://wiki", "n"))
	mustAddParticipant(t, s, participant(dead.ID, "https://wiki", "n"))
	mustAddParticipant(t, s, participant(dead.ID, "https://crm", "m"))

	got, err := s.PurgeAuthn(ctx, directory.AuthnPurge{Now: signedAt.Add(2 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Sessions != 1 || got.SAMLParticipants != 2 {
		t.Errorf("PurgeAuthn = %+v, want 1 session and its 2 participant rows", got)
	}
	found, err := s.FindSAMLParticipants(ctx, "https://wiki", "n")
	if err != nil {
		t.Fatal(err)
	}
	if keys := participantKeys(found); !sameSet(keys, []string{live.ID + " https://wiki n"}) {
		t.Errorf("after the purge: %v, want only the live session's row", keys)
	}
}
