package hr

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/tenure-id/tenure/pkg/identity"
)

// Current is what the directory knows about one person, in roster terms.
type Current struct {
	Person            identity.Person
	OrgPath           []OrgLevel
	ManagerEmployeeID string
}

// DiffOptions control how a roster becomes events.
type DiffOptions struct {
	Now    time.Time
	Source string // recorded on every event, e.g. "roster:people.csv"
	// PreHireDays makes a new person exist (in pre_hire) this many days before the start date.
	PreHireDays int
	// MissingTerminates terminates active people absent from the roster. Off by default: a
	// truncated export must not look like a mass layoff.
	MissingTerminates bool
	// StartAt and LeaveAt turn an HR date into the moment it takes effect, e.g. the start of
	// the day and 17:00 in the company's time zone. Midnight UTC of the date when nil.
	StartAt, LeaveAt func(day time.Time) time.Time
}

// Change is one derived event and the fields behind it, for dry-run reports.
type Change struct {
	Event  identity.Event `json:"event"`
	Fields []string       `json:"fields,omitempty"`
}

// DiffResult is what a roster implies.
type DiffResult struct {
	Changes []Change `json:"changes"`
	// Missing lists people the directory has (not terminated) whom the roster leaves out, when
	// MissingTerminates is off: reported, never acted on silently.
	Missing []string `json:"missing,omitempty"`
}

// EventKey is the external ID of a derived event. Deriving the same event twice (the same
// roster imported again, or a scheduled activation) gives the same key, which the store's
// unique external IDs turn into a no-op.
func EventKey(employeeID string, t identity.EventType, effective time.Time) string {
	return fmt.Sprintf("hr:%s:%s:%s", employeeID, t, effective.UTC().Format(time.RFC3339))
}

// Diff compares a full roster with the directory and derives the joiner/mover/leaver events
// that make the directory match it.
func Diff(current []Current, roster []Record, opt DiffOptions) DiffResult {
	if opt.StartAt == nil {
		opt.StartAt = func(d time.Time) time.Time { return d }
	}
	if opt.LeaveAt == nil {
		opt.LeaveAt = func(d time.Time) time.Time { return d }
	}
	d := differ{opt: opt}
	byID := make(map[string]*Current, len(current))
	for i := range current {
		byID[current[i].Person.EmployeeID] = &current[i]
	}
	seen := make(map[string]bool, len(roster))
	for _, rec := range roster {
		seen[rec.EmployeeID] = true
		d.person(byID[rec.EmployeeID], rec)
	}
	for _, c := range current {
		if seen[c.Person.EmployeeID] || c.Person.Status == identity.Terminated {
			continue
		}
		if opt.MissingTerminates {
			d.add(c.Person.EmployeeID, identity.Terminate, opt.Now, nil, []string{"missing from roster"})
		} else {
			d.res.Missing = append(d.res.Missing, c.Person.EmployeeID)
		}
	}
	slices.Sort(d.res.Missing)
	return d.res
}

type differ struct {
	opt DiffOptions
	res DiffResult
}

func (d *differ) add(emp string, t identity.EventType, at time.Time, data *Data, fields []string) {
	ev := identity.Event{Type: t, EmployeeID: emp, EffectiveAt: at, Source: d.opt.Source,
		State: identity.EventPending, ExternalID: EventKey(emp, t, at)}
	if data != nil {
		ev.Payload, _ = json.Marshal(data) // Data holds strings and times only
	}
	d.res.Changes = append(d.res.Changes, Change{Event: ev, Fields: fields})
}

// joinAt is when a (re)hire takes effect: PreHireDays before the start, never in the past.
func (d *differ) joinAt(data Data) time.Time {
	if data.StartDate == nil {
		return d.opt.Now
	}
	at := d.opt.StartAt(*data.StartDate).AddDate(0, 0, -d.opt.PreHireDays)
	if at.Before(d.opt.Now) {
		return d.opt.Now
	}
	return at
}

// leaveEvent is how and when a person who is leaving goes: at the termination date; at the end
// of a contract that has run out; otherwise now (a contract ended early is a termination).
func (d *differ) leaveEvent(rec Record) (identity.EventType, time.Time) {
	switch {
	case rec.TerminationDate != nil:
		return identity.Terminate, d.opt.LeaveAt(*rec.TerminationDate)
	case rec.EndDate != nil && rec.EmploymentType != identity.Employee && !d.opt.LeaveAt(*rec.EndDate).After(d.opt.Now):
		return identity.ContractEnd, d.opt.LeaveAt(*rec.EndDate)
	}
	return identity.Terminate, d.opt.Now
}

func (d *differ) person(cur *Current, rec Record) {
	data := rec.Data
	emp := rec.EmployeeID
	// A contract past its end date is over, whatever the status column still says.
	leaving := rec.Status == identity.Terminated ||
		rec.EndDate != nil && rec.EmploymentType != identity.Employee && !d.opt.LeaveAt(*rec.EndDate).After(d.opt.Now)
	switch {
	case cur == nil:
		// Someone who left before Tenure knew them is still recorded, hired and terminated in
		// one batch: their identity and username stay reserved for a rehire.
		d.add(emp, identity.Hire, d.joinAt(data), &data, nil)
		if rec.Status == identity.OnLeave {
			d.add(emp, identity.Leave, d.joinAt(data), &data, nil)
		}
		d.leaving(rec, leaving)
		return
	case cur.Person.Status == identity.Terminated:
		if !leaving {
			d.add(emp, identity.Rehire, d.joinAt(data), &data, nil)
			d.leaving(rec, false)
		}
		return
	}
	if f := transferFields(cur, data); len(f) > 0 {
		d.add(emp, identity.Transfer, d.opt.Now, &data, f)
	}
	if cur.ManagerEmployeeID != data.ManagerID {
		d.add(emp, identity.ManagerChange, d.opt.Now, &data, []string{FieldManagerID})
	}
	if f := attributeFields(cur.Person, data); len(f) > 0 {
		d.add(emp, identity.AttributeChange, d.opt.Now, &data, f)
	}
	switch {
	case cur.Person.Status == identity.Active && rec.Status == identity.OnLeave:
		d.add(emp, identity.Leave, d.opt.Now, &data, nil)
	case cur.Person.Status == identity.OnLeave && (rec.Status == identity.Active || rec.Status == identity.PreHire):
		d.add(emp, identity.Return, d.opt.Now, &data, nil)
	}
	d.leaving(rec, leaving)
}

// leaving adds the termination HR announced, or the scheduled end of a contract.
func (d *differ) leaving(rec Record, leaving bool) {
	data := rec.Data
	if leaving {
		t, at := d.leaveEvent(rec)
		d.add(rec.EmployeeID, t, at, &data, nil)
		return
	}
	if rec.EndDate != nil && rec.EmploymentType != identity.Employee {
		d.add(rec.EmployeeID, identity.ContractEnd, d.opt.LeaveAt(*rec.EndDate), &data, nil)
	}
}

func transferFields(cur *Current, d Data) []string {
	var f []string
	if PathString(cur.OrgPath) != PathString(d.OrgPath()) {
		f = append(f, "org_unit")
	}
	if cur.Person.JobTitle != d.JobTitle {
		f = append(f, FieldJobTitle)
	}
	if cur.Person.JobCode != d.JobCode {
		f = append(f, FieldJobCode)
	}
	return f
}

func attributeFields(p identity.Person, d Data) []string {
	var f []string
	cmp := []struct {
		field     string
		have, hr  string
		onlyIfSet bool
	}{
		{FieldFirstName, p.LegalFirstName, d.FirstName, false},
		{FieldLastName, p.LegalLastName, d.LastName, false},
		{FieldPreferredName, p.PreferredName, d.PreferredName, false},
		// Tenure generates work emails; HR's column only overrides when filled in.
		{FieldEmail, p.WorkEmail, d.WorkEmail, true},
		{FieldPersonalEmail, p.PersonalEmail, d.PersonalEmail, false},
		{FieldEmploymentType, string(p.EmploymentType), string(d.EmploymentType), false},
		{FieldCostCenter, p.CostCenter, d.CostCenter, false},
		{FieldLocation, p.Location, d.Location, false},
		{FieldCountry, p.Country, d.Country, false},
		{FieldStartDate, dateString(p.StartDate), dateString(d.StartDate), true},
		{FieldEndDate, dateString(p.EndDate), dateString(d.EndDate), false},
	}
	for _, c := range cmp {
		if c.have != c.hr && (!c.onlyIfSet || c.hr != "") {
			f = append(f, c.field)
		}
	}
	return f
}

func dateString(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}
