package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

func (e *env) orgCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "org", Short: "The org tree"}
	cmd.AddCommand(&cobra.Command{
		Use:   "tree",
		Short: "Print the org tree with head counts",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			orgs, err := loadOrgIndex(ctx, s)
			if err != nil {
				return err
			}
			people, err := s.ListPeople(ctx, directory.PersonFilter{})
			if err != nil {
				return err
			}
			direct := map[string]int{}
			for _, p := range people {
				direct[p.OrgUnitID]++
			}
			roots := buildTree(orgs.units, direct)
			if e.output == "table" {
				if len(roots) == 0 {
					fmt.Fprintln(e.stdout, "(no org units yet)")
				}
				for _, r := range roots {
					printTree(e, r, "", true, true)
				}
				if unplaced := direct[""]; unplaced > 0 {
					fmt.Fprintf(e.stdout, "(%d people in no org unit)\n", unplaced)
				}
				return nil
			}
			t := table{headers: []string{"PATH", "KIND", "ID", "PEOPLE", "PEOPLE_BELOW"}}
			for _, u := range orgs.units {
				n := findNode(roots, u.ID)
				t.rows = append(t.rows, []string{orgs.path(u.ID), string(u.Kind), u.ID, strconv.Itoa(n.People), strconv.Itoa(n.Total)})
			}
			if roots == nil {
				roots = []*orgNode{}
			}
			return e.print(roots, t)
		},
	})
	return cmd
}

// orgNode is one unit in `org tree -o json`: nested, with direct and total head counts.
type orgNode struct {
	ID       string               `json:"id"`
	Name     string               `json:"name"`
	Kind     identity.OrgUnitKind `json:"kind"`
	People   int                  `json:"people"`       // directly in this unit
	Total    int                  `json:"people_below"` // in this unit and every unit below
	Children []*orgNode           `json:"children,omitempty"`
}

func buildTree(units []identity.OrgUnit, direct map[string]int) []*orgNode {
	nodes := map[string]*orgNode{}
	var roots []*orgNode
	for _, u := range units { // parents come first
		n := &orgNode{ID: u.ID, Name: u.Name, Kind: u.Kind, People: direct[u.ID]}
		nodes[u.ID] = n
		if p, ok := nodes[u.ParentID]; ok {
			p.Children = append(p.Children, n)
		} else {
			roots = append(roots, n)
		}
	}
	var total func(n *orgNode) int
	total = func(n *orgNode) int {
		n.Total = n.People
		for _, c := range n.Children {
			n.Total += total(c)
		}
		return n.Total
	}
	for _, r := range roots {
		total(r)
	}
	return roots
}

func findNode(nodes []*orgNode, id string) *orgNode {
	for _, n := range nodes {
		if n.ID == id {
			return n
		}
		if f := findNode(n.Children, id); f != nil {
			return f
		}
	}
	return nil
}

func printTree(e *env, n *orgNode, prefix string, last, root bool) {
	branch, next := "", ""
	if !root {
		branch, next = "├── ", "│   "
		if last {
			branch, next = "└── ", "    "
		}
	}
	fmt.Fprintf(e.stdout, "%s%s%s (%s) %s\n", prefix, branch, n.Name, n.Kind, headCount(n))
	for i, c := range n.Children {
		printTree(e, c, prefix+next, i == len(n.Children)-1, false)
	}
}

func headCount(n *orgNode) string {
	word := func(k int) string {
		if k == 1 {
			return "1 person"
		}
		return strconv.Itoa(k) + " people"
	}
	if len(n.Children) == 0 || n.Total == n.People {
		return strings.TrimSpace(word(n.People))
	}
	return fmt.Sprintf("%s, %d below", word(n.People), n.Total-n.People)
}
