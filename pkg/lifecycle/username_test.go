package lifecycle

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/hr"
	"github.com/tenure-id/tenure/pkg/identity"
)

// A hire that names the username (a SCIM client's userName) keeps it instead of the pattern's,
// and one naming a username someone holds is rejected without creating anybody.
func TestHireKeepsRequestedUsername(t *testing.T) {
	backends(t, func(t *testing.T, s directory.Store, c *clock) {
		e := newEngine(s, c)
		now := c.Now()
		tests := []struct {
			emp, username, wantUser, wantRejection string
		}{
			{"S1", "", "richard.hendricks", ""},
			{"S2", "  Dinesh.C ", "dinesh.c", ""},
			{"S3", "DINESH.C", "", "username dinesh.c belongs to someone else"},
		}
		names := map[string][2]string{"S1": {"Richard", "Hendricks"}, "S2": {"Dinesh", "Chugtai"}, "S3": {"Dinesh", "Other"}}
		for _, tt := range tests {
			n := names[tt.emp]
			rep, err := e.Submit(ctxAs("scim:test"), []identity.Event{hrEvent(identity.Hire, tt.emp, now,
				hr.Data{FirstName: n[0], LastName: n[1], Username: tt.username})}, SubmitOptions{})
			if err != nil {
				t.Fatalf("%s: %v", tt.emp, err)
			}
			if tt.wantRejection != "" {
				if rep.Rejected != 1 || !strings.Contains(rep.Outcomes[0].Event.Error, tt.wantRejection) {
					t.Fatalf("%s: report %+v; want rejection %q", tt.emp, rep, tt.wantRejection)
				}
				if _, err := s.LookupPerson(ctxAs("t"), tt.emp); err == nil {
					t.Fatalf("%s: rejected hire created the person", tt.emp)
				}
				continue
			}
			if got := person(t, s, tt.emp).Username; got != tt.wantUser {
				t.Errorf("%s: username %q; want %q", tt.emp, got, tt.wantUser)
			}
		}
	})
}

// lookupFails is a store whose person lookups by one key fail as a broken connection would,
// inside transactions too.
type lookupFails struct {
	directory.Store
	key string
}

var errLookup = errors.New("connection reset by peer")

func (l lookupFails) LookupPerson(ctx context.Context, key string) (identity.Person, error) {
	if strings.EqualFold(key, l.key) {
		return identity.Person{}, errLookup
	}
	return l.Store.LookupPerson(ctx, key)
}

func (l lookupFails) InTx(ctx context.Context, fn func(tx directory.Store) error) error {
	return l.Store.InTx(ctx, func(tx directory.Store) error { return fn(lookupFails{tx, l.key}) })
}

// A failed read while checking whether a name is free is an error, not "taken": the hire does
// not go ahead under a suffixed name because the database hiccuped.
func TestNameCheckFailureIsNotTaken(t *testing.T) {
	c := &clock{t: day1}
	s := lookupFails{openStore(t, "sqlite://"+filepath.Join(t.TempDir(), "t.db"), c), "richard.hendricks"}
	e := newEngine(s, c)
	rep, err := e.Submit(ctxAs("hr:test"), []identity.Event{hrEvent(identity.Hire, "S1", c.Now(),
		hr.Data{FirstName: "Richard", LastName: "Hendricks"})}, SubmitOptions{})
	if !errors.Is(err, errLookup) {
		t.Fatalf("Submit = %+v, %v; want the lookup's error", rep, err)
	}
	if p, err := s.LookupPerson(ctxAs("t"), "S1"); err == nil {
		t.Fatalf("the hire went ahead as %q", p.Username)
	}
}
