package google

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tenure-id/tenure/pkg/connector"
)

// apiError is Google's error body.
type apiError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Errors  []struct {
			Domain  string `json:"domain"`
			Reason  string `json:"reason"`
			Message string `json:"message"`
		} `json:"errors"`
	} `json:"error"`
}

// do sends one API request: in (if not nil) as the JSON body, the answer decoded into out (if
// not nil). Every failure the API answers is a *connector.Error. A 401 on a cached token (revoked
// or expired early) fetches a new token and tries once more: the request had no effect.
func (c *Connector) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var payload []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("google: encoding %s %s: %w", method, path, err)
		}
		payload = b
	}
	u := c.base + "/admin/directory/v1" + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	for attempt := 0; ; attempt++ {
		access, err := c.tokens.token(ctx)
		if err != nil {
			return err
		}
		resp, b, err := c.send(ctx, method, u, access, payload)
		if err != nil {
			return fmt.Errorf("google: %s %s: %w", method, path, err)
		}
		if resp.StatusCode == http.StatusUnauthorized && attempt == 0 {
			c.tokens.forget(access)
			continue
		}
		if resp.StatusCode >= 300 {
			return responseError(resp, b)
		}
		if out != nil && len(b) > 0 {
			if err := json.Unmarshal(b, out); err != nil {
				return &connector.Error{Kind: connector.ErrUnavailable, Status: resp.StatusCode, Detail: "unreadable answer to " + method + " " + path}
			}
		}
		return nil
	}
}

// send makes one HTTP exchange and reads the answer.
func (c *Connector) send(ctx context.Context, method, u, access string, payload []byte) (*http.Response, []byte, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+access)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, redactURLError(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("reading the answer: %w", err)
	}
	return resp, b, nil
}

// rateReasons are the 403 reasons that mean "over quota", not "forbidden".
var rateReasons = map[string]bool{"userRateLimitExceeded": true, "rateLimitExceeded": true, "quotaExceeded": true,
	"dailyLimitExceeded": true}

func responseError(resp *http.Response, body []byte) error {
	var e apiError
	_ = json.Unmarshal(body, &e)
	reason := ""
	if len(e.Error.Errors) > 0 {
		reason = e.Error.Errors[0].Reason
	}
	detail := e.Error.Message
	if reason != "" {
		detail = reason + ": " + detail
	}
	if detail == "" {
		detail = http.StatusText(resp.StatusCode)
	}
	ce := &connector.Error{Status: resp.StatusCode, Detail: truncate(detail)}
	switch s := resp.StatusCode; {
	case s == http.StatusForbidden && rateReasons[reason], s == http.StatusTooManyRequests:
		ce.Kind = connector.ErrRateLimited
		// Google sends no Retry-After on quota errors; honour one should a proxy add it.
		if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
			ce.RetryAfter = time.Duration(secs) * time.Second
		}
	case s == http.StatusUnauthorized, s == http.StatusForbidden:
		ce.Kind = connector.ErrUnauthorized
	case s == http.StatusNotFound:
		ce.Kind = connector.ErrNotFound
	case s == http.StatusConflict, s == http.StatusPreconditionFailed:
		ce.Kind = connector.ErrConflict
	case s >= 500:
		ce.Kind = connector.ErrUnavailable
	default:
		ce.Kind = connector.ErrInvalid
	}
	return ce
}
