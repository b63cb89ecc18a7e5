package cli

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenure-id/tenure/pkg/admin"
	"github.com/tenure-id/tenure/pkg/identity"
)

func (e *env) peopleCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "people", Short: "List and show people in the directory"}
	cmd.AddCommand(e.peopleListCommand(), e.peopleShowCommand())
	return cmd
}

func (e *env) peopleListCommand() *cobra.Command {
	var statuses, types []string
	var orgUnit, manager string
	var subtree bool
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List people, ordered by employee ID",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			q := admin.PeopleQuery{Statuses: statuses, EmploymentTypes: types, OrgUnit: orgUnit, Subtree: subtree, Manager: manager, Limit: limit}
			flags := map[string]string{"status": "status", "employment_type": "type", "manager": "manager"}
			// The form is checked before the database is opened, as it always was.
			if _, err := (admin.PeopleQuery{Statuses: statuses, EmploymentTypes: types}).Filter(ctx, nil, nil); err != nil {
				return cliError(err, flags)
			}
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			orgs, err := admin.LoadOrgIndex(ctx, s)
			if err != nil {
				return err
			}
			f, err := q.Filter(ctx, s, orgs)
			if err != nil {
				return cliError(err, flags)
			}
			people, err := s.ListPeople(ctx, f)
			if err != nil {
				return err
			}
			return e.printPeople(ctx, s, orgs, people)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&statuses, "status", nil, "only these statuses (pre_hire, active, on_leave, suspended, terminated)")
	fl.StringSliceVar(&types, "type", nil, "only these employment types (employee, contractor, vendor, intern)")
	fl.StringVar(&orgUnit, "org-unit", "", "only people in this org unit (ID or path such as \"Acme/Engineering\")")
	fl.BoolVar(&subtree, "subtree", false, "with --org-unit: include every unit below it")
	fl.StringVar(&manager, "manager", "", "only direct reports of this person")
	fl.IntVar(&limit, "limit", 0, "at most this many people (0: all)")
	return cmd
}

type personGetter interface {
	GetPerson(ctx context.Context, id string) (identity.Person, error)
}

func (e *env) printPeople(ctx context.Context, s personGetter, orgs *orgIndex, people []identity.Person) error {
	if people == nil {
		people = []identity.Person{} // JSON [] rather than null for an empty directory
	}
	managers := map[string]string{}
	for _, p := range people {
		managers[p.ID] = p.EmployeeID
	}
	t := table{headers: []string{"EMPLOYEE_ID", "NAME", "USERNAME", "WORK_EMAIL", "TYPE", "STATUS", "JOB_TITLE", "ORG_UNIT", "MANAGER"}}
	for _, p := range people {
		mgr := managers[p.ManagerID]
		if mgr == "" && p.ManagerID != "" {
			if m, err := s.GetPerson(ctx, p.ManagerID); err == nil {
				mgr, managers[p.ManagerID] = m.EmployeeID, m.EmployeeID
			}
		}
		t.rows = append(t.rows, []string{p.EmployeeID, p.DisplayName(), p.Username, p.WorkEmail, string(p.EmploymentType),
			string(p.Status), p.JobTitle, orgs.Path(p.OrgUnitID), mgr})
	}
	return e.print(people, t)
}

func (e *env) peopleShowCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "show PERSON",
		Short: "Show one person (employee ID, username, work email or ID)",
		Args:  exactArgs(1, "PERSON"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			d, err := admin.ShowPerson(ctx, s, args[0])
			if err != nil {
				return err
			}
			return e.print(d, detailTable(d))
		},
	}
}

func detailTable(d admin.PersonDetail) table {
	date := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format(time.DateOnly)
	}
	t := table{headers: []string{"FIELD", "VALUE"}, rows: [][]string{
		{"employee_id", d.EmployeeID}, {"name", d.DisplayName()},
		{"legal_name", strings.TrimSpace(d.LegalFirstName + " " + d.LegalLastName)},
		{"username", d.Username}, {"work_email", d.WorkEmail}, {"personal_email", d.PersonalEmail},
		{"employment_type", string(d.EmploymentType)}, {"status", string(d.Status)},
		{"job_title", d.JobTitle}, {"job_code", d.JobCode}, {"org_unit", d.OrgPath},
		{"manager_chain", strings.Join(d.ManagerChain, " > ")}, {"location", d.Location}, {"country", d.Country},
		{"cost_center", d.CostCenter}, {"start_date", date(d.StartDate)}, {"end_date", date(d.EndDate)},
		{"id", d.ID},
	}}
	for k, v := range d.Attributes {
		t.rows = append(t.rows, []string{"attr." + k, v})
	}
	return t
}
