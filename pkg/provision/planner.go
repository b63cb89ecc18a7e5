package provision

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/policy"
)

// PlannerStore is what planning reads from the directory.
type PlannerStore interface {
	ListOrgUnits(ctx context.Context) ([]identity.OrgUnit, error)
	ListPeople(ctx context.Context, f directory.PersonFilter) ([]identity.Person, error)
	ListGroups(ctx context.Context) ([]identity.Group, error)
	GroupMembers(ctx context.Context, groupID string) ([]identity.Person, error)
	ListGrants(ctx context.Context, f directory.GrantFilter) ([]identity.Grant, error)
	ListAccounts(ctx context.Context, f directory.AccountFilter) ([]identity.Account, error)
}

// Planner reads the directory, the policy and the apps, and computes plans. Only Compute
// decides; the planner gathers its inputs.
type Planner struct {
	Store  PlannerStore
	Policy *policy.Set
	// Connectors and Apps (provisioning.apps) are keyed by app name.
	Connectors map[string]connector.Connector
	Apps       map[string]config.AppConfig
	Clock      func() time.Time
	Logger     *slog.Logger
}

// Plan plans every person in the named apps; no names means every app of the policy
// catalogue that has a connector and is not disabled. An app that cannot be read gets
// AppPlan.Error and the others still plan.
func (p *Planner) Plan(ctx context.Context, apps ...string) (Plan, error) {
	return p.plan(ctx, nil, apps)
}

// PlanPeople plans only these people, for a lifecycle or policy change that concerns them.
// Apps whose connector can Find accounts are not listed in full.
func (p *Planner) PlanPeople(ctx context.Context, personIDs []string, apps ...string) (Plan, error) {
	only := make(map[string]bool, len(personIDs))
	for _, id := range personIDs {
		only[id] = true
	}
	return p.plan(ctx, only, apps)
}

func (p *Planner) plan(ctx context.Context, only map[string]bool, names []string) (Plan, error) {
	now := p.now()
	apps, errs, err := p.apps(names)
	if err != nil {
		return Plan{}, err
	}
	attrs, err := p.templates(apps)
	if err != nil {
		return Plan{}, err
	}
	snap, people, err := p.snapshot(ctx, now)
	if err != nil {
		return Plan{}, err
	}
	if only != nil {
		known := make(map[string]bool, len(people))
		for _, person := range people {
			known[person.ID] = true
		}
		for _, id := range sortedKeys(only) {
			if !known[id] {
				return Plan{}, fmt.Errorf("plan: person %s: %w", id, identity.ErrNotFound)
			}
		}
	}
	desired := BuildDesired(DesiredInput{People: people, Only: only, View: snap, Resolver: policy.NewResolver(p.Policy),
		Apps: apps, Attributes: attrs})
	index := make([]Person, len(people))
	for i := range people {
		index[i] = PersonOf(people[i])
	}
	ix := NewPeople(index)

	plan := Plan{GeneratedAt: now, Apps: make([]AppPlan, len(apps))}
	var wg sync.WaitGroup
	for i, app := range apps {
		wg.Go(func() {
			in := AppInput{App: app, Config: p.Apps[app], Desired: desired[app], People: ix, Scope: only, Now: now}
			ap, err := p.planApp(ctx, in)
			if err != nil {
				p.logger().Warn("plan: app not planned", "app", app, "error", err)
				ap = AppPlan{App: app, Error: err.Error()}
			}
			plan.Apps[i] = ap
		})
	}
	wg.Wait()
	for app, msg := range errs {
		plan.Apps = append(plan.Apps, AppPlan{App: app, Error: msg})
	}
	slices.SortFunc(plan.Apps, func(a, b AppPlan) int { return cmp.Compare(a.App, b.App) })
	if err := ctx.Err(); err != nil {
		return Plan{}, err
	}
	return plan, nil
}

func (p *Planner) planApp(ctx context.Context, in AppInput) (AppPlan, error) {
	conn := p.Connectors[in.App]
	in.Traits = connector.TraitsOf(conn)
	var err error
	if in.Scope != nil {
		in.Actual, in.Known, err = p.readPeople(ctx, conn, in)
	} else {
		in.Actual, err = conn.List(ctx)
		if err != nil {
			return AppPlan{}, fmt.Errorf("list accounts in %s: %w", in.App, err)
		}
		in.Known, err = p.Store.ListAccounts(ctx, directory.AccountFilter{App: in.App})
	}
	if err != nil {
		return AppPlan{}, err
	}
	ap := Compute(in)
	p.logger().Debug("plan: app planned", "app", in.App, "accounts", len(in.Actual), "operations", len(ap.Ops),
		"orphans", len(ap.Orphans), "drift", len(ap.Drift), "conflicts", len(ap.Conflicts))
	return ap, nil
}

// readPeople reads the accounts of the people in scope: one Find each when the connector can,
// else the full list (Compute drops everyone else's).
func (p *Planner) readPeople(ctx context.Context, conn connector.Connector, in AppInput) ([]connector.Account, []identity.Account, error) {
	var actual []connector.Account
	var known []identity.Account
	f, canFind := conn.(connector.Finder)
	if !canFind {
		all, err := conn.List(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("list accounts in %s: %w", in.App, err)
		}
		actual = all
	}
	seen := map[string]bool{}
	for _, id := range sortedKeys(in.Scope) {
		person, _ := in.People.Get(id)
		if canFind {
			acc, err := f.Find(ctx, connector.Match{ExternalID: person.ID, UserName: person.UserName, Email: person.Email})
			switch {
			case errors.Is(err, connector.ErrNotFound):
			case err != nil:
				return nil, nil, fmt.Errorf("find %s in %s: %w", describe(person), in.App, err)
			case !seen[acc.ID]:
				seen[acc.ID] = true
				actual = append(actual, acc)
			}
		}
		ks, err := p.Store.ListAccounts(ctx, directory.AccountFilter{App: in.App, PersonID: id})
		if err != nil {
			return nil, nil, err
		}
		known = append(known, ks...)
	}
	return actual, known, nil
}

// apps decides which apps to plan: the names given, or every catalogue app with a connector.
// A named app without a connector, or disabled, is reported in the plan rather than failing it.
func (p *Planner) apps(names []string) ([]string, map[string]string, error) {
	errs := map[string]string{}
	if len(names) == 0 {
		var out []string
		for _, a := range p.Policy.Apps {
			if _, ok := p.Connectors[a.Name]; ok && !p.Apps[a.Name].Disabled {
				out = append(out, a.Name)
			}
		}
		return out, errs, nil
	}
	var out []string
	for _, name := range names {
		if _, ok := p.Policy.App(name); !ok {
			return nil, nil, fmt.Errorf("plan: app %q is not in the policy catalogue", name)
		}
		switch _, ok := p.Connectors[name]; {
		case p.Apps[name].Disabled:
			errs[name] = "disabled in the configuration (provisioning.apps." + name + ".disabled)"
		case !ok:
			errs[name] = "no connector configured (provisioning.apps." + name + ")"
		case !slices.Contains(out, name):
			out = append(out, name)
		}
	}
	return out, errs, nil
}

// templates compiles each app's configured attribute templates.
func (p *Planner) templates(apps []string) (map[string]map[string]policy.Template, error) {
	out := map[string]map[string]policy.Template{}
	for _, app := range apps {
		cfg := p.Apps[app]
		for _, name := range sortedKeys(cfg.Attributes) {
			t, err := policy.ParseTemplate(cfg.Attributes[name])
			if err != nil {
				return nil, fmt.Errorf("provisioning.apps.%s.attributes.%s: %w", app, name, err)
			}
			if out[app] == nil {
				out[app] = map[string]policy.Template{}
			}
			out[app][name] = t
		}
	}
	return out, nil
}

// snapshot loads what the resolver looks at, once per plan.
func (p *Planner) snapshot(ctx context.Context, now time.Time) (*policy.Snapshot, []identity.Person, error) {
	units, err := p.Store.ListOrgUnits(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("plan: read org units: %w", err)
	}
	people, err := p.Store.ListPeople(ctx, directory.PersonFilter{})
	if err != nil {
		return nil, nil, fmt.Errorf("plan: read people: %w", err)
	}
	groups, err := p.Store.ListGroups(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("plan: read groups: %w", err)
	}
	memberships := map[string][]identity.Group{}
	for _, g := range groups {
		members, err := p.Store.GroupMembers(ctx, g.ID)
		if err != nil {
			return nil, nil, fmt.Errorf("plan: read members of group %s: %w", g.Name, err)
		}
		for _, m := range members {
			memberships[m.ID] = append(memberships[m.ID], g)
		}
	}
	exceptions, err := p.Store.ListGrants(ctx, directory.GrantFilter{Source: identity.FromException})
	if err != nil {
		return nil, nil, fmt.Errorf("plan: read exceptions: %w", err)
	}
	snap := policy.NewSnapshot(policy.SnapshotData{Now: now, OrgUnits: units, People: people, Groups: memberships, Exceptions: exceptions})
	return snap, people, nil
}

func (p *Planner) now() time.Time {
	if p.Clock != nil {
		return p.Clock()
	}
	return time.Now()
}

func (p *Planner) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.New(slog.DiscardHandler)
}
