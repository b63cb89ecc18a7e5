package scimserver

import (
	"context"
	"errors"
	"net/http"
	"net/mail"
	"strings"

	"github.com/elimity-com/scim"
	scimerr "github.com/elimity-com/scim/errors"

	"github.com/tenure-id/tenure/pkg/identity"
)

// users is the /Users handler: people.
type users struct{ p *Provider }

var _ scim.ResourceHandler = (*users)(nil)

func (h *users) person(ctx context.Context, id string) (identity.Person, error) {
	p, err := h.p.cfg.Directory.GetPerson(ctx, id)
	switch {
	case errors.Is(err, identity.ErrNotFound):
		return p, scimerr.ScimErrorResourceNotFound(id)
	case err != nil:
		return p, h.p.internal("reading a person", err)
	}
	return p, nil
}

func (h *users) respond(ctx context.Context, p identity.Person) (scim.Resource, error) {
	v, err := h.p.newView(ctx)
	if err != nil {
		return scim.Resource{}, err
	}
	return v.resource(ctx, p)
}

// Get implements scim.ResourceHandler.
func (h *users) Get(r *http.Request, id string) (scim.Resource, error) {
	p, err := h.person(r.Context(), id)
	if err != nil {
		return scim.Resource{}, err
	}
	return h.respond(r.Context(), p)
}

// Create implements scim.ResourceHandler: a hire, effective now.
func (h *users) Create(r *http.Request, attrs scim.ResourceAttributes) (scim.Resource, error) {
	ctx := r.Context()
	var u user
	if err := u.walk(attrs); err != nil {
		return scim.Resource{}, err
	}
	emp, err := u.employeeID()
	if err != nil {
		return scim.Resource{}, err
	}
	if emp == "" {
		return scim.Resource{}, invalidValue("externalId (or the enterprise employeeNumber) is required: it is the employee ID")
	}
	// Who has not started yet is a pre-hire until their start date, which the start date
	// alone decides: active on a new user is only checked to have one.
	if u.Active != nil && !*u.Active && u.StartDate == nil {
		return scim.Resource{}, invalidValue("active: false needs startDate (in %s): a user who has not started yet is a pre-hire until that day", TenureSchema)
	}
	if held, ok, err := h.holder(ctx, emp); err != nil {
		return scim.Resource{}, err
	} else if ok && held.EmployeeID == emp {
		if held.Status == identity.Terminated {
			return scim.Resource{}, uniqueness("externalId %q is the terminated person %s: set active to true on Users/%s to rehire them", emp, held.ID, held.ID)
		}
		return scim.Resource{}, uniqueness("externalId %q is already the employee ID of Users/%s", emp, held.ID)
	}
	v, err := h.p.newView(ctx)
	if err != nil {
		return scim.Resource{}, err
	}
	c, err := h.change(ctx, v, identity.Person{}, u, emp)
	if err != nil {
		return scim.Resource{}, err
	}
	if err := h.p.cfg.Lifecycle.Hire(ctx, c); err != nil {
		return scim.Resource{}, h.p.lifecycleError(err)
	}
	p, err := h.p.cfg.Directory.LookupPerson(ctx, emp)
	if err != nil {
		return scim.Resource{}, h.p.internal("reading the hired person", err)
	}
	return h.respond(ctx, p) // a fresh view: the hire may have made org units
}

// Replace implements scim.ResourceHandler (PUT): the whole user as given.
func (h *users) Replace(r *http.Request, id string, attrs scim.ResourceAttributes) (scim.Resource, error) {
	cur, v, err := h.writable(r, id)
	if err != nil {
		return scim.Resource{}, err
	}
	var u user
	if err := u.walk(attrs); err != nil {
		return scim.Resource{}, err
	}
	if u.Active == nil { // not given: unchanged, never a termination by omission
		u.Active = v.userOf(cur).Active
	}
	return h.update(r.Context(), v, cur, u)
}

// Patch implements scim.ResourceHandler: the operations apply to the user as it is, and the
// result is handled as a PUT of it would be.
func (h *users) Patch(r *http.Request, id string, ops []scim.PatchOperation) (scim.Resource, error) {
	cur, v, err := h.writable(r, id)
	if err != nil {
		return scim.Resource{}, err
	}
	u := v.userOf(cur)
	for i, op := range ops {
		if err := u.apply(op); err != nil {
			var se scimerr.ScimError
			if errors.As(err, &se) {
				se.Detail = "Operations[" + itoa(i) + "]: " + se.Detail
				return scim.Resource{}, se
			}
			return scim.Resource{}, err
		}
	}
	return h.update(r.Context(), v, cur, u)
}

// Delete implements scim.ResourceHandler: a termination effective now. The person stays, as
// does their audit trail; deleting someone already terminated changes nothing.
func (h *users) Delete(r *http.Request, id string) error {
	cur, _, err := h.writable(r, id)
	if err != nil {
		return err
	}
	if cur.Status == identity.Terminated {
		return nil
	}
	if err := h.p.cfg.Lifecycle.Terminate(r.Context(), cur.EmployeeID); err != nil {
		return h.p.lifecycleError(err)
	}
	return nil
}

// writable reads the person a write targets and checks If-Match against their version.
func (h *users) writable(r *http.Request, id string) (identity.Person, *view, error) {
	cur, err := h.person(r.Context(), id)
	if err != nil {
		return cur, nil, err
	}
	if m := r.Header.Get("If-Match"); m != "" && m != "*" && m != version(cur) && m != strings.TrimPrefix(version(cur), "W/") {
		return cur, nil, scimError(http.StatusPreconditionFailed, "",
			"Users/"+id+" has changed: version "+version(cur)+", If-Match "+m)
	}
	v, err := h.p.newView(r.Context())
	return cur, v, err
}

// update takes a current person to u through the lifecycle: a return from leave or a rehire
// first, then the changes of a current worker, then a termination.
func (h *users) update(ctx context.Context, v *view, cur identity.Person, u user) (scim.Resource, error) {
	was := v.userOf(cur)
	if u.UserName != was.UserName && !strings.EqualFold(u.UserName, was.UserName) {
		return scim.Resource{}, mutability("userName: %q is assigned at hire and cannot change over SCIM (it is %q)", u.UserName, was.UserName)
	}
	for attr, emp := range map[string]string{"externalId": u.ExternalID, "employeeNumber": u.EmployeeNumber} {
		if emp != "" && emp != cur.EmployeeID {
			return scim.Resource{}, mutability("%s: the employee ID %q cannot change (it is %q)", attr, emp, cur.EmployeeID)
		}
	}
	if u.WorkEmail == "" {
		u.WorkEmail = cur.WorkEmail // the lifecycle changes a work email but never removes it
	}
	if u.StartDate == nil {
		u.StartDate = cur.StartDate
	}
	if !u.EndSet {
		u.EndDate = cur.EndDate // clients unaware of the extension must not end a contract early
	}
	if cur.Status != identity.PreHire && !sameDate(u.StartDate, cur.StartDate) && h.p.ahead(u.StartDate) {
		return scim.Resource{}, invalidValue("startDate: Users/%s has already started (%s); a start date ahead would not make them a pre-hire again",
			cur.ID, cur.Status)
	}
	c, err := h.change(ctx, v, cur, u, cur.EmployeeID)
	if err != nil {
		return scim.Resource{}, err
	}
	lc := h.p.cfg.Lifecycle
	wantActive, isActive := *u.Active, *was.Active
	switch {
	case cur.Status == identity.PreHire:
		// A pre-hire's active follows their start date: moving it to today starts them.
		err = lc.Change(ctx, c)
	case wantActive && !isActive && cur.Status == identity.Terminated:
		err = lc.Rehire(ctx, c)
	case wantActive && !isActive && cur.Status == identity.OnLeave:
		if err = lc.Return(ctx, cur.EmployeeID); err == nil {
			err = lc.Change(ctx, c)
		}
	case wantActive && !isActive:
		err = mutability("active: a %s person becomes active through HR (start date, reinstatement), not over SCIM", cur.Status)
	case cur.Status == identity.Terminated:
		if sameChange(c, h.currentChange(ctx, v, cur)) {
			break
		}
		err = mutability("Users/%s is terminated: set active to true to rehire them, with these changes", cur.ID)
	default:
		if err = lc.Change(ctx, c); err == nil && !wantActive && isActive {
			err = lc.Terminate(ctx, cur.EmployeeID)
		}
	}
	if err != nil {
		return scim.Resource{}, h.p.lifecycleError(err)
	}
	p, err := h.p.cfg.Directory.GetPerson(ctx, cur.ID)
	if err != nil {
		return scim.Resource{}, h.p.internal("reading the changed person", err)
	}
	return h.respond(ctx, p) // a fresh view: the change may have made org units
}

// currentChange is the person as a Change, to tell whether a write to a terminated person
// changes anything.
func (h *users) currentChange(ctx context.Context, v *view, p identity.Person) Change {
	path := v.path(p.OrgUnitID)
	c := Change{EmployeeID: p.EmployeeID, Username: p.Username, FirstName: p.LegalFirstName, LastName: p.LegalLastName,
		PreferredName: p.PreferredName, WorkEmail: p.WorkEmail, EmploymentType: p.EmploymentType, JobTitle: p.JobTitle,
		CostCenter: p.CostCenter, Organization: path.Organization, Division: path.Division, Department: path.Department, Team: path.Team,
		StartDate: p.StartDate, EndDate: p.EndDate}
	if p.ManagerID != "" {
		if m, err := v.manager(ctx, p.ManagerID); err == nil {
			c.ManagerEmployeeID = m.EmployeeID
		}
	}
	return c
}

// change checks u and turns it into the Change for employee emp; cur is the person as stored
// (zero for a hire). What the lifecycle would reject is refused here first, with the SCIM
// attribute named, so a write is either wholly applied or not at all.
func (h *users) change(ctx context.Context, v *view, cur identity.Person, u user, emp string) (Change, error) {
	if u.UserName == "" {
		return Change{}, invalidValue("userName is required")
	}
	if u.GivenName == "" && u.FamilyName == "" {
		return Change{}, invalidValue("name.givenName or name.familyName is required")
	}
	et := cur.EmploymentType
	if u.UserType != "" {
		t, err := identity.ParseEmploymentType(u.UserType)
		if err != nil {
			return Change{}, invalidValue("userType: %q is not one of employee, contractor, vendor, intern", u.UserType)
		}
		et = t
	}
	if et == "" {
		et = identity.Employee
	}
	if u.WorkEmail != "" {
		if a, err := mail.ParseAddress(u.WorkEmail); err != nil || a.Address != u.WorkEmail {
			return Change{}, invalidValue("emails: %q is not an email address", u.WorkEmail)
		}
	}
	for _, k := range []struct{ attr, val, own string }{{"userName", u.UserName, cur.Username}, {"emails", u.WorkEmail, cur.WorkEmail}} {
		if k.val == "" || strings.EqualFold(k.val, k.own) {
			continue
		}
		held, ok, err := h.holder(ctx, k.val)
		if err != nil {
			return Change{}, err
		}
		if ok && held.ID != cur.ID {
			return Change{}, uniqueness("%s: %q is already used by Users/%s", k.attr, k.val, held.ID)
		}
	}
	if u.StartDate != nil && u.EndDate != nil && u.EndDate.Before(*u.StartDate) {
		return Change{}, invalidValue("endDate: %s is before startDate %s", formatDate(u.EndDate), formatDate(u.StartDate))
	}
	c := Change{EmployeeID: emp, StartDate: u.StartDate, EndDate: u.EndDate, Username: strings.ToLower(u.UserName), FirstName: u.GivenName, LastName: u.FamilyName,
		PreferredName: u.NickName, WorkEmail: strings.ToLower(u.WorkEmail), EmploymentType: et, JobTitle: u.Title,
		CostCenter: u.CostCenter, Organization: u.Organization, Division: u.Division, Department: u.Department}
	// SCIM has no team: a person keeps theirs while the levels above it stay the same.
	if was := v.path(cur.OrgUnitID); was.Organization == c.Organization && was.Division == c.Division && was.Department == c.Department {
		c.Team = was.Team
	}
	if u.Manager != "" {
		m, err := h.p.cfg.Directory.GetPerson(ctx, u.Manager)
		if errors.Is(err, identity.ErrNotFound) {
			m, err = h.p.cfg.Directory.LookupPerson(ctx, u.Manager)
		}
		switch {
		case errors.Is(err, identity.ErrNotFound):
			return Change{}, invalidValue("manager: %q is not a user", u.Manager)
		case err != nil:
			return Change{}, invalidValue("manager: %v", err)
		case m.ID == cur.ID && cur.ID != "" || m.EmployeeID == emp:
			return Change{}, invalidValue("manager: a person cannot be their own manager")
		}
		v.managers[m.ID] = m
		c.ManagerEmployeeID = m.EmployeeID
	}
	return c, nil
}

// holder is the person who holds key as an employee ID, username or work email, if anyone.
func (h *users) holder(ctx context.Context, key string) (identity.Person, bool, error) {
	p, err := h.p.cfg.Directory.LookupPerson(ctx, key)
	switch {
	case errors.Is(err, identity.ErrNotFound):
		return p, false, nil
	case err != nil:
		// LookupPerson refuses a key that names two people: taken either way.
		if errors.Is(err, identity.ErrAmbiguous) {
			return p, true, uniqueness("%q is already used by more than one person", key)
		}
		return p, false, h.p.internal("checking uniqueness", err)
	}
	return p, true, nil
}
