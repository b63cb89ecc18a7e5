package scimtarget

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/elimity-com/scim"
	scimerr "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
	"github.com/tenure-id/tenure/connectors/internal/scimpatch"
)

// record is one stored resource. attrs hold the validated attributes, externalId included,
// with the enterprise extension under its schema URN.
type record struct {
	id       string
	seq      int
	attrs    map[string]any
	version  int
	created  time.Time
	modified time.Time
}

// store is one resource type's handler (scim.ResourceHandler); its state is guarded by t.mu.
type store struct {
	t       *Target
	kind    string
	schema  schema.Schema
	ext     []schema.Schema
	records map[string]*record
}

var _ scim.ResourceHandler = (*store)(nil)

func (s *store) etag(rec *record) string { return `W/"` + strconv.Itoa(rec.version) + `"` }

func (s *store) resource(rec *record) scim.Resource {
	attrs := deepCopy(rec.attrs).(map[string]any)
	res := scim.Resource{ID: rec.id, Attributes: attrs}
	if ext, ok := attrs["externalId"].(string); ok && ext != "" {
		res.ExternalID = optional.NewString(ext)
	}
	created, modified := rec.created, rec.modified
	res.Meta = scim.Meta{Created: &created, LastModified: &modified}
	if s.t.opts.ETag {
		res.Meta.Version = s.etag(rec)
	}
	return res
}

func notFound(id string) error { return scimerr.ScimErrorResourceNotFound(id) }

func uniqueness(detail string) error {
	e := scimerr.ScimErrorUniqueness
	e.Detail = detail
	return e
}

func invalidValue(detail string) error {
	e := scimerr.ScimErrorInvalidValue
	e.Detail = detail
	return e
}

// Create implements scim.ResourceHandler.
func (s *store) Create(r *http.Request, attrs scim.ResourceAttributes) (scim.Resource, error) {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	m := map[string]any(attrs)
	if err := s.check(m, ""); err != nil {
		return scim.Resource{}, err
	}
	s.t.seq++
	now := s.t.opts.Now()
	rec := &record{id: newID(s.kind, s.t.seq), seq: s.t.seq, attrs: deepCopy(m).(map[string]any), version: 1, created: now, modified: now}
	s.records[rec.id] = rec
	return s.resource(rec), nil
}

func newID(kind string, seq int) string {
	return fmt.Sprintf("%s-%08x-%04d", strings.ToLower(kind), uint32(seq)*2654435761, seq)
}

// Get implements scim.ResourceHandler.
func (s *store) Get(r *http.Request, id string) (scim.Resource, error) {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	rec, ok := s.records[id]
	if !ok {
		return scim.Resource{}, notFound(id)
	}
	return s.resource(rec), nil
}

// GetAll implements scim.ResourceHandler: the filter, then one page in creation order.
func (s *store) GetAll(r *http.Request, params scim.ListRequestParams) (scim.Page, error) {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	all := make([]*record, 0, len(s.records))
	for _, rec := range s.records {
		if params.FilterValidator != nil && !scimpatch.Matches(params.FilterValidator.GetFilter(), withID(rec)) {
			continue
		}
		all = append(all, rec)
	}
	slices.SortFunc(all, func(a, b *record) int { return a.seq - b.seq })
	page := scim.Page{TotalResults: len(all), Resources: []scim.Resource{}}
	start := params.StartIndex - 1
	for i := start; i < len(all) && i < start+params.Count; i++ {
		page.Resources = append(page.Resources, s.resource(all[i]))
	}
	return page, nil
}

func withID(rec *record) map[string]any {
	m := make(map[string]any, len(rec.attrs)+1)
	for k, v := range rec.attrs {
		m[k] = v
	}
	m["id"] = rec.id
	return m
}

// Replace implements scim.ResourceHandler (PUT): every attribute is replaced.
func (s *store) Replace(r *http.Request, id string, attrs scim.ResourceAttributes) (scim.Resource, error) {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	rec, err := s.writable(r, id)
	if err != nil {
		return scim.Resource{}, err
	}
	m := map[string]any(attrs)
	if err := s.check(m, id); err != nil {
		return scim.Resource{}, err
	}
	s.commit(rec, deepCopy(m).(map[string]any))
	return s.resource(rec), nil
}

// Patch implements scim.ResourceHandler. Operations apply to a copy; nothing is stored unless
// all of them succeed and the result is valid.
func (s *store) Patch(r *http.Request, id string, ops []scim.PatchOperation) (scim.Resource, error) {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	rec, err := s.writable(r, id)
	if err != nil {
		return scim.Resource{}, err
	}
	next := deepCopy(rec.attrs).(map[string]any)
	for _, op := range ops {
		if err := s.applyOp(next, op); err != nil {
			return scim.Resource{}, err
		}
	}
	if err := s.check(next, id); err != nil {
		return scim.Resource{}, err
	}
	s.commit(rec, next)
	return s.resource(rec), nil
}

// Delete implements scim.ResourceHandler. A deleted user leaves every group.
func (s *store) Delete(r *http.Request, id string) error {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	rec, err := s.writable(r, id)
	if err != nil {
		return err
	}
	if s == s.t.users && s.t.opts.DeleteDeactivates {
		next := deepCopy(rec.attrs).(map[string]any)
		next["active"] = false
		s.commit(rec, next)
		return nil
	}
	delete(s.records, id)
	if s == s.t.users {
		for _, g := range s.t.groups.records {
			members, _ := g.attrs["members"].([]any)
			kept := slices.DeleteFunc(slices.Clone(members), func(m any) bool { return memberValue(m) == id })
			if len(kept) != len(members) {
				g.attrs["members"] = kept
				s.t.groups.commit(g, g.attrs)
			}
		}
	}
	return nil
}

func (s *store) commit(rec *record, attrs map[string]any) {
	rec.attrs = attrs
	rec.version++
	rec.modified = s.t.opts.Now()
}

// writable finds the resource a write targets and checks If-Match.
func (s *store) writable(r *http.Request, id string) (*record, error) {
	rec, ok := s.records[id]
	if !ok {
		return nil, notFound(id)
	}
	ifMatch := r.Header.Get("If-Match")
	if !s.t.opts.ETag || ifMatch == "" || ifMatch == "*" {
		return rec, nil
	}
	if s.t.stale > 0 {
		s.t.stale--
		rec.version++ // another client's write landed first
		rec.modified = s.t.opts.Now()
	}
	if ifMatch != s.etag(rec) {
		return nil, scimerr.ScimError{Status: http.StatusPreconditionFailed,
			Detail: fmt.Sprintf("%s %s has changed: version %s, If-Match %s", s.kind, id, s.etag(rec), ifMatch)}
	}
	return rec, nil
}

// check enforces what the schema cannot: required values after a PATCH, uniqueness, and group
// members that are users.
func (s *store) check(m map[string]any, self string) error {
	if s == s.t.users {
		name, _ := m["userName"].(string)
		if strings.TrimSpace(name) == "" {
			return invalidValue("userName is required")
		}
		ext, _ := m["externalId"].(string)
		emails := emailsOf(m)
		for _, o := range s.records {
			if o.id == self {
				continue
			}
			if on, _ := o.attrs["userName"].(string); strings.EqualFold(on, name) {
				return uniqueness(fmt.Sprintf("userName %q is already in use", name))
			}
			if oe, _ := o.attrs["externalId"].(string); ext != "" && oe == ext {
				return uniqueness(fmt.Sprintf("externalId %q is already in use", ext))
			}
			if s.t.opts.UniqueEmail {
				for _, e := range emailsOf(o.attrs) {
					if slices.Contains(emails, e) {
						return uniqueness(fmt.Sprintf("email %q is already in use", e))
					}
				}
			}
		}
		return nil
	}
	name, _ := m["displayName"].(string)
	if strings.TrimSpace(name) == "" {
		return invalidValue("displayName is required")
	}
	for _, o := range s.records {
		if on, _ := o.attrs["displayName"].(string); o.id != self && strings.EqualFold(on, name) {
			return uniqueness(fmt.Sprintf("group %q already exists", name))
		}
	}
	members, _ := m["members"].([]any)
	seen := map[string]bool{}
	kept := members[:0:0]
	for _, mem := range members {
		v := memberValue(mem)
		if _, ok := s.t.users.records[v]; !ok {
			return invalidValue(fmt.Sprintf("member %q is not a user", v))
		}
		if !seen[v] {
			seen[v] = true
			kept = append(kept, mem)
		}
	}
	if members != nil {
		m["members"] = kept
	}
	return nil
}

func memberValue(m any) string {
	mm, _ := m.(map[string]any)
	v, _ := mm["value"].(string)
	return v
}

func emailsOf(m map[string]any) []string {
	var out []string
	list, _ := m["emails"].([]any)
	for _, e := range list {
		if em, ok := e.(map[string]any); ok {
			if v, _ := em["value"].(string); v != "" {
				out = append(out, strings.ToLower(v))
			}
		}
	}
	return out
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case scim.ResourceAttributes:
		return deepCopy(map[string]any(x))
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = deepCopy(e)
		}
		return l
	}
	return v
}
