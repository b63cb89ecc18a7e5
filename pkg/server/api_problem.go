package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/tenure-id/tenure/pkg/admin"
	"github.com/tenure-id/tenure/pkg/identity"
)

var errNotFound = identity.ErrNotFound

// problem is an RFC 9457 problem detail. InvalidParams (the RFC's own example extension, in
// the API's snake_case) names the parameter at fault, so a client can point at its field.
type problem struct {
	Type          string         `json:"type"`
	Title         string         `json:"title"`
	Status        int            `json:"status"`
	Detail        string         `json:"detail,omitempty"`
	InvalidParams []invalidParam `json:"invalid_params,omitempty"`
}

type invalidParam struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

func writeProblem(w http.ResponseWriter, status int, detail, param string) {
	p := problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail}
	if param != "" {
		p.InvalidParams = []invalidParam{{Name: param, Reason: detail}}
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

// fail answers err as a problem: a bad parameter names it, the directory's sentinels map to
// 404, 409 and 400, and anything else is logged and hidden behind a 500.
func (a *adminAPI) fail(w http.ResponseWriter, err error) {
	var pe *admin.ParamError
	var fe *identity.FieldError
	switch {
	case errors.As(err, &pe):
		status := http.StatusUnprocessableEntity
		if pe.Usage {
			status = http.StatusBadRequest
		}
		writeProblem(w, status, pe.Msg, pe.Param)
	case errors.As(err, &fe):
		writeProblem(w, http.StatusBadRequest, err.Error(), fe.Field)
	case errors.Is(err, identity.ErrNotFound):
		writeProblem(w, http.StatusNotFound, err.Error(), "")
	case errors.Is(err, identity.ErrConflict):
		writeProblem(w, http.StatusConflict, err.Error(), "")
	case errors.Is(err, identity.ErrInvalid):
		writeProblem(w, http.StatusBadRequest, err.Error(), "")
	default:
		a.internal(w, "admin api", err)
	}
}

func (a *adminAPI) internal(w http.ResponseWriter, what string, err error) {
	a.cfg.Logger.Error(what, "err", err)
	writeProblem(w, http.StatusInternalServerError, "the request could not be completed; see the server log", "")
}

func badParam(w http.ResponseWriter, param, detail string) {
	writeProblem(w, http.StatusBadRequest, param+": "+detail, param)
}

// page is limit and offset of a listing. Listings that can be long are paged; the response
// carries next_offset while more remain.
type page struct{ limit, offset int }

const (
	defaultPageLimit = 100
	maxPageLimit     = 1000
)

func readPage(w http.ResponseWriter, r *http.Request) (page, bool) {
	p := page{limit: defaultPageLimit}
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageLimit {
			badParam(w, "limit", "want a number from 1 to "+strconv.Itoa(maxPageLimit))
			return p, false
		}
		p.limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			badParam(w, "offset", "want a number from 0, as next_offset gives it")
			return p, false
		}
		p.offset = n
	}
	return p, true
}

// next is the offset of the following page when more than limit items were found (listings
// read one more than the page to know).
func (p page) next(found int) *int {
	if found <= p.limit {
		return nil
	}
	n := p.offset + p.limit
	return &n
}

// decodeBody reads a JSON object strictly: an unknown field is named, not ignored.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var ute *json.UnmarshalTypeError
		param := ""
		if errors.As(err, &ute) {
			param = ute.Field
		} else if f, ok := unknownField(err); ok {
			param = f
		}
		writeProblem(w, http.StatusBadRequest, "request body: "+err.Error(), param)
		return false
	}
	return true
}

// unknownField reads the field name out of encoding/json's "json: unknown field \"x\"".
func unknownField(err error) (string, bool) {
	const prefix = `json: unknown field "`
	msg := err.Error()
	if len(msg) > len(prefix) && msg[:len(prefix)] == prefix {
		return msg[len(prefix) : len(msg)-1], true
	}
	return "", false
}
