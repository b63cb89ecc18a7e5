package slackfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tenure-id/tenure/connectors/internal/fakehttp"
)

// group is a Slack user group; members are user ids.
type group struct {
	id, displayName string
	members         []string
	seq             int
	created         time.Time
}

func (g *group) doc(s *Server) map[string]any {
	members := []any{}
	for _, id := range g.members {
		m := map[string]any{"value": id}
		if u := s.users[id]; u != nil {
			m["display"] = u.displayName
		}
		members = append(members, m)
	}
	return map[string]any{
		"schemas":     []any{groupSchema},
		"id":          g.id,
		"displayName": g.displayName,
		"members":     members,
		"meta":        map[string]any{"created": g.created.UTC().Format(time.RFC3339), "location": "https://api.slack.com/scim/v2/Groups/" + g.id},
	}
}

func (s *Server) decodeGroup(doc map[string]any) (group, error) {
	var in struct {
		Schemas     []string `json:"schemas"`
		DisplayName string   `json:"displayName"`
		Members     []struct {
			Value string `json:"value"`
		} `json:"members"`
	}
	b, _ := json.Marshal(doc)
	if err := json.Unmarshal(b, &in); err != nil {
		return group{}, fmt.Errorf("invalid group: %w", err)
	}
	if !slices.Contains(in.Schemas, groupSchema) {
		return group{}, fmt.Errorf("schemas must contain %s", groupSchema)
	}
	if in.DisplayName == "" {
		return group{}, fmt.Errorf("displayName is required")
	}
	g := group{displayName: in.DisplayName}
	for _, m := range in.Members {
		u := s.users[m.Value]
		if u == nil {
			return group{}, fmt.Errorf("member %q is not a user", m.Value)
		}
		if !u.active {
			return group{}, fmt.Errorf("member %q is deactivated", m.Value)
		}
		if !slices.Contains(g.members, m.Value) {
			g.members = append(g.members, m.Value)
		}
	}
	return g, nil
}

func (s *Server) groupsLocked(w http.ResponseWriter, r *http.Request, rest []string) {
	if len(rest) == 0 {
		switch r.Method {
		case http.MethodGet:
			if f := r.URL.Query().Get("filter"); f != "" {
				// Slack filters groups by displayName only.
				var name string
				if _, err := fmt.Sscanf(f, "displayName eq %q", &name); err != nil {
					s.error(w, http.StatusBadRequest, "invalidFilter", fmt.Sprintf("filter %q: groups filter on displayName eq only", f))
					return
				}
				var docs []map[string]any
				for _, g := range s.sortedGroupsLocked() {
					if strings.EqualFold(g.displayName, name) {
						docs = append(docs, g.doc(s))
					}
				}
				fakehttp.ListResponse(w, docs, 1, 1000)
				return
			}
			start, count, err := fakehttp.Paging(r, 100, 1000)
			if err != nil {
				s.error(w, http.StatusBadRequest, "invalidValue", err.Error())
				return
			}
			var docs []map[string]any
			for _, g := range s.sortedGroupsLocked() {
				docs = append(docs, g.doc(s))
			}
			fakehttp.ListResponse(w, docs, start, count)
		case http.MethodPost:
			doc, err := fakehttp.ReadObject(r)
			if err != nil {
				s.error(w, http.StatusBadRequest, "invalidSyntax", "invalid_json")
				return
			}
			g, err := s.decodeGroup(doc)
			if err != nil {
				s.error(w, http.StatusBadRequest, "invalidValue", err.Error())
				return
			}
			if err := s.uniqueGroupLocked(g.displayName, ""); err != nil {
				s.error(w, http.StatusConflict, "uniqueness", err.Error())
				return
			}
			s.seq++
			g.id, g.seq, g.created = fmt.Sprintf("S%08X", 0x2000000+s.seq*7919), s.seq, s.opts.Now()
			s.groups[g.id] = &g
			writeJSON(w, http.StatusCreated, g.doc(s))
		default:
			s.error(w, http.StatusMethodNotAllowed, "", "method_not_allowed")
		}
		return
	}
	g, ok := s.groups[rest[0]]
	if !ok || len(rest) > 1 {
		s.error(w, http.StatusNotFound, "", "group_not_found")
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, g.doc(s))
	case http.MethodPut, http.MethodPatch:
		doc, ok := s.replacement(w, r, func() map[string]any { return g.doc(s) })
		if !ok {
			return
		}
		ng, err := s.decodeGroup(doc)
		if err != nil {
			s.error(w, http.StatusBadRequest, "invalidValue", err.Error())
			return
		}
		if err := s.uniqueGroupLocked(ng.displayName, g.id); err != nil {
			s.error(w, http.StatusConflict, "uniqueness", err.Error())
			return
		}
		ng.id, ng.seq, ng.created = g.id, g.seq, g.created
		*g = ng
		writeJSON(w, http.StatusOK, g.doc(s))
	case http.MethodDelete:
		delete(s.groups, g.id) // a user group's DELETE is permanent
		w.WriteHeader(http.StatusNoContent)
	default:
		s.error(w, http.StatusMethodNotAllowed, "", "method_not_allowed")
	}
}

func (s *Server) uniqueGroupLocked(name, self string) error {
	for _, g := range s.groups {
		if g.id != self && strings.EqualFold(g.displayName, name) {
			return fmt.Errorf("name_taken: %q", name)
		}
	}
	return nil
}

func (s *Server) sortedGroupsLocked() []*group {
	out := make([]*group, 0, len(s.groups))
	for _, g := range s.groups {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b *group) int { return a.seq - b.seq })
	return out
}
