package scim

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tenure-id/tenure/pkg/connector"
)

// maxVersionRetries bounds the fresh reads after a 412 within one Apply: a user that keeps
// changing is handed back to the workers to retry later rather than fought over.
const maxVersionRetries = 3

// versionRetryAfter is the wait asked for after the fresh reads ran out: long enough for a
// burst of edits by another client to pass, short enough not to leave the change pending.
const versionRetryAfter = 5 * time.Second

// List implements connector.Connector: every user, page by page, with memberships from one
// read of the groups.
func (c *Connector) List(ctx context.Context) ([]connector.Account, error) {
	users, err := c.pages(ctx, c.p.UserPath, "")
	if err != nil {
		return nil, fmt.Errorf("app %s: listing users: %w", c.app, err)
	}
	if c.indexed() {
		c.indexLoad(users)
	}
	member, err := c.memberships(ctx)
	if err != nil {
		return nil, fmt.Errorf("app %s: listing groups: %w", c.app, err)
	}
	out := make([]connector.Account, 0, len(users))
	for _, u := range users {
		a := c.toAccount(u)
		a.Memberships = member[a.ID]
		out = append(out, a)
	}
	return out, nil
}

// Find implements connector.Finder.
func (c *Connector) Find(ctx context.Context, m connector.Match) (connector.Account, error) {
	u, ok, err := c.findUser(ctx, m)
	if err != nil {
		return connector.Account{}, fmt.Errorf("app %s: find: %w", c.app, err)
	}
	if !ok {
		return connector.Account{}, &connector.Error{Kind: connector.ErrNotFound, Detail: fmt.Sprintf("app %s: no user matches", c.app)}
	}
	a := c.toAccount(u)
	if a.Memberships, err = c.membershipsOf(ctx, a.ID); err != nil {
		return connector.Account{}, fmt.Errorf("app %s: find: reading groups: %w", c.app, err)
	}
	return a, nil
}

// findUser tries m's keys in order, by filter where the app filters on the key and by listing
// the users otherwise.
func (c *Connector) findUser(ctx context.Context, m connector.Match) (resource, bool, error) {
	emailFilter := ""
	for _, f := range c.p.Filters {
		if isEmailFilter(f) {
			emailFilter = f
			break
		}
	}
	keys := []struct{ attr, value string }{{"externalId", m.ExternalID}, {"userName", m.UserName}, {emailFilter, m.Email}}
	scan := false
	for _, k := range keys {
		if k.value == "" {
			continue
		}
		if k.attr == "externalId" && c.indexed() && !slices.Contains(c.p.Filters, k.attr) {
			u, ok, err := c.byExternalID(ctx, k.value)
			if err != nil || ok {
				return u, ok, err
			}
			continue
		}
		if k.attr == "" || !slices.Contains(c.p.Filters, k.attr) {
			scan = true
			continue
		}
		found, err := c.pages(ctx, c.p.UserPath, k.attr+" eq "+quote(k.value))
		if err != nil {
			return nil, false, err
		}
		if len(found) > 0 {
			return found[0], true, nil
		}
	}
	if !scan {
		return nil, false, nil
	}
	all, err := c.pages(ctx, c.p.UserPath, "")
	if err != nil {
		return nil, false, err
	}
	for _, k := range keys {
		for _, u := range all {
			a := c.toAccount(u)
			switch {
			case k.value == "":
			case k.attr == "externalId" && a.ExternalID == k.value,
				k.attr == "userName" && strings.EqualFold(a.UserName, k.value),
				k.attr != "externalId" && k.attr != "userName" && strings.EqualFold(a.Email, k.value):
				return u, true, nil
			}
		}
	}
	return nil, false, nil
}

// Apply implements connector.Connector.
func (c *Connector) Apply(ctx context.Context, op connector.Op) (connector.Account, error) {
	if op.Kind != connector.OpCreate && op.AccountID == "" {
		return connector.Account{}, invalid("app %s: %s without an account ID", c.app, op.Kind)
	}
	var (
		a   connector.Account
		err error
	)
	switch op.Kind {
	case connector.OpCreate:
		a, err = c.create(ctx, op.Account)
	case connector.OpUpdate:
		a, err = c.update(ctx, op.AccountID, op.Account, op.Fields)
	case connector.OpEnable, connector.OpDisable:
		a, err = c.setActive(ctx, op.AccountID, op.Kind == connector.OpEnable)
	case connector.OpDelete:
		a, err = c.delete(ctx, op.AccountID, op.Account)
	case connector.OpAddMember, connector.OpRemoveMember:
		a, err = c.membership(ctx, op)
	default:
		return connector.Account{}, invalid("app %s: unknown operation %q", c.app, op.Kind)
	}
	if err != nil {
		return connector.Account{}, fmt.Errorf("app %s: %s %s: %w", c.app, op.Kind, describe(op), err)
	}
	return a, nil
}

func describe(op connector.Op) string {
	if op.AccountID != "" {
		return op.AccountID
	}
	return op.Account.UserName
}

func invalid(format string, args ...any) error {
	return &connector.Error{Kind: connector.ErrInvalid, Detail: fmt.Sprintf(format, args...)}
}

func (c *Connector) create(ctx context.Context, a connector.Account) (connector.Account, error) {
	if strings.TrimSpace(a.UserName) == "" {
		return connector.Account{}, invalid("userName is required")
	}
	if c.p.MaxUserNameLen > 0 && len([]rune(a.UserName)) > c.p.MaxUserNameLen {
		return connector.Account{}, invalid("userName %q is longer than the app's %d characters", a.UserName, c.p.MaxUserNameLen)
	}
	for _, f := range c.p.Required {
		if a.Field(f) == "" {
			return connector.Account{}, invalid("%s is required by %s", f, c.p.Name)
		}
	}
	if a.ExternalID != "" {
		// The create may have landed before a crash or timeout: adopt, never duplicate.
		u, ok, err := c.findUser(ctx, connector.Match{ExternalID: a.ExternalID})
		if err != nil {
			return connector.Account{}, err
		}
		if ok {
			return c.toAccount(u), nil
		}
	}
	var out resource
	_, err := c.Do(ctx, http.MethodPost, c.p.UserPath, nil, c.userBody(a, nil, nil, true), nil, &out)
	if errors.Is(err, connector.ErrConflict) && a.ExternalID != "" {
		u, ok, ferr := c.findUser(ctx, connector.Match{ExternalID: a.ExternalID, UserName: a.UserName, Email: a.Email})
		if ferr == nil && ok && str(u["externalId"]) == a.ExternalID {
			return c.toAccount(u), nil
		}
	}
	if err != nil {
		if c.indexed() && outcomeUnknown(err) {
			c.indexStale() // the user may exist now without the index knowing
		}
		return connector.Account{}, err
	}
	if out.id() == "" {
		c.indexStale()
		return connector.Account{}, &connector.Error{Kind: connector.ErrUnavailable, Status: http.StatusCreated,
			Detail: "the app answered the create without the new user's id"}
	}
	if c.indexed() && a.ExternalID != "" {
		c.indexPut(a.ExternalID, out.id())
	}
	return c.toAccount(out), nil
}

// userBody writes a into a user resource: a new one, or base (the current user) for a PUT.
// Only fields (all mapped fields when empty) are written.
func (c *Connector) userBody(a connector.Account, base resource, fields []string, all bool) resource {
	r := resource{}
	if base != nil {
		r = deepCopy(base)
		delete(r, "meta")
	}
	want := func(f string) bool { return all || len(fields) == 0 || slices.Contains(fields, f) }
	if want("user_name") || base == nil {
		r["userName"] = a.UserName
	}
	if a.ExternalID != "" && (base == nil || str(base["externalId"]) == "") {
		r["externalId"] = a.ExternalID
	}
	if base == nil {
		r["active"] = a.Active
	} else if want("active") && slices.Contains(fields, "active") {
		r["active"] = a.Active
	}
	for _, f := range c.m.fields {
		if want(f) {
			set(r, c.m.paths[f], a.Field(f))
		}
	}
	schemas := []any{UserSchema}
	for _, urn := range c.m.urns {
		if _, ok := r[urn]; ok {
			schemas = append(schemas, urn)
		}
	}
	r["schemas"] = schemas
	return r
}

func deepCopy(r resource) resource {
	var cp func(v any) any
	cp = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			m := make(map[string]any, len(x))
			for k, e := range x {
				m[k] = cp(e)
			}
			return m
		case []any:
			l := make([]any, len(x))
			for i, e := range x {
				l[i] = cp(e)
			}
			return l
		}
		return v
	}
	return resource(cp(map[string]any(r)).(map[string]any))
}

func (c *Connector) toAccount(r resource) connector.Account {
	a := connector.Account{ID: r.id(), ExternalID: str(r["externalId"]), UserName: str(getFold(r, "userName")), Active: true}
	switch v := getFold(r, "active").(type) {
	case bool:
		a.Active = v
	case string:
		a.Active = !strings.EqualFold(v, "false")
	}
	for _, f := range c.m.fields {
		a.SetField(f, get(r, c.m.paths[f]))
	}
	return a
}

func (c *Connector) userPath(id string) string { return c.p.UserPath + "/" + url.PathEscape(id) }

func (c *Connector) getUser(ctx context.Context, id string) (resource, http.Header, error) {
	var r resource
	h, err := c.Do(ctx, http.MethodGet, c.userPath(id), nil, nil, nil, &r)
	return r, h, err
}

// write sends one change to a user: build makes the method and body from the current user
// (read first when the body needs it or the app versions users). With ETags the write carries
// If-Match, and a 412 (someone else changed the user meanwhile) is retried on a fresh read.
func (c *Connector) write(ctx context.Context, id string, needCurrent bool, build func(cur resource) (string, any)) (connector.Account, error) {
	etag, err := c.etagSupported(ctx)
	if err != nil {
		return connector.Account{}, err
	}
	for attempt := 1; ; attempt++ {
		var cur resource
		hdr := http.Header{}
		if needCurrent || etag {
			r, h, err := c.getUser(ctx, id)
			if err != nil {
				return connector.Account{}, err
			}
			cur = r
			if v := h.Get("ETag"); etag && v != "" {
				hdr.Set("If-Match", v)
			} else if v := r.version(); etag && v != "" {
				hdr.Set("If-Match", v)
			}
		}
		method, body := build(cur)
		var out resource
		_, err := c.Do(ctx, method, c.userPath(id), nil, body, hdr, &out)
		var ce *connector.Error
		if errors.As(err, &ce) && ce.Status == http.StatusPreconditionFailed {
			if attempt < maxVersionRetries {
				c.log.Debug("scim: user changed since read; retrying with a fresh version", "app", c.app, "id", id, "attempt", attempt)
				continue
			}
			// Someone else keeps writing the user: a race, not a disagreement, so the write is
			// worth another try once things settle rather than a terminal conflict.
			return connector.Account{}, &connector.Error{Kind: connector.ErrUnavailable, Status: http.StatusPreconditionFailed,
				RetryAfter: versionRetryAfter,
				Detail:     fmt.Sprintf("user %s changed in the app during each of %d attempts (If-Match refused); retry later", id, attempt)}
		}
		if err != nil {
			return connector.Account{}, err
		}
		if out.id() == "" { // 204, or an app that answers writes without the resource
			if out, _, err = c.getUser(ctx, id); err != nil {
				return connector.Account{}, err
			}
		}
		return c.toAccount(out), nil
	}
}

func patchBody(ops ...map[string]any) map[string]any {
	return map[string]any{"schemas": []string{patchSchema}, "Operations": ops}
}

func (c *Connector) update(ctx context.Context, id string, a connector.Account, fields []string) (connector.Account, error) {
	if len(fields) == 0 {
		fields = c.traits.Fields
	}
	if slices.Contains(fields, "user_name") && strings.TrimSpace(a.UserName) == "" {
		return connector.Account{}, invalid("userName is required")
	}
	if c.p.Update == UpdatePut {
		return c.write(ctx, id, true, func(cur resource) (string, any) {
			return http.MethodPut, c.userBody(a, cur, fields, false)
		})
	}
	var ops []map[string]any
	for _, f := range fields {
		switch f {
		case "user_name":
			ops = append(ops, map[string]any{"op": "replace", "path": "userName", "value": a.UserName})
		case "active":
			ops = append(ops, map[string]any{"op": "replace", "path": "active", "value": a.Active})
		default:
			p, ok := c.m.paths[f]
			if !ok {
				continue // not held by this app
			}
			v := a.Field(f)
			switch {
			case multiValued[p.attr] && p.typ == "" && p.urn == "":
				// "roles.value" with no filter would set the sub-attribute of every element
				// and of none when the list is empty (RFC 7644 §3.5.2.3): the field is
				// one value, so the list is replaced by that one element.
				if v == "" {
					ops = append(ops, map[string]any{"op": "remove", "path": p.attr})
				} else {
					ops = append(ops, map[string]any{"op": "replace", "path": p.attr,
						"value": []any{map[string]any{p.sub: v, "primary": true}}})
				}
			case v != "":
				ops = append(ops, map[string]any{"op": "replace", "path": p.patchPath(), "value": v})
			default:
				ops = append(ops, map[string]any{"op": "remove", "path": p.patchPath()})
			}
		}
	}
	if len(ops) == 0 {
		r, _, err := c.getUser(ctx, id)
		if err != nil {
			return connector.Account{}, err
		}
		return c.toAccount(r), nil
	}
	return c.write(ctx, id, false, func(resource) (string, any) { return http.MethodPatch, patchBody(ops...) })
}

func (c *Connector) setActive(ctx context.Context, id string, active bool) (connector.Account, error) {
	if c.p.Update == UpdatePut {
		return c.write(ctx, id, true, func(cur resource) (string, any) {
			body := deepCopy(cur)
			delete(body, "meta")
			body["active"] = active
			return http.MethodPut, body
		})
	}
	op := map[string]any{"op": "replace", "path": "active", "value": active}
	return c.write(ctx, id, false, func(resource) (string, any) { return http.MethodPatch, patchBody(op) })
}

func (c *Connector) delete(ctx context.Context, id string, a connector.Account) (connector.Account, error) {
	_, err := c.Do(ctx, http.MethodDelete, c.userPath(id), nil, nil, nil, nil)
	if err != nil && !errors.Is(err, connector.ErrNotFound) {
		return connector.Account{}, err
	}
	if err == nil && c.p.DeleteDeactivates {
		// The user is still there, deactivated: report it as the app holds it.
		if r, _, gerr := c.getUser(ctx, id); gerr == nil {
			return c.toAccount(r), nil
		}
	}
	a.ID, a.Active, a.Memberships = id, false, nil
	a.Attributes = maps.Clone(a.Attributes)
	return a, nil
}
