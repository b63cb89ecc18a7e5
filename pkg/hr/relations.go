package hr

import (
	"fmt"
	"strings"
)

// checkRelations finds what no single row shows: duplicate employee IDs, managers that are not
// on the roster, and manager cycles. Rows that fail leave the record list; their reports join
// errs. Dropping a row can orphan its reports, so the check repeats until nothing changes.
func (p parser) checkRelations(recs []Record, errs []RowError, invalidRows map[string][]int) ([]Record, []RowError) {
	at := func(r Record, field, value, reason string) RowError {
		return RowError{Unit: p.unit, Row: r.Row, Column: p.m.column(field), Value: value, Reason: reason}
	}
	// Rows that failed on their own still name an employee ID; a duplicate of one is still a
	// duplicate, and reports of one still lose their manager.
	rowsByID := map[string][]int{}
	bad := map[string]bool{}
	for id, rows := range invalidRows {
		rowsByID[id] = append(rowsByID[id], rows...)
		bad[id] = true
	}
	for _, r := range recs {
		rowsByID[r.EmployeeID] = append(rowsByID[r.EmployeeID], r.Row)
	}
	var kept []Record
	for _, r := range recs {
		if rows := rowsByID[r.EmployeeID]; len(rows) > 1 {
			others := make([]string, 0, len(rows)-1)
			for _, n := range rows {
				if n != r.Row {
					others = append(others, fmt.Sprint(n))
				}
			}
			errs = append(errs, at(r, FieldEmployeeID, r.EmployeeID,
				fmt.Sprintf("duplicate employee ID (also on %s %s)", p.unit, strings.Join(others, ", "))))
			bad[r.EmployeeID] = true
			continue
		}
		kept = append(kept, r)
	}
	recs = kept
	for {
		byID := make(map[string]Record, len(recs))
		for _, r := range recs {
			byID[r.EmployeeID] = r
		}
		drop := map[string]RowError{}
		for _, r := range recs {
			m := r.ManagerID
			switch {
			case m == "":
			case m == r.EmployeeID:
				drop[r.EmployeeID] = at(r, FieldManagerID, m, "a person cannot be their own manager (manager cycle)")
			case bad[m]:
				drop[r.EmployeeID] = at(r, FieldManagerID, m, "the manager's own row is invalid")
			default:
				if _, ok := byID[m]; !ok {
					drop[r.EmployeeID] = at(r, FieldManagerID, m, "unknown manager: no row has this employee ID")
				}
			}
		}
		for id, e := range cycles(recs, byID, at) {
			if _, ok := drop[id]; !ok {
				drop[id] = e
			}
		}
		if len(drop) == 0 {
			return recs, errs
		}
		kept = recs[:0:0]
		for _, r := range recs {
			if e, ok := drop[r.EmployeeID]; ok {
				errs = append(errs, e)
				bad[r.EmployeeID] = true
				continue
			}
			kept = append(kept, r)
		}
		recs = kept
	}
}

// cycles reports every row on a manager cycle longer than one, naming the whole loop.
func cycles(recs []Record, byID map[string]Record, at func(Record, string, string, string) RowError) map[string]RowError {
	const (
		unvisited = iota
		inPath
		done
	)
	state := make(map[string]int, len(recs))
	out := map[string]RowError{}
	for _, start := range recs {
		var path []string
		id := start.EmployeeID
		for id != "" && state[id] == unvisited {
			if _, ok := byID[id]; !ok {
				break
			}
			state[id] = inPath
			path = append(path, id)
			id = byID[id].ManagerID
		}
		if id != "" && state[id] == inPath {
			i := indexOf(path, id)
			loop := append(append([]string{}, path[i:]...), id)
			for _, member := range path[i:] {
				r := byID[member]
				if r.ManagerID == r.EmployeeID {
					continue // reported as its own manager
				}
				out[member] = at(r, FieldManagerID, r.ManagerID, "manager cycle: "+strings.Join(loop, " → "))
			}
		}
		for _, p := range path {
			state[p] = done
		}
	}
	return out
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}
