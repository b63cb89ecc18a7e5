package hr

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tenure-id/tenure/pkg/identity"
)

// Mapping says which column (CSV header or JSON key) holds each canonical field. Fields it
// does not name are read from the column of their own name.
type Mapping map[string]string

// Validate rejects a mapping naming a field Tenure does not know, so a typo in the config is
// an error instead of a column silently ignored.
func (m Mapping) Validate() error {
	for field, col := range m {
		if !slices.Contains(Fields, field) {
			return fmt.Errorf("hr mapping: unknown field %q (fields: %s)", field, strings.Join(Fields, ", "))
		}
		if strings.TrimSpace(col) == "" {
			return fmt.Errorf("hr mapping: field %q maps to an empty column name", field)
		}
	}
	return nil
}

func (m Mapping) column(field string) string {
	if c, ok := m[field]; ok {
		return c
	}
	return field
}

// Format is the roster file format.
type Format string

const (
	CSV  Format = "csv"
	JSON Format = "json"
)

// FormatOf guesses the format from a file name.
func FormatOf(name string) (Format, error) {
	switch {
	case strings.HasSuffix(strings.ToLower(name), ".csv"):
		return CSV, nil
	case strings.HasSuffix(strings.ToLower(name), ".json"):
		return JSON, nil
	}
	return "", fmt.Errorf("%s: cannot tell the roster format from the name (use .csv or .json)", name)
}

// Roster is a parsed full snapshot: the valid records and, separately, every bad row.
type Roster struct {
	Records []Record
	Errors  []RowError
}

// Check returns an *InvalidRosterError when any row is bad, unless skipInvalid, in which case
// the caller applies Records (which hold only the valid rows) and reports Errors.
func (r Roster) Check(skipInvalid bool) error {
	if len(r.Errors) > 0 && !skipInvalid {
		return &InvalidRosterError{Errors: r.Errors}
	}
	return nil
}

// Parse reads a roster. A file it cannot read at all (bad CSV quoting, no employee ID column)
// is an error; bad rows end up in Roster.Errors and out of Roster.Records.
func Parse(r io.Reader, format Format, m Mapping) (Roster, error) {
	if err := m.Validate(); err != nil {
		return Roster{}, err
	}
	var rows []rawRow
	var err error
	switch format {
	case CSV:
		rows, err = readCSV(r)
	case JSON:
		rows, err = readJSON(r)
	default:
		return Roster{}, fmt.Errorf("roster format %q: use csv or json", format)
	}
	if err != nil {
		return Roster{}, err
	}
	p := parser{m: m, unit: "line"}
	if format == JSON {
		p.unit = "record"
	}
	if len(rows) > 0 {
		if _, ok := rows[0].cells[m.column(FieldEmployeeID)]; !ok && format == CSV {
			return Roster{}, fmt.Errorf("roster has no %q column (the employee ID; map it with hr.mapping.employee_id)", m.column(FieldEmployeeID))
		}
	}
	var out Roster
	invalid := map[string][]int{}
	var invalidRecs []Record
	allIDs := make(map[string]bool, len(rows))
	for _, raw := range rows {
		rec, errs := p.record(raw)
		allIDs[rec.EmployeeID] = true
		if len(errs) > 0 {
			out.Errors = append(out.Errors, errs...)
			if rec.EmployeeID != "" {
				invalid[rec.EmployeeID] = append(invalid[rec.EmployeeID], raw.row)
			}
			invalidRecs = append(invalidRecs, rec)
			continue
		}
		out.Records = append(out.Records, rec)
	}
	// A row already bad is still checked for an unknown manager, so one pass over the report
	// shows everything to fix.
	for _, rec := range invalidRecs {
		if rec.ManagerID != "" && !allIDs[rec.ManagerID] {
			out.Errors = append(out.Errors, RowError{Unit: p.unit, Row: rec.Row, Column: m.column(FieldManagerID),
				Value: rec.ManagerID, Reason: "unknown manager: no row has this employee ID"})
		}
	}
	out.Records, out.Errors = p.checkRelations(out.Records, out.Errors, invalid)
	slices.SortStableFunc(out.Errors, func(a, b RowError) int { return a.Row - b.Row })
	return out, nil
}

// rawRow is one row as column → text, before any interpretation.
type rawRow struct {
	row   int
	cells map[string]string
}

func readCSV(r io.Reader) ([]rawRow, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("roster: %w", err)
	}
	cols := make([]string, len(header))
	for i, h := range header {
		cols[i] = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
	}
	var rows []rawRow
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("roster: %w", err)
		}
		line, _ := cr.FieldPos(0)
		cells := make(map[string]string, len(cols))
		for i, c := range cols {
			if i < len(rec) {
				cells[c] = strings.TrimSpace(rec[i])
			}
		}
		rows = append(rows, rawRow{row: line, cells: cells})
	}
}

func readJSON(r io.Reader) ([]rawRow, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("roster: %w", err)
	}
	data = bytes.TrimSpace(data)
	var objs []map[string]any
	if len(data) > 0 && data[0] == '{' {
		var wrapped struct {
			People []map[string]any `json:"people"`
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&wrapped); err != nil {
			return nil, fmt.Errorf("roster: %w", err)
		}
		objs = wrapped.People
	} else {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&objs); err != nil {
			return nil, fmt.Errorf("roster: expected a JSON array of people or {\"people\": [...]}: %w", err)
		}
	}
	rows := make([]rawRow, len(objs))
	for i, o := range objs {
		cells := make(map[string]string, len(o))
		for k, v := range o {
			switch v := v.(type) {
			case nil:
			case string:
				cells[k] = strings.TrimSpace(v)
			case json.Number:
				cells[k] = v.String()
			case bool:
				cells[k] = strconv.FormatBool(v)
			default:
				b, _ := json.Marshal(v)
				cells[k] = string(b)
			}
		}
		rows[i] = rawRow{row: i + 1, cells: cells}
	}
	return rows, nil
}

type parser struct {
	m    Mapping
	unit string
}

func (p parser) errAt(raw rawRow, field, reason string) RowError {
	col := p.m.column(field)
	return RowError{Unit: p.unit, Row: raw.row, Column: col, Value: raw.cells[col], Reason: reason}
}

// record interprets one row, collecting every bad cell rather than stopping at the first.
func (p parser) record(raw rawRow) (Record, []RowError) {
	get := func(field string) string { return raw.cells[p.m.column(field)] }
	var errs []RowError
	rec := Record{Row: raw.row, EmployeeID: get(FieldEmployeeID)}
	if rec.EmployeeID == "" {
		errs = append(errs, p.errAt(raw, FieldEmployeeID, "required"))
	}
	d := &rec.Data
	d.FirstName, d.LastName, d.PreferredName = get(FieldFirstName), get(FieldLastName), get(FieldPreferredName)
	if d.FirstName == "" && d.LastName == "" {
		errs = append(errs, p.errAt(raw, FieldFirstName, "a first or last name is required"))
	}
	d.WorkEmail, d.PersonalEmail = strings.ToLower(get(FieldEmail)), strings.ToLower(get(FieldPersonalEmail))
	d.JobTitle, d.JobCode, d.CostCenter = get(FieldJobTitle), get(FieldJobCode), get(FieldCostCenter)
	d.Location, d.Country = get(FieldLocation), strings.ToUpper(get(FieldCountry))
	d.ManagerID = get(FieldManagerID)
	d.Organization, d.Division, d.Department, d.Team = get(FieldOrganization), get(FieldDivision), get(FieldDepartment), get(FieldTeam)
	for _, f := range []string{FieldOrganization, FieldDivision, FieldDepartment, FieldTeam} {
		if strings.Contains(get(f), "/") {
			errs = append(errs, p.errAt(raw, f, "org unit names cannot contain '/'"))
		}
	}
	if v := get(FieldEmploymentType); v == "" {
		d.EmploymentType = identity.Employee
	} else if t, err := identity.ParseEmploymentType(v); err != nil {
		errs = append(errs, p.errAt(raw, FieldEmploymentType, "unknown employment type; use one of employee|contractor|vendor|intern"))
	} else {
		d.EmploymentType = t
	}
	rec.Status = identity.Active
	if v := get(FieldStatus); v != "" {
		st, err := parseRosterStatus(v)
		if err != nil {
			errs = append(errs, p.errAt(raw, FieldStatus, err.Error()))
		}
		rec.Status = st
	}
	dates := []struct {
		field string
		dst   **time.Time
	}{{FieldStartDate, &d.StartDate}, {FieldEndDate, &d.EndDate}, {FieldTerminationDate, &rec.TerminationDate}}
	for _, dt := range dates {
		v := get(dt.field)
		if v == "" {
			continue
		}
		t, err := ParseDate(v)
		if err != nil {
			errs = append(errs, p.errAt(raw, dt.field, "bad date: use YYYY-MM-DD"))
			continue
		}
		*dt.dst = &t
	}
	if d.StartDate != nil && d.EndDate != nil && d.EndDate.Before(*d.StartDate) {
		errs = append(errs, p.errAt(raw, FieldEndDate, "end date is before the start date"))
	}
	if rec.TerminationDate != nil && rec.Status == identity.Active {
		// A termination date without a status means the person leaves on that date.
		rec.Status = identity.Terminated
	}
	return rec, errs
}

// parseRosterStatus accepts the statuses HR systems write; "leave" and "inactive" are common
// spellings of on_leave and terminated.
func parseRosterStatus(v string) (identity.Status, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "leave", "on leave", "loa":
		return identity.OnLeave, nil
	case "inactive", "terminated", "termed", "separated":
		return identity.Terminated, nil
	}
	st, err := identity.ParseStatus(v)
	if err != nil || st == identity.Suspended {
		return "", errors.New("unknown status; use active|pre_hire|on_leave|terminated")
	}
	return st, nil
}
