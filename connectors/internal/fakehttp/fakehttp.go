// Package fakehttp holds what the fakes of SaaS apps (githubfake, slackfake, scimtarget)
// share in serving HTTP: stalling a request without letting an abandoned one take effect,
// Retry-After values, SCIM list paging and JSON bodies. Each fake keeps its app's own error
// form and limits.
package fakehttp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// maxBody bounds what a fake reads of a request body.
const maxBody = 8 << 20

// Buffer reads r's whole body into memory and puts it back for the handler. Once the body is
// read to its end net/http watches the connection, so a client that gives up cancels
// r.Context(); before that, a request with a body never notices. Call it before any wait.
func Buffer(r *http.Request) error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return err
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return nil
}

// Hold keeps r waiting for d (for ever when d < 0) or until release is closed, answering
// nothing meanwhile. It reports false when the client gave up first (or the body could not be
// read): the handler must then change nothing, as the real app would never have seen the
// request. Its body is read first, so that giving up is noticed for writes too.
func Hold(r *http.Request, d time.Duration, release <-chan struct{}) bool {
	if err := Buffer(r); err != nil {
		return false
	}
	if d == 0 {
		return r.Context().Err() == nil
	}
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-r.Context().Done():
		return false
	case <-timeout:
	case <-release:
		// A release (the fake's Reset) often follows the client's giving up at once, before
		// net/http has seen the connection close: give it that moment.
		t := time.NewTimer(releaseGrace)
		defer t.Stop()
		select {
		case <-r.Context().Done():
		case <-t.C:
		}
	}
	return r.Context().Err() == nil
}

// releaseGrace is how long a released request waits for its client's departure to show.
const releaseGrace = 100 * time.Millisecond

// Seconds is a Retry-After value: d in whole seconds, rounded up, at least 1.
func Seconds(d time.Duration) string {
	return strconv.Itoa(max(1, int((d+time.Second-1)/time.Second)))
}

// Paging reads a SCIM list's startIndex (default 1) and count (default def, at most most).
func Paging(r *http.Request, def, most int) (start, count int, err error) {
	start, count = 1, def
	q := r.URL.Query()
	if v := q.Get("startIndex"); v != "" {
		if start, err = strconv.Atoi(v); err != nil {
			return 0, 0, fmt.Errorf("startIndex %q is not a number", v)
		}
		start = max(start, 1)
	}
	if v := q.Get("count"); v != "" {
		if count, err = strconv.Atoi(v); err != nil {
			return 0, 0, fmt.Errorf("count %q is not a number", v)
		}
		count = min(max(count, 0), most)
	}
	return start, count, nil
}

// ErrorSchema is the schema of a SCIM error response.
const ErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error"

// SCIMError is the RFC 7644 §3.12 error body (status as a string), which an app's fake may
// adjust to its own form before writing it.
func SCIMError(status int, scimType, detail string) map[string]any {
	body := map[string]any{"schemas": []string{ErrorSchema}, "status": strconv.Itoa(status), "detail": detail}
	if scimType != "" {
		body["scimType"] = scimType
	}
	return body
}

// ListSchema is the schema of a SCIM list response.
const ListSchema = "urn:ietf:params:scim:api:messages:2.0:ListResponse"

// ListResponse writes one page (from start, 1-based, count long) of docs as a SCIM list
// response, totalResults counting them all.
func ListResponse(w http.ResponseWriter, docs []map[string]any, start, count int) {
	page := []map[string]any{}
	if i := start - 1; i < len(docs) {
		page = docs[i:min(len(docs), i+count)]
	}
	WriteJSON(w, http.StatusOK, "application/scim+json", map[string]any{
		"schemas": []string{ListSchema}, "totalResults": len(docs), "itemsPerPage": len(page),
		"startIndex": start, "Resources": page,
	})
}

// WriteJSON answers status with v encoded as JSON (no body when v is nil).
func WriteJSON(w http.ResponseWriter, status int, contentType string, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

// ReadObject reads a request body holding one JSON object.
func ReadObject(r *http.Request) (map[string]any, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	var doc map[string]any
	if err == nil {
		err = json.Unmarshal(b, &doc)
	}
	if err == nil && doc == nil {
		err = fmt.Errorf("the body is not a JSON object")
	}
	return doc, err
}
