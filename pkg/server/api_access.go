package server

import (
	"net/http"

	"github.com/tenure-id/tenure/pkg/admin"
	"github.com/tenure-id/tenure/pkg/identity"
)

// personAccess is `tenure access list PERSON -o json`: grants with reasons, blocked and
// excluded ones.
func (a *adminAPI) personAccess(w http.ResponseWriter, r *http.Request) {
	acc, ok := a.openAccess(w, r, r.PathValue("key"))
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, acc.List())
}

// accessWhy is `tenure access why PERSON APP -o json`.
func (a *adminAPI) accessWhy(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for _, p := range []string{"person", "app"} {
		if q.Get(p) == "" {
			badParam(w, p, "required")
			return
		}
	}
	acc, ok := a.openAccess(w, r, q.Get("person"))
	if !ok {
		return
	}
	ex, err := acc.Why(q.Get("app"))
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ex)
}

func (a *adminAPI) openAccess(w http.ResponseWriter, r *http.Request, person string) (*admin.Access, bool) {
	set, ok := a.policySet(w)
	if !ok {
		return nil, false
	}
	acc, err := admin.OpenAccess(r.Context(), a.cfg.Store, set, person, a.cfg.Clock())
	if err != nil {
		a.fail(w, err)
		return nil, false
	}
	return acc, true
}

// exceptionRequest is the body of POST /api/v1/access/exceptions.
type exceptionRequest struct {
	Person      string `json:"person"`
	App         string `json:"app"`
	Entitlement string `json:"entitlement"`
	Reason      string `json:"reason"`
	Approver    string `json:"approver"`
	Expires     string `json:"expires"` // last day, YYYY-MM-DD (UTC)
}

type exceptionGranted struct {
	Grant identity.Grant `json:"grant"`
	Note  string         `json:"note,omitempty"`
}

// grantException grants an approved exception with the checks of `tenure access grant`.
func (a *adminAPI) grantException(w http.ResponseWriter, r *http.Request) {
	var req exceptionRequest
	if !decodeBody(w, r, &req) {
		return
	}
	for _, p := range [][2]string{{"person", req.Person}, {"app", req.App}} {
		if p[1] == "" {
			badParam(w, p[0], "required")
			return
		}
	}
	set, ok := a.policySet(w)
	if !ok {
		return
	}
	res, err := admin.GrantException(r.Context(), a.cfg.Store, set, admin.ExceptionRequest(req), a.cfg.Clock())
	if err != nil {
		a.fail(w, err)
		return
	}
	w.Header().Set("Location", "/api/v1/access/exceptions/"+res.Grant.ID)
	writeJSON(w, http.StatusCreated, exceptionGranted{Grant: res.Grant, Note: res.Note})
}

// revokeException ends one exception early; ?reason= is required and audited.
func (a *adminAPI) revokeException(w http.ResponseWriter, r *http.Request) {
	g, err := admin.RevokeException(r.Context(), a.cfg.Store, r.PathValue("id"), r.URL.Query().Get("reason"))
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"revoked": g})
}
