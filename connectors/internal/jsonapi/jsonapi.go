// Package jsonapi is the request plumbing the REST connectors (HubSpot, Zendesk) share: one
// JSON request, the answer decoded, each app's error body left to the app.
package jsonapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/tenure-id/tenure/pkg/connector"
)

// maxBody bounds what is read of an answer.
const maxBody = 16 << 20

// Do sends method to base+path with in (if not nil) as JSON and the Authorization header auth,
// and decodes a successful answer into out (if not nil). An answer of 300 or more goes to fail
// with its body, so each app reads its own error form. Errors name the app and the path only:
// queries carry emails and external ids, which stay out of errors and logs.
func Do(ctx context.Context, client *http.Client, app, base, method, path, auth string, in, out any,
	fail func(*http.Response, []byte) error) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s: encoding %s: %w", app, method, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", app, method, err)
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %s %s: %w", app, method, PathOnly(path), stripURL(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("%s: reading the answer to %s %s: %w", app, method, PathOnly(path), err)
	}
	if resp.StatusCode >= 300 {
		return fail(resp, b)
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return &connector.Error{Kind: connector.ErrUnavailable, Status: resp.StatusCode, Detail: "unreadable answer to " + method + " " + PathOnly(path)}
		}
	}
	return nil
}

// PathOnly is p without its query.
func PathOnly(p string) string {
	p, _, _ = strings.Cut(p, "?")
	return p
}

// stripURL keeps the query out of a transport error.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: PathOnly(ue.URL), Err: ue.Err}
	}
	return err
}

// Slug is how a role, team or group name reads as an entitlement: "Tier 1" → "tier-1".
func Slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	return b.String()
}
