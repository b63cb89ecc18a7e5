package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/tenure-id/tenure/pkg/identity"
)

// orgIndex resolves org units by ID or by path of names ("Pied Piper/Engineering"), the way
// people and HR files name them.
type orgIndex struct {
	units []identity.OrgUnit // parents before children
	byID  map[string]identity.OrgUnit
	paths map[string]string // id → path
}

type orgLister interface {
	ListOrgUnits(ctx context.Context) ([]identity.OrgUnit, error)
}

func loadOrgIndex(ctx context.Context, s orgLister) (*orgIndex, error) {
	units, err := s.ListOrgUnits(ctx)
	if err != nil {
		return nil, err
	}
	idx := &orgIndex{units: units, byID: map[string]identity.OrgUnit{}, paths: map[string]string{}}
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

func (x *orgIndex) path(id string) string { return x.paths[id] }

// resolve accepts an ID or a path; path matching ignores case, as HR spelling varies.
func (x *orgIndex) resolve(key string) (identity.OrgUnit, error) {
	if u, ok := x.byID[key]; ok {
		return u, nil
	}
	want := strings.Trim(strings.TrimSpace(key), "/")
	for id, p := range x.paths {
		if strings.EqualFold(p, want) {
			return x.byID[id], nil
		}
	}
	return identity.OrgUnit{}, fmt.Errorf("org unit %q not found: give its ID or full path, e.g. %q", key, x.examplePath())
}

func (x *orgIndex) examplePath() string {
	if len(x.units) == 0 {
		return "Org/Division/Department"
	}
	return x.paths[x.units[len(x.units)-1].ID]
}
