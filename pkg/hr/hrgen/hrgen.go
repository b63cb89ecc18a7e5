// Package hrgen generates large, deterministic rosters for load tests and benchmarks: the same
// size and seed always give the same people, and Change derives a later roster with a given
// share of joiners, movers and leavers.
package hrgen

import (
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/tenure-id/tenure/pkg/hr"
	"github.com/tenure-id/tenure/pkg/identity"
)

var (
	firstNames = []string{"Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances", "Edsger",
		"José", "Zoë", "Søren", "Chloé", "Łukasz", "Mária", "Ngozi", "Hiroshi", "Priya", "Mateo", "Aisha", "Bjørn",
		"Fatima", "Olivier", "Saanvi", "Noah", "Ingrid", "Kwame", "Yuki", "Rafael", "Elif", "Tomás"}
	lastNames = []string{"Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson", "Allen",
		"Dijkstra", "Ñúñez", "Brontë", "Kierkegaard", "Dubois", "Wałęsa", "Novák", "Okafor", "Tanaka", "Sharma",
		"García", "Haddad", "Larsen", "Al-Sayed", "Müller", "O'Brien", "Kim", "Mensah", "Sato", "Costa", "Yılmaz",
		"Fernández", "Nguyen", "Kowalski", "Rossi", "Schmidt", "Andersson"}
	divisions = []string{"Engineering", "Marketing", "Sales", "Support", "Finance", "People", "Legal", "Operations", "Product", "Research"}
)

const (
	perDivision   = 10 // departments per division
	perDepartment = 10 // teams per department
)

// Roster returns n people of one organization: a CEO, division, department and team heads,
// and members spread over 1,000 teams.
func Roster(n int, seed uint64) []hr.Record {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]hr.Record, 0, n)
	add := func(mgr, div, dept, team, title string) string {
		i := len(out) + 1
		rec := hr.Record{Row: i + 1, EmployeeID: fmt.Sprintf("E%07d", i), Status: identity.Active}
		d := &rec.Data
		d.FirstName, d.LastName = firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
		d.Organization, d.Division, d.Department, d.Team = "Pied Piper", div, dept, team
		d.JobTitle, d.JobCode, d.ManagerID = title, fmt.Sprintf("J%02d", rng.IntN(40)), mgr
		d.CostCenter, d.Location, d.Country = fmt.Sprintf("CC-%03d", rng.IntN(200)), "Palo Alto", "US"
		start := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(3650))
		d.StartDate, d.EmploymentType = &start, identity.Employee
		if title == "Member" {
			switch r := rng.IntN(100); {
			case r < 10:
				d.EmploymentType = identity.Contractor
			case r < 12:
				d.EmploymentType = identity.Vendor
			case r < 15:
				d.EmploymentType = identity.Intern
			}
		}
		if d.EmploymentType != identity.Employee {
			end := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(1000))
			d.EndDate = &end
		}
		out = append(out, rec)
		return rec.EmployeeID
	}
	ceo := add("", "", "", "", "Chief Executive Officer")
	var leads []hr.Record
	for _, div := range divisions {
		dh := add(ceo, div, "", "", "Head of "+div)
		for d := 1; d <= perDivision; d++ {
			dept := fmt.Sprintf("%s %d", div, d)
			mh := add(dh, div, dept, "", "Head of "+dept)
			for t := 1; t <= perDepartment; t++ {
				add(mh, div, dept, fmt.Sprintf("Team %d", t), "Team Lead")
				leads = append(leads, out[len(out)-1])
			}
		}
	}
	for len(out) < n {
		l := leads[len(out)%len(leads)]
		add(l.EmployeeID, l.Division, l.Department, l.Team, "Member")
	}
	return out[:min(n, len(out))]
}

// Change returns a copy of roster in which share (0.01 for 1 %) of the people change: a third
// transfer to another team, and the rest split between manager changes, attribute changes,
// terminations and new hires. Only members change, so the management tree stays intact.
func Change(roster []hr.Record, share float64, seed uint64) []hr.Record {
	rng := rand.New(rand.NewPCG(seed, seed^0x6a09e667f3bcc909))
	out := make([]hr.Record, len(roster))
	copy(out, roster)
	n := int(float64(len(roster)) * share)
	var leads []hr.Record
	for _, r := range roster {
		if r.JobTitle == "Team Lead" {
			leads = append(leads, r)
		}
	}
	next := len(roster)
	for i := 0; i < n; i++ {
		k := rng.IntN(len(out))
		for out[k].JobTitle != "Member" {
			k = rng.IntN(len(out))
		}
		r := out[k]
		switch i % 6 {
		case 0, 1: // transfer to another team, under its lead
			l := leads[rng.IntN(len(leads))]
			r.Division, r.Department, r.Team, r.ManagerID = l.Division, l.Department, l.Team, l.EmployeeID
		case 2:
			r.ManagerID = leads[rng.IntN(len(leads))].EmployeeID
		case 3:
			r.Location, r.CostCenter = "Berlin", fmt.Sprintf("CC-%03d", rng.IntN(200))
		case 4:
			r.Status = identity.Terminated
		case 5:
			next++
			h := r
			h.EmployeeID, h.Row = fmt.Sprintf("E%07d", next), next+1
			h.FirstName, h.LastName = firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
			out = append(out, h)
			continue
		}
		out[k] = r
	}
	return out
}

// WriteCSV writes records with the default column names, readable by hr.Parse.
func WriteCSV(w io.Writer, records []hr.Record) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(hr.Fields); err != nil {
		return err
	}
	date := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format(time.DateOnly)
	}
	for _, r := range records {
		d := r.Data
		status := string(r.Status)
		if err := cw.Write([]string{r.EmployeeID, d.FirstName, d.LastName, d.PreferredName, d.WorkEmail, d.PersonalEmail,
			string(d.EmploymentType), d.JobTitle, d.JobCode, d.Organization, d.Division, d.Department, d.Team, d.CostCenter,
			d.Location, d.Country, d.ManagerID, date(d.StartDate), date(d.EndDate), date(r.TerminationDate), status}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
