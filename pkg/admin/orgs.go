package admin

import (
	"context"
	"fmt"
	"strings"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// OrgIndex resolves org units by ID or by path of names ("Pied Piper/Engineering"), the way
// people and HR files name them.
type OrgIndex struct {
	Units []identity.OrgUnit // parents before children
	byID  map[string]identity.OrgUnit
	paths map[string]string // id → path
}

// OrgLister is what the index reads.
type OrgLister interface {
	ListOrgUnits(ctx context.Context) ([]identity.OrgUnit, error)
}

// LoadOrgIndex reads every unit once.
func LoadOrgIndex(ctx context.Context, s OrgLister) (*OrgIndex, error) {
	units, err := s.ListOrgUnits(ctx)
	if err != nil {
		return nil, err
	}
	idx := &OrgIndex{Units: units, byID: map[string]identity.OrgUnit{}, paths: map[string]string{}}
	for _, u := range units {
		idx.byID[u.ID] = u
		if parent, ok := idx.paths[u.ParentID]; ok {
			idx.paths[u.ID] = parent + "/" + u.Name
		} else {
			idx.paths[u.ID] = u.Name
		}
	}
	return idx, nil
}

// Path is the unit's path of names; "" for an unknown ID.
func (x *OrgIndex) Path(id string) string { return x.paths[id] }

// Resolve accepts an ID or a path; path matching ignores case, as HR spelling varies.
func (x *OrgIndex) Resolve(key string) (identity.OrgUnit, error) {
	if u, ok := x.byID[key]; ok {
		return u, nil
	}
	want := strings.Trim(strings.TrimSpace(key), "/")
	for id, p := range x.paths {
		if strings.EqualFold(p, want) {
			return x.byID[id], nil
		}
	}
	return identity.OrgUnit{}, fmt.Errorf("%w: give its ID or full path, e.g. %q", &identity.NotFoundError{Kind: "org unit", Key: key}, x.examplePath())
}

func (x *OrgIndex) examplePath() string {
	if len(x.Units) == 0 {
		return "Org/Division/Department"
	}
	return x.paths[x.Units[len(x.Units)-1].ID]
}

// OrgNode is one unit in the org tree: nested, with direct and total head counts.
type OrgNode struct {
	ID       string               `json:"id"`
	Name     string               `json:"name"`
	Kind     identity.OrgUnitKind `json:"kind"`
	People   int                  `json:"people"`       // directly in this unit
	Total    int                  `json:"people_below"` // in this unit and every unit below
	Children []*OrgNode           `json:"children,omitempty"`
}

// OrgTree is the tree with its index and the number of people in no unit.
type OrgTree struct {
	Roots    []*OrgNode
	Index    *OrgIndex
	Unplaced int
}

// OrgTreeSource is what the tree reads.
type OrgTreeSource interface {
	OrgLister
	ListPeople(ctx context.Context, f directory.PersonFilter) ([]identity.Person, error)
}

// LoadOrgTree builds the tree with head counts; Roots is never nil.
func LoadOrgTree(ctx context.Context, s OrgTreeSource) (OrgTree, error) {
	orgs, err := LoadOrgIndex(ctx, s)
	if err != nil {
		return OrgTree{}, err
	}
	people, err := s.ListPeople(ctx, directory.PersonFilter{})
	if err != nil {
		return OrgTree{}, err
	}
	direct := map[string]int{}
	for _, p := range people {
		direct[p.OrgUnitID]++
	}
	roots := BuildTree(orgs.Units, direct)
	if roots == nil {
		roots = []*OrgNode{}
	}
	return OrgTree{Roots: roots, Index: orgs, Unplaced: direct[""]}, nil
}

// BuildTree nests units (parents first) and counts heads from direct, people by unit ID.
func BuildTree(units []identity.OrgUnit, direct map[string]int) []*OrgNode {
	nodes := map[string]*OrgNode{}
	var roots []*OrgNode
	for _, u := range units { // parents come first
		n := &OrgNode{ID: u.ID, Name: u.Name, Kind: u.Kind, People: direct[u.ID]}
		nodes[u.ID] = n
		if p, ok := nodes[u.ParentID]; ok {
			p.Children = append(p.Children, n)
		} else {
			roots = append(roots, n)
		}
	}
	var total func(n *OrgNode) int
	total = func(n *OrgNode) int {
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

// FindNode finds a unit's node anywhere below nodes.
func FindNode(nodes []*OrgNode, id string) *OrgNode {
	for _, n := range nodes {
		if n.ID == id {
			return n
		}
		if f := FindNode(n.Children, id); f != nil {
			return f
		}
	}
	return nil
}
