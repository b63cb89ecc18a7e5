package lifecycle

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/hr"
	"github.com/tenure-id/tenure/pkg/identity"
)

// ImportOptions control a roster import.
type ImportOptions struct {
	SubmitOptions
	Source string // recorded on every event, e.g. "roster:people.csv"
	// SkipInvalid applies the valid rows of a roster with bad ones; otherwise any bad row
	// rejects the whole import.
	SkipInvalid bool
	// MissingTerminates terminates people absent from the roster (always behind the breaker).
	MissingTerminates bool
}

// ImportReport is what an import did (or, in a dry run, would do).
type ImportReport struct {
	Report
	Changes []hr.Change   `json:"changes"`
	Missing []string      `json:"missing,omitempty"`
	Invalid []hr.RowError `json:"invalid,omitempty"`
}

// ImportRoster diffs a full roster against the directory and submits the events it implies,
// deriving and applying in one transaction.
func (e *Engine) ImportRoster(ctx context.Context, roster hr.Roster, opt ImportOptions) (ImportReport, error) {
	rep := ImportReport{Invalid: roster.Errors}
	if err := roster.Check(opt.SkipInvalid); err != nil {
		return rep, err
	}
	onRoster := make(map[string]bool, len(roster.Records))
	for _, r := range roster.Records {
		onRoster[r.EmployeeID] = true
	}
	derive := func(_ context.Context, _ directory.Store, idx *index, now time.Time) ([]identity.Event, []string, error) {
		diff := hr.Diff(idx.current(), roster.Records, hr.DiffOptions{Now: now, Source: opt.Source,
			PreHireDays: e.opt.PreHireDays, MissingTerminates: opt.MissingTerminates, StartAt: e.StartAt, LeaveAt: e.LeaveAt})
		rep.Changes, rep.Missing = diff.Changes, diff.Missing
		events := make([]identity.Event, 0, len(diff.Changes))
		derived := make(map[string]bool, len(diff.Changes))
		for _, c := range diff.Changes {
			events = append(events, c.Event)
			derived[c.Event.ExternalID] = true
		}
		var sup []string
		for _, ev := range idx.pending {
			// A dated leave or a future hire the roster no longer states has been withdrawn or
			// moved by HR; its replacement, if any, is among the derived events.
			if onRoster[ev.EmployeeID] && !derived[ev.ExternalID] && strings.HasPrefix(ev.Source, "roster:") {
				sup = append(sup, ev.ID)
			}
		}
		slices.Sort(sup)
		return events, sup, nil
	}
	var err error
	rep.Report, err = e.run(ctx, opt.SubmitOptions, true, derive)
	return rep, err
}

// CurrentData is what the directory holds about one person in HR's terms, so a single event
// can change one field and carry the rest unchanged. ok is false for someone unknown.
func (e *Engine) CurrentData(ctx context.Context, emp string) (data hr.Data, ok bool, err error) {
	idx, err := loadIndex(ctx, e.store, false)
	if err != nil {
		return data, false, err
	}
	p, ok, err := idx.person(ctx, e.store, emp)
	if err != nil || !ok {
		return data, ok, err
	}
	data = hr.Data{FirstName: p.LegalFirstName, LastName: p.LegalLastName, PreferredName: p.PreferredName,
		WorkEmail: p.WorkEmail, PersonalEmail: p.PersonalEmail, EmploymentType: p.EmploymentType, JobTitle: p.JobTitle,
		JobCode: p.JobCode, CostCenter: p.CostCenter, Location: p.Location, Country: p.Country,
		StartDate: p.StartDate, EndDate: p.EndDate}
	for _, l := range idx.path(p.OrgUnitID) {
		switch l.Kind {
		case identity.Organization:
			data.Organization = l.Name
		case identity.Division:
			data.Division = l.Name
		case identity.Department:
			data.Department = l.Name
		case identity.Team:
			data.Team = l.Name
		}
	}
	if p.ManagerID != "" {
		m, err := e.store.GetPerson(ctx, p.ManagerID)
		if err != nil {
			return data, true, err
		}
		data.ManagerID = m.EmployeeID
	}
	return data, true, nil
}
