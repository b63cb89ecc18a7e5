package admin

import (
	"context"
	"fmt"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// PeopleQuery is a people listing as asked for: values as typed, resolved by Filter.
type PeopleQuery struct {
	Statuses, EmploymentTypes []string
	OrgUnit                   string // ID or path
	Subtree                   bool
	Manager                   string // employee ID, username or work email
	Limit, Offset             int
}

// PeopleReader is what listing and showing people read.
type PeopleReader interface {
	OrgLister
	LookupPerson(ctx context.Context, key string) (identity.Person, error)
	ManagerChain(ctx context.Context, id string) ([]identity.Person, error)
}

// Filter resolves the query into a directory filter, naming the parameter at fault:
// status, employment_type, org_unit or manager.
func (q PeopleQuery) Filter(ctx context.Context, s PeopleReader, orgs *OrgIndex) (directory.PersonFilter, error) {
	f := directory.PersonFilter{Subtree: q.Subtree, Limit: q.Limit, Offset: q.Offset}
	for _, v := range q.Statuses {
		st, err := identity.ParseStatus(v)
		if err != nil {
			return f, &ParamError{Param: "status", Msg: "status: " + err.Error(), Usage: true, Err: err}
		}
		f.Statuses = append(f.Statuses, st)
	}
	for _, v := range q.EmploymentTypes {
		t, err := identity.ParseEmploymentType(v)
		if err != nil {
			return f, &ParamError{Param: "employment_type", Msg: "employment_type: " + err.Error(), Usage: true, Err: err}
		}
		f.EmploymentTypes = append(f.EmploymentTypes, t)
	}
	if q.OrgUnit != "" {
		u, err := orgs.Resolve(q.OrgUnit)
		if err != nil {
			return f, &ParamError{Param: "org_unit", Msg: err.Error(), Err: err}
		}
		f.OrgUnitID = u.ID
	}
	if q.Manager != "" {
		m, err := s.LookupPerson(ctx, q.Manager)
		if err != nil {
			return f, &ParamError{Param: "manager", Msg: "manager: " + err.Error(), Err: err}
		}
		f.ManagerID = m.ID
	}
	return f, nil
}

// PersonDetail is one person as `people show` gives it: the person's own fields plus the
// names a reader needs.
type PersonDetail struct {
	identity.Person
	OrgPath           string   `json:"org_path,omitempty"`
	ManagerEmployeeID string   `json:"manager_employee_id,omitempty"`
	ManagerChain      []string `json:"manager_chain,omitempty"` // employee IDs, nearest first
}

// ShowPerson finds a person by ID, employee ID, username or work email, with org path and
// manager chain.
func ShowPerson(ctx context.Context, s PeopleReader, key string) (PersonDetail, error) {
	p, err := s.LookupPerson(ctx, key)
	if err != nil {
		return PersonDetail{}, err
	}
	orgs, err := LoadOrgIndex(ctx, s)
	if err != nil {
		return PersonDetail{}, err
	}
	chain, err := s.ManagerChain(ctx, p.ID)
	if err != nil {
		return PersonDetail{}, fmt.Errorf("manager chain of %s: %w", p.EmployeeID, err)
	}
	d := PersonDetail{Person: p, OrgPath: orgs.Path(p.OrgUnitID)}
	for _, m := range chain {
		d.ManagerChain = append(d.ManagerChain, m.EmployeeID)
	}
	if len(chain) > 0 {
		d.ManagerEmployeeID = chain[0].EmployeeID
	}
	return d, nil
}
