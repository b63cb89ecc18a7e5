package scim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tenure-id/tenure/pkg/connector"
)

// Do sends one request to the app and decodes a 2xx JSON answer into out (when not nil). path
// is relative to the base URL ("/Users/2819c223"); query may be nil; body, when not nil, is
// sent as application/scim+json; hdr adds headers (If-Match). Any failure is a
// *connector.Error (possibly joined with the context's error) whose text never holds the
// token. App connectors built on this client use Do for their non-SCIM endpoints too.
func (c *Connector) Do(ctx context.Context, method, path string, query url.Values, body any, hdr http.Header, out any) (http.Header, error) {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("scim %s %s: encoding the request: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	if c.p.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.p.Timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("scim %s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/scim+json, application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("User-Agent", c.p.UserAgent)
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	start := c.now()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.log.Debug("scim request failed", "app", c.app, "method", method, "path", path, "took", c.now().Sub(start))
		return nil, c.transportError(ctx, method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	c.log.Debug("scim request", "app", c.app, "method", method, "path", path, "status", resp.StatusCode, "took", c.now().Sub(start))
	if err != nil {
		return nil, c.transportError(ctx, method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.Header, c.responseError(method, path, resp.StatusCode, resp.Header, raw)
	}
	if out != nil && len(bytes.TrimSpace(raw)) > 0 {
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(out); err != nil {
			return resp.Header, &connector.Error{Kind: connector.ErrUnavailable, Status: resp.StatusCode,
				Detail: fmt.Sprintf("%s %s: the app answered with a body that is not JSON", method, path)}
		}
	}
	return resp.Header, nil
}

// transportError reports a request that got no answer: retryable, and joined with the
// context's error when the caller's deadline or cancellation ended it.
func (c *Connector) transportError(ctx context.Context, method, path string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return errors.Join(&connector.Error{Kind: connector.ErrUnavailable,
			Detail: fmt.Sprintf("%s %s: no answer before the request was abandoned (%v)", method, path, ctxErr)}, ctxErr)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL may carry user info; the cause is what matters
	}
	return &connector.Error{Kind: connector.ErrUnavailable, Detail: c.scrub(fmt.Sprintf("%s %s: %v", method, path, err))}
}

func (c *Connector) scrub(s string) string {
	if c.token != "" {
		s = strings.ReplaceAll(s, c.token, "[redacted]")
	}
	return s
}

// responseError turns an error answer into a *connector.Error with the sentinel its status
// means, the app's own message, and how long the app asked to wait.
func (c *Connector) responseError(method, path string, status int, h http.Header, body []byte) error {
	e := ParseError(status, h, body, c.now())
	e.Detail = c.scrub(fmt.Sprintf("%s %s: %s", method, path, e.Detail))
	return e
}

// ParseError reads an error answer: the RFC 7644 body (status as a string), GitHub's (status
// as a number, message, documentation_url), Slack v1's {"Errors":{"description","code"}}, or
// plain text; Retry-After in seconds or as an HTTP date; x-ratelimit-remaining/-reset as GitHub
// sends them. now turns dates into waits.
func ParseError(status int, h http.Header, body []byte, now time.Time) *connector.Error {
	detail, scimType := errorBody(body)
	if detail == "" {
		detail = http.StatusText(status)
	}
	if scimType != "" {
		detail = scimType + ": " + detail
	}
	wait := retryAfter(h, now)
	e := &connector.Error{Status: status, Detail: detail, RetryAfter: wait}
	rateLimited := wait > 0 || h.Get("X-RateLimit-Remaining") == "0" ||
		strings.Contains(strings.ToLower(detail), "rate limit")
	switch {
	case status == http.StatusTooManyRequests:
		e.Kind = connector.ErrRateLimited
	case status == http.StatusForbidden && rateLimited:
		e.Kind = connector.ErrRateLimited
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		e.Kind = connector.ErrUnauthorized
	case status == http.StatusNotFound:
		e.Kind = connector.ErrNotFound
	case status == http.StatusConflict || status == http.StatusPreconditionFailed || scimType == "uniqueness":
		e.Kind = connector.ErrConflict
	case status == http.StatusRequestTimeout || status >= 500:
		e.Kind = connector.ErrUnavailable
	default:
		e.Kind = connector.ErrInvalid
	}
	if e.Kind != connector.ErrRateLimited && e.Kind != connector.ErrUnavailable {
		e.RetryAfter = 0
	}
	return e
}

// errorBody extracts the message and scimType from the error body shapes apps send.
func errorBody(body []byte) (detail, scimType string) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return "", ""
	}
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		s := string(body)
		if len(s) > 200 {
			s = s[:200] + "…"
		}
		return s, ""
	}
	for _, k := range []string{"detail", "message", "description", "error_description"} {
		if s, ok := m[k].(string); ok && s != "" {
			detail = s
			break
		}
	}
	// Slack v1: {"Errors":{"description":"…","code":409}}, sometimes a list of those.
	errs := m["Errors"]
	if l, ok := errs.([]any); ok && len(l) > 0 {
		errs = l[0]
	}
	if em, ok := errs.(map[string]any); ok && detail == "" {
		detail, _ = em["description"].(string)
		if code := str(em["code"]); code != "" && detail != "" {
			detail += " (code " + code + ")"
		}
	}
	// Google-style {"error":{"message":…}} and OAuth's {"error":"invalid_token"}.
	switch x := m["error"].(type) {
	case map[string]any:
		if detail == "" {
			detail, _ = x["message"].(string)
		}
	case string:
		if detail == "" {
			detail = x
		}
	}
	scimType, _ = m["scimType"].(string)
	return detail, scimType
}

// retryAfter reads how long the app asked to wait: Retry-After (seconds or an HTTP date), else
// an exhausted x-ratelimit-reset (epoch seconds).
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			if n > 0 {
				return time.Duration(n) * time.Second
			}
			return 0
		}
		if t, err := http.ParseTime(v); err == nil && t.After(now) {
			return t.Sub(now)
		}
		return 0
	}
	if h.Get("X-RateLimit-Remaining") == "0" {
		if n, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			if t := time.Unix(n, 0); t.After(now) {
				return t.Sub(now)
			}
		}
	}
	return 0
}
