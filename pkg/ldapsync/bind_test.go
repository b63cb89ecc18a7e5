package ldapsync_test

import (
	"errors"
	"testing"

	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/ldapsync"
)

func TestDelegatedBind(t *testing.T) {
	s := startSilos(t)
	st := newStore(t)
	people := piedPiper(t, st)
	mustSync(t, newSyncer(st, s), true)
	b := &ldapsync.Binder{Store: st, Config: s.cfg, Getenv: s.getenv}

	tests := []struct {
		name, source, user, password string
		wantPerson                   string // employee ID
		wantErr                      error
	}{
		{"right password", "hooli", "dinesh", "gold-chain", "E101", nil},
		{"right password over TLS", "endframe", "gilfoyle", "anton-the-server", "E102", nil},
		{"username case", "hooli", "DINESH", "gold-chain", "E101", nil},
		{"wrong password", "hooli", "dinesh", "gold-plated", "", ldapsync.ErrWrongPassword},
		{"empty password is not an anonymous bind", "hooli", "dinesh", "", "", ldapsync.ErrWrongPassword},
		{"unknown user", "hooli", "jared", "whatever", "", ldapsync.ErrWrongPassword},
		{"password of another silo", "endframe", "dinesh", "gold-chain", "", ldapsync.ErrWrongPassword},
		{"disabled account", "hooli", "peter", "sesame-seeds", "", ldapsync.ErrDisabled},
		{"injection: wildcard", "hooli", "*", "gold-chain", "", ldapsync.ErrWrongPassword},
		{"injection: close and widen", "hooli", "dinesh)(uid=*", "gold-chain", "", ldapsync.ErrWrongPassword},
		{"injection: or-clause", "hooli", "*)(|(uid=*", "gold-chain", "", ldapsync.ErrWrongPassword},
		{"injection: prefix wildcard", "hooli", "din*", "gold-chain", "", ldapsync.ErrWrongPassword},
		{"injection: NUL", "hooli", "dinesh\x00", "gold-chain", "", ldapsync.ErrWrongPassword},
		{"unknown source", "piedpiper", "dinesh", "gold-chain", "", ldapsync.ErrUnknownSource},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := b.Authenticate(ctxWithTimeout(t), tt.source, tt.user, tt.password)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || got != "" {
					t.Fatalf("Authenticate = %q, %v; want error %v", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != people[tt.wantPerson].ID {
				t.Fatalf("Authenticate = %q, %v; want person %s", got, err, tt.wantPerson)
			}
		})
	}

	t.Run("source without delegated bind", func(t *testing.T) {
		cfg := s.cfg
		cfg.Sources = append([]config.LDAPSource(nil), s.cfg.Sources...)
		cfg.Sources[0].DelegatedBind = false
		off := &ldapsync.Binder{Store: st, Config: cfg, Getenv: s.getenv}
		if _, err := off.Authenticate(ctxWithTimeout(t), "hooli", "dinesh", "gold-chain"); err == nil || errors.Is(err, ldapsync.ErrWrongPassword) {
			t.Fatalf("Authenticate with delegated_bind off = %v, want a configuration error", err)
		}
	})
	t.Run("entry not linked", func(t *testing.T) {
		s.hooli.Modify(t, "dn: uid=gavin,ou=people,"+hooliBase+"\nchangetype: modify\nadd: userPassword\nuserPassword: box3\n")
		if _, err := b.Authenticate(ctxWithTimeout(t), "hooli", "gavin", "box3"); !errors.Is(err, ldapsync.ErrNotLinked) {
			t.Fatalf("Authenticate(unlinked) = %v, want ErrNotLinked", err)
		}
	})
	t.Run("silo down is an error, not a wrong password", func(t *testing.T) {
		s.hooli.Stop()
		_, err := b.Authenticate(ctxWithTimeout(t), "hooli", "dinesh", "gold-chain")
		if err == nil || errors.Is(err, ldapsync.ErrWrongPassword) {
			t.Fatalf("Authenticate(silo down) = %v, want a connection error", err)
		}
	})
}
