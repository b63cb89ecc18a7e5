package policy

import (
	"sort"
	"strconv"
	"strings"

	"github.com/tenure-id/tenure/pkg/identity"
)

// Change is one difference in a person's desired access between two policy sets.
type Change struct {
	EmployeeID  string   `json:"employee_id"`
	PersonID    string   `json:"person_id"`
	Change      string   `json:"change"` // gain | lose | role
	App         string   `json:"app"`
	Entitlement string   `json:"entitlement,omitempty"`
	FromRole    string   `json:"from_role,omitempty"`
	ToRole      string   `json:"to_role,omitempty"`
	Reasons     []string `json:"reasons"` // why the candidate grants it (gain, role) or the current did (lose)
}

// Diff resolves everyone under both policy sets and lists who would gain and lose what if
// candidate replaced current. Nothing is applied.
func Diff(people []identity.Person, v View, current, candidate *Resolver) []Change {
	var out []Change
	for _, p := range people {
		before := current.Resolve(p, v)
		after := candidate.Resolve(p, v)
		change := func(kind string, g Grant) Change {
			c := Change{EmployeeID: p.EmployeeID, PersonID: p.ID, Change: kind, App: g.App, Entitlement: g.Entitlement}
			for _, r := range g.Reasons {
				c.Reasons = append(c.Reasons, r.String())
			}
			return c
		}
		for _, g := range after.Grants {
			old, ok := before.Find(g.Key())
			switch {
			case !ok:
				c := change("gain", g)
				c.ToRole = g.Role
				out = append(out, c)
			case old.Role != g.Role:
				c := change("role", g)
				c.FromRole, c.ToRole = old.Role, g.Role
				out = append(out, c)
			}
		}
		for _, g := range before.Grants {
			if _, ok := after.Find(g.Key()); !ok {
				c := change("lose", g)
				c.FromRole = g.Role
				out = append(out, c)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.EmployeeID != b.EmployeeID {
			return a.EmployeeID < b.EmployeeID
		}
		if a.App != b.App {
			return a.App < b.App
		}
		return a.Entitlement < b.Entitlement
	})
	return out
}

// Summary counts changes by kind, e.g. "3 gains, 1 loss, 0 role changes for 2 people".
func Summary(changes []Change) string {
	var gains, losses, roles int
	people := map[string]bool{}
	for _, c := range changes {
		people[c.PersonID] = true
		switch c.Change {
		case "gain":
			gains++
		case "lose":
			losses++
		default:
			roles++
		}
	}
	plural := func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return strings.TrimSpace(strconv.Itoa(n) + " " + many)
	}
	return plural(gains, "gain", "gains") + ", " + plural(losses, "loss", "losses") + ", " +
		plural(roles, "role change", "role changes") + " for " + plural(len(people), "person", "people")
}
