package server

import (
	"net/http"
	"slices"

	"github.com/tenure-id/tenure/pkg/admin"
	"github.com/tenure-id/tenure/pkg/directory"
)

// plan is `tenure plan -o json`: what apply would do, with reasons. It reads the directory
// and the apps and writes nothing.
func (a *adminAPI) plan(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Planner == nil {
		writeProblem(w, http.StatusConflict, "no app to plan: configure provisioning.apps", "")
		return
	}
	p, err := a.cfg.Planner(r.Context())
	if err != nil {
		a.fail(w, err)
		return
	}
	apps := list(r, "app")
	for _, app := range apps {
		if _, ok := p.Connectors[app]; !ok {
			badParam(w, "app", "app "+app+" is not configured for provisioning (provisioning.apps), or is disabled")
			return
		}
	}
	if len(p.Connectors) == 0 {
		writeProblem(w, http.StatusConflict, "no app to plan: configure provisioning.apps", "")
		return
	}
	plan, err := p.Plan(r.Context(), apps...)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, admin.PlanJSON(plan))
}

// opsPage is a page of GET /api/v1/ops: `tenure ops list -o json`, oldest first.
type opsPage struct {
	admin.OpsListing
	NextOffset *int `json:"next_offset,omitempty"`
}

func (a *adminAPI) listOps(w http.ResponseWriter, r *http.Request) {
	pg, ok := readPage(w, r)
	if !ok {
		return
	}
	f, err := admin.OpsFilter(list(r, "state"), r.URL.Query().Get("app"))
	if err != nil {
		a.fail(w, err)
		return
	}
	out, err := admin.ListOps(r.Context(), a.cfg.Store, f)
	if err != nil {
		a.fail(w, err)
		return
	}
	ops := out.Ops[min(pg.offset, len(out.Ops)):]
	res := opsPage{OpsListing: out, NextOffset: pg.next(len(ops))}
	res.Ops = slices.Clip(ops[:min(pg.limit, len(ops))])
	writeJSON(w, http.StatusOK, res)
}

// retryRequest is the body of POST /api/v1/ops/retry: an app, or op IDs, or neither (all).
type retryRequest struct {
	App string  `json:"app"`
	IDs []int64 `json:"ids"`
}

func (a *adminAPI) retryOps(w http.ResponseWriter, r *http.Request) {
	var req retryRequest
	if !decodeBody(w, r, &req) {
		return
	}
	rq := directory.OutboxRetry{App: req.App, IDs: req.IDs}
	if err := admin.CheckRetry(rq); err != nil {
		a.fail(w, err)
		return
	}
	n, err := a.cfg.Store.RetryOps(r.Context(), rq)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"requeued": n})
}
