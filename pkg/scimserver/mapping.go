package scimserver

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/elimity-com/scim"
	"github.com/elimity-com/scim/optional"

	"github.com/tenure-id/tenure/pkg/identity"
)

// user is a User resource as far as Tenure holds it. Attributes Tenure does not hold (phone
// numbers, addresses, ...) are accepted and not kept, as RFC 7644 §3.3 allows.
type user struct {
	UserName       string
	ExternalID     string
	EmployeeNumber string
	Active         *bool
	GivenName      string
	FamilyName     string
	NickName       string
	Title          string
	UserType       string
	WorkEmail      string
	CostCenter     string
	Organization   string
	Division       string
	Department     string
	Manager        string // the manager's SCIM id (Tenure person ID)
	// StartDate and EndDate come from the Tenure extension. A start date is never removed, so
	// nil means unchanged; EndSet tells a removed end date from one not mentioned.
	StartDate, EndDate *time.Time
	EndSet             bool
}

// orgPath is a person's place in the org tree, by level.
type orgPath struct{ Organization, Division, Department, Team string }

// view holds what turning people into resources needs, read once per request.
type view struct {
	p        *Provider
	units    map[string]identity.OrgUnit
	managers map[string]identity.Person
}

func (p *Provider) newView(ctx context.Context) (*view, error) {
	units, err := p.cfg.Directory.ListOrgUnits(ctx)
	if err != nil {
		return nil, p.internal("reading the org tree", err)
	}
	v := &view{p: p, units: make(map[string]identity.OrgUnit, len(units)), managers: map[string]identity.Person{}}
	for _, u := range units {
		v.units[u.ID] = u
	}
	return v, nil
}

func (v *view) path(unitID string) orgPath {
	var out orgPath
	for id, n := unitID, 0; id != "" && n < 16; n++ {
		u, ok := v.units[id]
		if !ok {
			break
		}
		switch u.Kind {
		case identity.Organization:
			out.Organization = u.Name
		case identity.Division:
			out.Division = u.Name
		case identity.Department:
			out.Department = u.Name
		case identity.Team:
			out.Team = u.Name
		}
		id = u.ParentID
	}
	return out
}

func (v *view) manager(ctx context.Context, id string) (identity.Person, error) {
	if m, ok := v.managers[id]; ok {
		return m, nil
	}
	m, err := v.p.cfg.Directory.GetPerson(ctx, id)
	if err != nil {
		return m, err
	}
	v.managers[id] = m
	return m, nil
}

// userOf is the person as a SCIM client sees them. Only an active person is active: someone on
// leave, suspended or not started yet may not sign in either.
func (v *view) userOf(p identity.Person) user {
	active := p.Status == identity.Active
	path := v.path(p.OrgUnitID)
	return user{UserName: p.Username, ExternalID: p.EmployeeID, EmployeeNumber: p.EmployeeID, Active: &active,
		GivenName: p.LegalFirstName, FamilyName: p.LegalLastName, NickName: p.PreferredName, Title: p.JobTitle,
		UserType: string(p.EmploymentType), WorkEmail: p.WorkEmail, CostCenter: p.CostCenter,
		Organization: path.Organization, Division: path.Division, Department: path.Department, Manager: p.ManagerID,
		StartDate: p.StartDate, EndDate: p.EndDate}
}

// version is the weak ETag of a person: their stored version.
func version(p identity.Person) string { return `W/"` + strconv.FormatInt(p.Version, 10) + `"` }

// resource is the person as a User resource.
func (v *view) resource(ctx context.Context, p identity.Person) (scim.Resource, error) {
	u := v.userOf(p)
	attrs := scim.ResourceAttributes{
		"userName":    u.UserName,
		"active":      *u.Active,
		"displayName": p.DisplayName(),
		"name": map[string]any{"givenName": u.GivenName, "familyName": u.FamilyName,
			"formatted": strings.TrimSpace(u.GivenName + " " + u.FamilyName)},
		"userType": u.UserType,
	}
	if u.NickName != "" {
		attrs["nickName"] = u.NickName
	}
	if u.Title != "" {
		attrs["title"] = u.Title
	}
	if u.WorkEmail != "" {
		attrs["emails"] = []any{map[string]any{"value": u.WorkEmail, "type": "work", "primary": true}}
	}
	ent := map[string]any{"employeeNumber": u.EmployeeNumber}
	for k, val := range map[string]string{"costCenter": u.CostCenter, "organization": u.Organization,
		"division": u.Division, "department": u.Department} {
		if val != "" {
			ent[k] = val
		}
	}
	if u.Manager != "" {
		m, err := v.manager(ctx, u.Manager)
		if err != nil {
			return scim.Resource{}, v.p.internal("reading a manager", err)
		}
		ent["manager"] = map[string]any{"value": m.ID, "displayName": m.DisplayName(), "$ref": "Users/" + m.ID}
	}
	attrs[EnterpriseSchema] = ent
	if u.StartDate != nil || u.EndDate != nil {
		ten := map[string]any{}
		if u.StartDate != nil {
			ten["startDate"] = formatDate(u.StartDate)
		}
		if u.EndDate != nil {
			ten["endDate"] = formatDate(u.EndDate)
		}
		attrs[TenureSchema] = ten
	}
	created, modified := p.CreatedAt, p.UpdatedAt
	return scim.Resource{ID: p.ID, ExternalID: optional.NewString(p.EmployeeID), Attributes: attrs,
		Meta: scim.Meta{Created: &created, LastModified: &modified, Version: version(p)}}, nil
}

// walk sets every attribute of a resource body (or a path-less PATCH value) on u. Attribute
// names are case-insensitive (RFC 7643 §2.1); extension attributes come under their URN, or
// with it as a prefix ("urn:…:User:department").
func (u *user) walk(m map[string]any) error {
	ent, ten, core := strings.ToLower(EnterpriseSchema), strings.ToLower(TenureSchema), strings.ToLower(UserSchema)
	for k, val := range m {
		lk := strings.ToLower(k)
		var err error
		switch {
		case lk == ent || lk == ten || lk == core:
			sub, ok := val.(map[string]any)
			if !ok && val != nil {
				return invalidValue("%s: an object is required", k)
			}
			prefix := map[string]string{ent: "ent:", ten: "ten:"}[lk]
			for sk, sv := range sub {
				if err := u.set(prefix+strings.ToLower(sk), sv); err != nil {
					return err
				}
			}
		case strings.HasPrefix(lk, ent+":"):
			err = u.set("ent:"+strings.TrimPrefix(lk, ent+":"), val)
		case strings.HasPrefix(lk, ten+":"):
			err = u.set("ten:"+strings.TrimPrefix(lk, ten+":"), val)
		case strings.HasPrefix(lk, core+":"):
			err = u.set(strings.TrimPrefix(lk, core+":"), val)
		default:
			err = u.set(lk, val)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// set sets one attribute by its lower-case path; nil removes it.
func (u *user) set(key string, val any) error {
	str := func(dst *string) error {
		switch s := val.(type) {
		case nil:
			*dst = ""
		case string:
			*dst = strings.TrimSpace(s)
		default:
			return invalidValue("%s: a string is required, not %v", key, val)
		}
		return nil
	}
	switch key {
	case "username":
		return str(&u.UserName)
	case "externalid":
		return str(&u.ExternalID)
	case "active":
		switch b := val.(type) {
		case bool:
			u.Active = &b
		case string: // "True"/"False", as some clients send
			v, err := strconv.ParseBool(b)
			if err != nil {
				return invalidValue("active: %q is not a boolean", b)
			}
			u.Active = &v
		case nil:
			return mutability("active: cannot be removed")
		default:
			return invalidValue("active: %v is not a boolean", val)
		}
		return nil
	case "name":
		sub, ok := val.(map[string]any)
		if !ok && val != nil {
			return invalidValue("name: an object is required")
		}
		if val == nil {
			u.GivenName, u.FamilyName = "", ""
		}
		for sk, sv := range sub {
			if err := u.set("name."+strings.ToLower(sk), sv); err != nil {
				return err
			}
		}
		return nil
	case "name.givenname":
		return str(&u.GivenName)
	case "name.familyname":
		return str(&u.FamilyName)
	case "nickname":
		return str(&u.NickName)
	case "title":
		return str(&u.Title)
	case "usertype":
		return str(&u.UserType)
	case "emails":
		u.WorkEmail = ""
		list, ok := val.([]any)
		if !ok && val != nil {
			if one, isMap := val.(map[string]any); isMap {
				list = []any{one}
			} else {
				return invalidValue("emails: a list is required")
			}
		}
		u.WorkEmail = workEmail(list)
		return nil
	case "emails.value", "emails.work":
		return str(&u.WorkEmail)
	case "ent:employeenumber":
		return str(&u.EmployeeNumber)
	case "ent:costcenter":
		return str(&u.CostCenter)
	case "ent:organization":
		return str(&u.Organization)
	case "ent:division":
		return str(&u.Division)
	case "ent:department":
		return str(&u.Department)
	case "ent:manager":
		switch m := val.(type) {
		case map[string]any:
			return u.set("ent:manager.value", m["value"])
		default:
			return str(&u.Manager)
		}
	case "ent:manager.value":
		return str(&u.Manager)
	case "ten:startdate":
		if val == nil {
			return mutability("startDate: cannot be removed; give another date to move it")
		}
		d, err := parseDate("startDate", val)
		if err != nil {
			return err
		}
		u.StartDate = d
		return nil
	case "ten:enddate":
		u.EndDate, u.EndSet = nil, true
		if val == nil {
			return nil
		}
		d, err := parseDate("endDate", val)
		u.EndDate = d
		return err
	}
	return nil // not held by Tenure (id, meta, schemas, phoneNumbers, ...)
}

// workEmail picks the work email of a list: the one typed work, else the primary, else the
// first.
func workEmail(list []any) string {
	var primary, first string
	for _, e := range list {
		m, _ := e.(map[string]any)
		v, _ := m["value"].(string)
		if v == "" {
			continue
		}
		typ, _ := m["type"].(string)
		if strings.EqualFold(typ, "work") {
			return strings.TrimSpace(v)
		}
		if p, _ := m["primary"].(bool); p && primary == "" {
			primary = v
		}
		if first == "" {
			first = v
		}
	}
	if primary != "" {
		return strings.TrimSpace(primary)
	}
	return strings.TrimSpace(first)
}

// employeeID is the employee ID the user names: externalId and employeeNumber both carry it,
// and must agree when both are given.
func (u user) employeeID() (string, error) {
	if u.ExternalID != "" && u.EmployeeNumber != "" && u.ExternalID != u.EmployeeNumber {
		return "", invalidValue("externalId %q and employeeNumber %q differ: both are the employee ID", u.ExternalID, u.EmployeeNumber)
	}
	if u.ExternalID != "" {
		return u.ExternalID, nil
	}
	return u.EmployeeNumber, nil
}

func (u user) String() string { return fmt.Sprintf("user %s", u.UserName) }
