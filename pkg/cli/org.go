package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tenure-id/tenure/pkg/admin"
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
			tree, err := admin.LoadOrgTree(ctx, s)
			if err != nil {
				return err
			}
			orgs, roots := tree.Index, tree.Roots
			if e.output == "table" {
				if len(roots) == 0 {
					fmt.Fprintln(e.stdout, "(no org units yet)")
				}
				for _, r := range roots {
					printTree(e, r, "", true, true)
				}
				if unplaced := tree.Unplaced; unplaced > 0 {
					fmt.Fprintf(e.stdout, "(%d people in no org unit)\n", unplaced)
				}
				return nil
			}
			t := table{headers: []string{"PATH", "KIND", "ID", "PEOPLE", "PEOPLE_BELOW"}}
			for _, u := range orgs.Units {
				n := admin.FindNode(roots, u.ID)
				t.rows = append(t.rows, []string{orgs.Path(u.ID), string(u.Kind), u.ID, strconv.Itoa(n.People), strconv.Itoa(n.Total)})
			}
			return e.print(roots, t)
		},
	})
	return cmd
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
