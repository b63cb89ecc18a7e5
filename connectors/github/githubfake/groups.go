package githubfake

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/tenure-id/tenure/connectors/internal/fakehttp"
)

func (s *Server) groupsLocked(w http.ResponseWriter, r *http.Request, loc string, rest []string) {
	if len(rest) == 0 {
		switch r.Method {
		case http.MethodGet:
			attr, val, err := listFilter(r.URL.Query().Get("filter"), "externalId", "id", "displayName")
			if err != nil {
				scimError(w, http.StatusBadRequest, "invalidFilter", err.Error())
				return
			}
			start, count, err := fakehttp.Paging(r, 30, 100)
			if err != nil {
				scimError(w, http.StatusBadRequest, "invalidValue", err.Error())
				return
			}
			var docs []map[string]any
			for _, g := range s.sortedGroupsLocked() {
				ok := attr == "" || attr == "externalId" && g.externalID == val || attr == "id" && g.id == val ||
					attr == "displayName" && g.displayName == val
				if ok {
					docs = append(docs, g.doc(s, loc+"/"+g.id))
				}
			}
			fakehttp.ListResponse(w, docs, start, count)
		case http.MethodPost:
			doc, ok := readDoc(w, r)
			if !ok {
				return
			}
			g, err := decodeGroup(doc)
			if err == nil {
				err = s.checkMembersLocked(g.members)
			}
			if err != nil {
				scimError(w, http.StatusBadRequest, "invalidValue", err.Error())
				return
			}
			if err := s.uniqueGroupLocked(&g, ""); err != nil {
				scimError(w, http.StatusConflict, "uniqueness", err.Error())
				return
			}
			g.id = s.nextIDLocked()
			g.externalGroupID = s.seq
			g.created, g.modified = s.opts.Now(), s.opts.Now()
			s.groups[g.id] = &g
			writeSCIM(w, http.StatusCreated, g.doc(s, loc+"/"+g.id))
		default:
			scimError(w, http.StatusMethodNotAllowed, "", "Method not allowed")
		}
		return
	}
	g, ok := s.groups[rest[0]]
	if !ok {
		scimError(w, http.StatusNotFound, "", "Resource "+rest[0]+" not found")
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeSCIM(w, http.StatusOK, g.doc(s, loc+"/"+g.id))
	case http.MethodPut, http.MethodPatch:
		doc, ok := replacement(w, r, func() map[string]any { return g.doc(s, "") })
		if !ok {
			return
		}
		ng, err := decodeGroup(doc)
		if err == nil {
			err = s.checkMembersLocked(ng.members)
		}
		if err != nil {
			scimError(w, http.StatusBadRequest, "invalidValue", err.Error())
			return
		}
		if err := s.uniqueGroupLocked(&ng, g.id); err != nil {
			scimError(w, http.StatusConflict, "uniqueness", err.Error())
			return
		}
		ng.id, ng.externalGroupID, ng.created, ng.modified = g.id, g.externalGroupID, g.created, s.opts.Now()
		*g = ng
		writeSCIM(w, http.StatusOK, g.doc(s, loc+"/"+g.id))
	case http.MethodDelete:
		delete(s.groups, g.id)
		for _, o := range s.orgs {
			for _, t := range o.teams {
				t.links = slices.DeleteFunc(t.links, func(id int) bool { return id == g.externalGroupID })
			}
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		scimError(w, http.StatusMethodNotAllowed, "", "Method not allowed")
	}
}

// checkMembersLocked insists on GitHub's SCIM ids: an externalId or an unknown id is refused.
func (s *Server) checkMembersLocked(ids []string) error {
	for _, id := range ids {
		if _, ok := s.users[id]; !ok {
			return fmt.Errorf("member %q is not a provisioned user's SCIM id", id)
		}
	}
	return nil
}

func (s *Server) uniqueGroupLocked(g *group, self string) error {
	for _, o := range s.groups {
		if o.id == self {
			continue
		}
		if strings.EqualFold(o.displayName, g.displayName) {
			return fmt.Errorf("displayName %q is already taken", g.displayName)
		}
		if o.externalID == g.externalID {
			return fmt.Errorf("externalId %q is already taken", g.externalID)
		}
	}
	return nil
}

func (s *Server) sortedGroupsLocked() []*group {
	out := make([]*group, 0, len(s.groups))
	for _, g := range s.groups {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b *group) int { return a.externalGroupID - b.externalGroupID })
	return out
}
