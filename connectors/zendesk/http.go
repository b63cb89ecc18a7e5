package zendesk

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tenure-id/tenure/connectors/internal/jsonapi"
	"github.com/tenure-id/tenure/pkg/connector"
)

// do sends one request to path (with its query) and decodes the answer into out.
func (c *Connector) do(ctx context.Context, method, path string, in, out any) error {
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(c.email+"/token:"+c.token))
	return jsonapi.Do(ctx, c.http, "zendesk", c.base, method, path, auth, in, out, responseError)
}

// zError is Zendesk's error body; "error" is a code string on most endpoints and an object
// ({title, message}) on a few.
type zError struct {
	Error       json.RawMessage `json:"error"`
	Description string          `json:"description"`
	Details     map[string][]struct {
		Description string `json:"description"`
		Error       string `json:"error"`
	} `json:"details"`
}

func responseError(resp *http.Response, body []byte) error {
	var z zError
	detail := ""
	duplicate := false
	if json.Unmarshal(body, &z) == nil {
		var code string
		if json.Unmarshal(z.Error, &code) != nil {
			var obj struct{ Title, Message string }
			_ = json.Unmarshal(z.Error, &obj)
			code = strings.TrimSpace(obj.Title + " " + obj.Message)
		}
		detail = strings.TrimSpace(code + ": " + z.Description)
		for _, field := range sortedKeys(z.Details) {
			for _, d := range z.Details[field] {
				detail += "; " + d.Description
				duplicate = duplicate || d.Error == "DuplicateValue"
			}
		}
	}
	detail = strings.Trim(detail, ": ")
	if detail == "" {
		detail = http.StatusText(resp.StatusCode) // text/plain and HTML bodies are not repeated
	}
	if len(detail) > 300 {
		detail = detail[:300] + "…"
	}
	e := &connector.Error{Status: resp.StatusCode, Detail: detail}
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests:
		e.Kind = connector.ErrRateLimited
	case s == http.StatusUnauthorized, s == http.StatusForbidden:
		e.Kind = connector.ErrUnauthorized
	case s == http.StatusNotFound:
		e.Kind = connector.ErrNotFound
	case s == http.StatusUnprocessableEntity && duplicate:
		e.Kind = connector.ErrConflict
	case s == http.StatusConflict, s >= 500:
		// Zendesk's 409 is a lock conflict between concurrent writes: worth a retry.
		e.Kind = connector.ErrUnavailable
	default:
		e.Kind = connector.ErrInvalid
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && secs > 0 {
		e.RetryAfter = time.Duration(secs) * time.Second
	}
	return e
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
