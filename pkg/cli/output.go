package cli

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// table is what table and csv output print; JSON prints the value instead, so scripts get
// full objects with stable snake_case keys while people get aligned columns.
type table struct {
	headers []string
	rows    [][]string
}

func (e *env) print(v any, t table) error {
	switch e.output {
	case "json":
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "csv":
		w := csv.NewWriter(e.stdout)
		if err := w.Write(t.headers); err != nil {
			return err
		}
		if err := w.WriteAll(t.rows); err != nil {
			return err
		}
		w.Flush()
		return w.Error()
	default:
		return writeTable(e.stdout, t)
	}
}

func writeTable(out io.Writer, t table) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	line := func(cells []string) {
		for i, c := range cells {
			if i > 0 {
				fmt.Fprint(w, "\t")
			}
			if c == "" {
				c = "-"
			}
			fmt.Fprint(w, c)
		}
		fmt.Fprintln(w)
	}
	line(t.headers)
	for _, r := range t.rows {
		line(r)
	}
	return w.Flush()
}
