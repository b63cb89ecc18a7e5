package githubfake

import (
	"errors"
	"net/http"

	"github.com/tenure-id/tenure/connectors/internal/scimpatch"
)

// replacement is the resource a PUT or PATCH asks for: the PUT's body, or cur() (a copy of the
// resource, which it may change) with the PATCH operations applied. It answers GitHub's SCIM
// 400 itself when there is none.
func replacement(w http.ResponseWriter, r *http.Request, cur func() map[string]any) (map[string]any, bool) {
	if r.Method == http.MethodPut {
		return readDoc(w, r)
	}
	doc := cur()
	ops, err := scimpatch.Decode(r.Body)
	if err == nil {
		err = scimpatch.Apply(doc, ops)
	}
	var pe *scimpatch.Error
	if errors.As(err, &pe) {
		scimError(w, http.StatusBadRequest, pe.ScimType, err.Error())
		return nil, false
	}
	return doc, true
}
