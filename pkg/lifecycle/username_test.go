package lifecycle

import (
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
