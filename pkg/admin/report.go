package admin

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/policy"
	"github.com/tenure-id/tenure/pkg/provision"
	"github.com/tenure-id/tenure/pkg/report"
)

// ReportStore is what a report reads: the directory now, or the audit log for a past date.
type ReportStore interface {
	SnapshotSource
	audit.Reader
	ListAccounts(ctx context.Context, f directory.AccountFilter) ([]identity.Account, error)
	ListLDAPEntries(ctx context.Context, f directory.LDAPEntryFilter) ([]directory.LDAPEntry, error)
}

// ReportRequest asks for a report by name, now or as of a past date or time.
type ReportRequest struct {
	Name string
	// AsOf is a date (the end of that day in Location) or an RFC 3339 time; empty for now.
	AsOf     string
	Location *time.Location
	Now      time.Time
}

// CheckReport validates the request's form and returns the report's input so far.
func CheckReport(req ReportRequest) (report.Input, error) {
	in := report.Input{Name: req.Name, GeneratedAt: req.Now, At: req.Now}
	if !slices.Contains(report.Names, req.Name) {
		return in, usage("name", "report NAME: NAME is one of %s", strings.Join(report.Names, ", "))
	}
	if req.AsOf == "" {
		return in, nil
	}
	loc := req.Location
	if loc == nil {
		loc = time.UTC
	}
	at, err := DayBound(req.AsOf, loc, true)
	if err != nil {
		return in, &ParamError{Param: "as_of", Msg: "as_of: " + err.Error(), Usage: true, Err: err}
	}
	if at.After(req.Now) {
		return in, usage("as_of", "as_of %s: that is in the future; leave it out for the report of now", req.AsOf)
	}
	in.At, in.AsOf = at, true
	return in, nil
}

// BuildReport builds the report: for now from the directory and the policy (loaded only
// then), for a past date from the audit log alone. Either way the audit chain is verified
// first, and a log that does not verify gives no report.
func BuildReport(ctx context.Context, s ReportStore, loadPolicy func() (*policy.Set, error), req ReportRequest) (report.Report, error) {
	in, err := CheckReport(req)
	if err != nil {
		return report.Report{}, err
	}
	if in.AsOf {
		if in.State, in.Evidence, err = report.Replay(ctx, s, in.At); err != nil {
			return report.Report{}, err
		}
	} else {
		set, err := loadPolicy()
		if err != nil {
			return report.Report{}, err
		}
		if err := CurrentAccess(ctx, s, set, &in); err != nil {
			return report.Report{}, err
		}
	}
	return report.Build(in)
}

// CurrentAccess fills in what the directory holds now, what policy grants, and the audit
// head verified to.
func CurrentAccess(ctx context.Context, s ReportStore, set *policy.Set, in *report.Input) error {
	// Verify first: what the tables hold came through the log, and a report vouches for both.
	res, err := audit.VerifyLog(ctx, s)
	if err != nil {
		return fmt.Errorf("the audit log does not verify, so no report is built: %w", err)
	}
	in.Evidence = report.Evidence{Verified: true, Records: res.Count, Head: res.Head.String()}
	snap, people, err := LoadSnapshot(ctx, s, in.At)
	if err != nil {
		return err
	}
	accounts, err := s.ListAccounts(ctx, directory.AccountFilter{})
	if err != nil {
		return err
	}
	exceptions, err := s.ListGrants(ctx, directory.GrantFilter{Source: identity.FromException})
	if err != nil {
		return err
	}
	in.State = report.NewState(people, accounts, exceptions)
	entries, err := s.ListLDAPEntries(ctx, directory.LDAPEntryFilter{})
	if err != nil {
		return err
	}
	groups, err := s.ListGroups(ctx)
	if err != nil {
		return err
	}
	members := map[string][]string{}
	for _, g := range groups {
		ps, err := s.GroupMembers(ctx, g.ID)
		if err != nil {
			return err
		}
		for _, p := range ps {
			members[g.ID] = append(members[g.ID], p.ID)
		}
	}
	in.State.AddSilo(entries, groups, members)
	apps := make([]string, len(set.Apps))
	for i, a := range set.Apps {
		apps[i] = a.Name
	}
	in.Should = map[report.Key]report.Should{}
	for app, ds := range provision.BuildDesired(provision.DesiredInput{People: people, View: snap,
		Resolver: policy.NewResolver(set), Apps: apps}) {
		for _, d := range ds {
			sh := report.Should{Active: d.Account.Active, Reason: d.Reason}
			for _, m := range d.Memberships {
				sh.Memberships = append(sh.Memberships, m.Entitlement)
			}
			in.Should[report.Key{PersonID: d.PersonID, App: app}] = sh
		}
	}
	return nil
}

// PlanJSON is the plan as `tenure plan -o json` prints it: no null lists, so an app in sync
// has no operations rather than null ones.
func PlanJSON(plan provision.Plan) provision.Plan {
	if plan.Apps == nil {
		plan.Apps = []provision.AppPlan{}
	}
	apps := slices.Clone(plan.Apps)
	for i := range apps {
		if apps[i].Ops == nil {
			apps[i].Ops = []provision.Step{}
		}
	}
	plan.Apps = apps
	return plan
}
