package server

import (
	"net/http"
	"strings"

	"github.com/tenure-id/tenure/pkg/admin"
	"github.com/tenure-id/tenure/pkg/identity"
)

// peoplePage is a page of GET /api/v1/people: the people as `tenure people list -o json`
// gives them.
type peoplePage struct {
	People     []identity.Person `json:"people"`
	NextOffset *int              `json:"next_offset,omitempty"`
}

// list reads a repeatable parameter, also accepting comma-separated values as the CLI does.
func list(r *http.Request, name string) []string {
	var out []string
	for _, v := range r.URL.Query()[name] {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func (a *adminAPI) listPeople(w http.ResponseWriter, r *http.Request) {
	pg, ok := readPage(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	subtree := false
	switch v := q.Get("subtree"); v {
	case "", "false":
	case "true":
		subtree = true
	default:
		badParam(w, "subtree", "want true or false")
		return
	}
	ctx := r.Context()
	orgs, err := admin.LoadOrgIndex(ctx, a.cfg.Store)
	if err != nil {
		a.fail(w, err)
		return
	}
	query := admin.PeopleQuery{Statuses: list(r, "status"), EmploymentTypes: list(r, "employment_type"), OrgUnit: q.Get("org_unit"),
		Subtree: subtree, Manager: q.Get("manager"), Limit: pg.limit + 1, Offset: pg.offset}
	f, err := query.Filter(ctx, a.cfg.Store, orgs)
	if err != nil {
		a.fail(w, err)
		return
	}
	people, err := a.cfg.Store.ListPeople(ctx, f)
	if err != nil {
		a.fail(w, err)
		return
	}
	out := peoplePage{People: people, NextOffset: pg.next(len(people))}
	if len(people) > pg.limit {
		out.People = people[:pg.limit]
	}
	if out.People == nil {
		out.People = []identity.Person{}
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *adminAPI) showPerson(w http.ResponseWriter, r *http.Request) {
	d, err := admin.ShowPerson(r.Context(), a.cfg.Store, r.PathValue("key"))
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (a *adminAPI) orgTree(w http.ResponseWriter, r *http.Request) {
	tree, err := admin.LoadOrgTree(r.Context(), a.cfg.Store)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, tree.Roots)
}
