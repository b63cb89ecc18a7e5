package lifecycle

import (
	"context"
	"fmt"
	"time"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// ReleaseUsernames frees the usernames and work emails of people terminated more than
// reuseAfter ago, so a new joiner with the same name may get them. Until then a terminated
// person keeps theirs (a rehire gets them back); reuseAfter of zero keeps them forever. Each
// release is an audited update of that person. It returns how many it released.
func (e *Engine) ReleaseUsernames(ctx context.Context, reuseAfter time.Duration) (int, error) {
	if reuseAfter <= 0 {
		return 0, nil
	}
	cutoff := e.now().Add(-reuseAfter)
	gone, err := e.store.ListPeople(ctx, directory.PersonFilter{Statuses: []identity.Status{identity.Terminated}})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range gone {
		if p.Username == "" && p.WorkEmail == "" || p.EndDate == nil || p.EndDate.After(cutoff) {
			continue
		}
		rctx := audit.WithReason(ctx, fmt.Sprintf("username released: terminated on %s, more than %s ago",
			p.EndDate.Format(time.DateOnly), reuseAfter))
		_, err := e.store.UpdatePerson(rctx, p.ID, func(q *identity.Person) error {
			if q.Status != identity.Terminated {
				return nil // rehired meanwhile: theirs again
			}
			if q.Attributes == nil {
				q.Attributes = map[string]string{}
			}
			q.Attributes["released_username"], q.Attributes["released_work_email"] = q.Username, q.WorkEmail
			q.Username, q.WorkEmail = "", ""
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("release username of %s: %w", p.EmployeeID, err)
		}
		n++
	}
	return n, nil
}
