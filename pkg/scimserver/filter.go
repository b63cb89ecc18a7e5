package scimserver

import (
	"context"
	"net/http"
	"strings"

	"github.com/elimity-com/scim"
	filter "github.com/scim2/filter-parser/v2"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// scanBatch is how many people a filtered list reads at a time.
const scanBatch = 500

// GetAll implements scim.ResourceHandler: people in employee ID order, filtered, one page.
// Equality on userName, externalId or an email is a single lookup; other filters scan the
// directory, which is fine at the size of one company and says so in a comment rather than
// an index.
func (h *users) GetAll(r *http.Request, params scim.ListRequestParams) (scim.Page, error) {
	ctx := r.Context()
	v, err := h.p.newView(ctx)
	if err != nil {
		return scim.Page{}, err
	}
	count := min(max(params.Count, 0), h.p.cfg.MaxResults)
	start := max(params.StartIndex, 1)
	page := scim.Page{Resources: []scim.Resource{}}
	if params.FilterValidator == nil {
		total, err := h.p.cfg.Directory.CountPeople(ctx, directory.PersonFilter{})
		if err != nil {
			return page, h.p.internal("counting people", err)
		}
		page.TotalResults = int(total)
		if count == 0 {
			return page, nil
		}
		people, err := h.p.cfg.Directory.ListPeople(ctx, directory.PersonFilter{Limit: count, Offset: start - 1})
		if err != nil {
			return page, h.p.internal("listing people", err)
		}
		return h.page(ctx, v, page, people)
	}
	expr := params.FilterValidator.GetFilter()
	var matched []identity.Person
	keep := func(p identity.Person) {
		if matchUser(expr, p.ID, v.userOf(p)) {
			matched = append(matched, p)
		}
	}
	if key, ok := lookupKey(expr); ok {
		p, found, err := h.holder(ctx, key)
		if err != nil {
			return page, err
		}
		if found {
			keep(p)
		}
	} else {
		for off := 0; ; off += scanBatch {
			people, err := h.p.cfg.Directory.ListPeople(ctx, directory.PersonFilter{Limit: scanBatch, Offset: off})
			if err != nil {
				return page, h.p.internal("listing people", err)
			}
			for _, p := range people {
				keep(p)
			}
			if len(people) < scanBatch {
				break
			}
		}
	}
	page.TotalResults = len(matched)
	if start > len(matched) {
		return page, nil
	}
	return h.page(ctx, v, page, matched[start-1:min(len(matched), start-1+count)])
}

func (h *users) page(ctx context.Context, v *view, page scim.Page, people []identity.Person) (scim.Page, error) {
	for _, p := range people {
		res, err := v.resource(ctx, p)
		if err != nil {
			return page, err
		}
		page.Resources = append(page.Resources, res)
	}
	return page, nil
}

// lookupKey is the value of a filter that is one equality on an attribute LookupPerson
// searches (the match is still checked, since the lookup also tries the other keys).
func lookupKey(e filter.Expression) (string, bool) {
	switch x := e.(type) {
	case *filter.AttributeExpression:
		v, ok := x.CompareValue.(string)
		if !ok || x.Operator != filter.EQ || x.AttributePath.URIPrefix != nil && !strings.EqualFold(*x.AttributePath.URIPrefix, UserSchema) {
			return "", false
		}
		switch strings.ToLower(x.AttributePath.String()) {
		case "username", "externalid", "emails.value", "id":
			return v, true
		}
	case *filter.ValuePath:
		if strings.EqualFold(x.AttributePath.AttributeName, "emails") {
			if le, ok := x.ValueFilter.(*filter.LogicalExpression); ok && le.Operator == filter.AND {
				for _, side := range []filter.Expression{le.Left, le.Right} {
					if a, ok := side.(*filter.AttributeExpression); ok && strings.EqualFold(a.AttributePath.AttributeName, "value") && a.Operator == filter.EQ {
						v, ok := a.CompareValue.(string)
						return v, ok
					}
				}
			}
		}
	}
	return "", false
}

// attrValues are a user's values for a filter's attribute path, lower-cased key first;
// caseExact says whether comparisons on it are case-sensitive (RFC 7643 §2.2).
func attrValues(id string, u user, path filter.AttributePath) (vals []any, caseExact bool) {
	key := strings.ToLower(path.AttributeName)
	if path.SubAttribute != nil {
		key += "." + strings.ToLower(*path.SubAttribute)
	}
	if path.URIPrefix != nil {
		switch strings.ToLower(*path.URIPrefix) {
		case strings.ToLower(EnterpriseSchema):
			key = "ent:" + key
		case strings.ToLower(UserSchema):
		default:
			return nil, false
		}
	}
	str := func(s string, exact bool) ([]any, bool) {
		if s == "" {
			return nil, exact
		}
		return []any{s}, exact
	}
	switch key {
	case "id":
		return str(id, true)
	case "username":
		return str(u.UserName, false)
	case "externalid":
		return str(u.ExternalID, true)
	case "active":
		return []any{*u.Active}, true
	case "name.givenname":
		return str(u.GivenName, false)
	case "name.familyname":
		return str(u.FamilyName, false)
	case "nickname":
		return str(u.NickName, false)
	case "displayname":
		return str(strings.TrimSpace(firstNonEmpty(u.NickName, u.GivenName)+" "+u.FamilyName), false)
	case "title":
		return str(u.Title, false)
	case "usertype":
		return str(u.UserType, false)
	case "emails", "emails.value":
		return str(u.WorkEmail, false)
	case "emails.type":
		if u.WorkEmail == "" {
			return nil, false
		}
		return []any{"work"}, false
	case "ent:employeenumber":
		return str(u.EmployeeNumber, true)
	case "ent:costcenter":
		return str(u.CostCenter, false)
	case "ent:organization":
		return str(u.Organization, false)
	case "ent:division":
		return str(u.Division, false)
	case "ent:department":
		return str(u.Department, false)
	case "ent:manager", "ent:manager.value":
		return str(u.Manager, true)
	}
	return nil, false
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// matchUser evaluates a parsed filter against a user. Tenure holds one email, so a value path
// on emails is the same user's attributes with the emails. prefix.
func matchUser(e filter.Expression, id string, u user) bool {
	switch x := e.(type) {
	case *filter.LogicalExpression:
		if x.Operator == filter.AND {
			return matchUser(x.Left, id, u) && matchUser(x.Right, id, u)
		}
		return matchUser(x.Left, id, u) || matchUser(x.Right, id, u)
	case *filter.NotExpression:
		return !matchUser(x.Expression, id, u)
	case *filter.ValuePath:
		return matchUser(withParent(x.ValueFilter, x.AttributePath.AttributeName), id, u)
	case *filter.AttributeExpression:
		vals, exact := attrValues(id, u, x.AttributePath)
		if x.Operator == filter.PR {
			return len(vals) > 0
		}
		for _, v := range vals {
			if compare(v, x.Operator, x.CompareValue, exact) {
				return true
			}
		}
	}
	return false
}

// withParent rewrites the attributes inside a value path (type, value) as sub-attributes of
// its attribute (emails.type, emails.value).
func withParent(e filter.Expression, parent string) filter.Expression {
	switch x := e.(type) {
	case *filter.LogicalExpression:
		return &filter.LogicalExpression{Left: withParent(x.Left, parent), Right: withParent(x.Right, parent), Operator: x.Operator}
	case *filter.NotExpression:
		return &filter.NotExpression{Expression: withParent(x.Expression, parent)}
	case *filter.AttributeExpression:
		sub := x.AttributePath.AttributeName
		return &filter.AttributeExpression{AttributePath: filter.AttributePath{AttributeName: parent, SubAttribute: &sub},
			Operator: x.Operator, CompareValue: x.CompareValue}
	}
	return e
}

func compare(have any, op filter.CompareOperator, want any, exact bool) bool {
	if b, ok := have.(bool); ok {
		w, ok := want.(bool)
		return ok && (op == filter.EQ && b == w || op == filter.NE && b != w)
	}
	h, _ := have.(string)
	w, ok := want.(string)
	if !ok {
		return false
	}
	if !exact {
		h, w = strings.ToLower(h), strings.ToLower(w)
	}
	switch op {
	case filter.EQ:
		return h == w
	case filter.NE:
		return h != w
	case filter.CO:
		return strings.Contains(h, w)
	case filter.SW:
		return strings.HasPrefix(h, w)
	case filter.EW:
		return strings.HasSuffix(h, w)
	case filter.GT:
		return h > w
	case filter.GE:
		return h >= w
	case filter.LT:
		return h < w
	case filter.LE:
		return h <= w
	}
	return false
}
