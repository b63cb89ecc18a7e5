package scimserver

import (
	"errors"
	"net/http"
	"strings"

	"github.com/elimity-com/scim"
	scimerr "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	filter "github.com/scim2/filter-parser/v2"

	"github.com/tenure-id/tenure/pkg/identity"
)

// groups is the read-only /Groups handler. Writes never reach it: Handler answers them first.
type groups struct{ p *Provider }

var _ scim.ResourceHandler = (*groups)(nil)

func (h *groups) resource(r *http.Request, g identity.Group) (scim.Resource, error) {
	members, err := h.p.cfg.Directory.GroupMembers(r.Context(), g.ID)
	if err != nil {
		return scim.Resource{}, h.p.internal("reading group members", err)
	}
	list := make([]any, len(members))
	for i, m := range members {
		list[i] = map[string]any{"value": m.ID, "display": m.DisplayName(), "type": "User", "$ref": "Users/" + m.ID}
	}
	return scim.Resource{ID: g.ID, ExternalID: optional.NewString(g.Source + ":" + g.Name),
		Attributes: scim.ResourceAttributes{"displayName": g.Name, "members": list}}, nil
}

// Get implements scim.ResourceHandler.
func (h *groups) Get(r *http.Request, id string) (scim.Resource, error) {
	g, err := h.p.cfg.Directory.GetGroup(r.Context(), id)
	switch {
	case errors.Is(err, identity.ErrNotFound):
		return scim.Resource{}, scimerr.ScimErrorResourceNotFound(id)
	case err != nil:
		return scim.Resource{}, h.p.internal("reading a group", err)
	}
	return h.resource(r, g)
}

// GetAll implements scim.ResourceHandler: the filter supports displayName, id and externalId.
func (h *groups) GetAll(r *http.Request, params scim.ListRequestParams) (scim.Page, error) {
	all, err := h.p.cfg.Directory.ListGroups(r.Context())
	if err != nil {
		return scim.Page{}, h.p.internal("listing groups", err)
	}
	var matched []identity.Group
	for _, g := range all {
		if params.FilterValidator == nil || matchGroup(params.FilterValidator.GetFilter(), g) {
			matched = append(matched, g)
		}
	}
	page := scim.Page{TotalResults: len(matched), Resources: []scim.Resource{}}
	start, count := max(params.StartIndex, 1), min(max(params.Count, 0), h.p.cfg.MaxResults)
	for i := start - 1; i < len(matched) && i < start-1+count; i++ {
		res, err := h.resource(r, matched[i])
		if err != nil {
			return page, err
		}
		page.Resources = append(page.Resources, res)
	}
	return page, nil
}

func matchGroup(e filter.Expression, g identity.Group) bool {
	switch x := e.(type) {
	case *filter.LogicalExpression:
		if x.Operator == filter.AND {
			return matchGroup(x.Left, g) && matchGroup(x.Right, g)
		}
		return matchGroup(x.Left, g) || matchGroup(x.Right, g)
	case *filter.NotExpression:
		return !matchGroup(x.Expression, g)
	case *filter.AttributeExpression:
		var have string
		exact := true
		switch strings.ToLower(x.AttributePath.AttributeName) {
		case "displayname":
			have, exact = g.Name, false
		case "id":
			have = g.ID
		case "externalid":
			have = g.Source + ":" + g.Name
		default:
			return false
		}
		if x.Operator == filter.PR {
			return have != ""
		}
		return compare(have, x.Operator, x.CompareValue, exact)
	}
	return false
}

func (h *groups) Create(*http.Request, scim.ResourceAttributes) (scim.Resource, error) {
	return scim.Resource{}, groupsReadOnly()
}

func (h *groups) Replace(*http.Request, string, scim.ResourceAttributes) (scim.Resource, error) {
	return scim.Resource{}, groupsReadOnly()
}

func (h *groups) Patch(*http.Request, string, []scim.PatchOperation) (scim.Resource, error) {
	return scim.Resource{}, groupsReadOnly()
}

func (h *groups) Delete(*http.Request, string) error { return groupsReadOnly() }
