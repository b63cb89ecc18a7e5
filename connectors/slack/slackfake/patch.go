package slackfake

import (
	"errors"
	"net/http"

	"github.com/tenure-id/tenure/connectors/internal/fakehttp"
	"github.com/tenure-id/tenure/connectors/internal/scimpatch"
)

// replacement is the resource a PUT or PATCH asks for: the PUT's body, or cur() (a copy of the
// resource, which it may change) with the PATCH operations applied. It answers Slack's 400
// itself when there is none.
func (s *Server) replacement(w http.ResponseWriter, r *http.Request, cur func() map[string]any) (map[string]any, bool) {
	if r.Method == http.MethodPut {
		doc, err := fakehttp.ReadObject(r)
		if err != nil {
			s.error(w, http.StatusBadRequest, "invalidSyntax", "invalid_json")
		}
		return doc, err == nil
	}
	doc := cur()
	ops, err := scimpatch.Decode(r.Body)
	if err == nil {
		err = scimpatch.Apply(doc, ops)
	}
	var pe *scimpatch.Error
	if errors.As(err, &pe) {
		s.error(w, http.StatusBadRequest, pe.ScimType, err.Error())
		return nil, false
	}
	return doc, true
}
