// Package slackfake is an in-memory Slack SCIM API (v2, /scim/v2/) for tests and sandbox demos,
// as strict as Slack: bearer token, userName under 21 characters of Slack's alphabet and
// unique, a unique email, no @ in displayName, the enterprise extension's manager.managerId,
// filters on userName and email only, DELETE /Users/{id} deactivating rather than erasing,
// groups as user groups, and the per-minute org-wide rate limits answered with 429 and
// Retry-After. Errors use the SCIM v2 body, or Slack's v1 {"Errors":{…}} form when configured.
package slackfake

import (
	"crypto/subtle"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tenure-id/tenure/connectors/internal/fakehttp"
	"golang.org/x/time/rate"
)

// Options configure a fake Slack.
type Options struct {
	// Token is the bearer token every request must carry.
	Token string
	// Now is the clock the rate limits run on; time.Now when nil.
	Now func() time.Time
	// V1Errors answers errors in Slack's SCIM v1 form {"Errors":{"description","code"}}
	// instead of the RFC 7644 body (Slack's v2 body is not documented).
	V1Errors bool
	// Unlimited turns the rate limits off (sandbox demos with bulk imports).
	Unlimited bool
}

// Server is the fake. It is an http.Handler and safe for concurrent use.
type Server struct {
	opts Options

	mu      sync.Mutex
	seq     int
	users   map[string]*user
	groups  map[string]*group
	limits  map[string]*rate.Limiter
	faults  []fault
	stall   time.Duration
	counts  map[string]int // "METHOD /path-prefix" → requests
	limited int
}

type fault struct {
	status     int
	retryAfter time.Duration
}

// Per-minute rate and burst of each of Slack's documented SCIM limits.
var tiers = map[string][2]int{
	"read":         {1000, 1000},
	"single_get":   {300, 300},
	"write":        {600, 180},
	"user_create":  {180, 20},
	"user_update":  {180, 20},
	"user_delete":  {180, 20},
	"group_update": {180, 80},
}

// New returns an empty fake.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, users: map[string]*user{}, groups: map[string]*group{}, limits: map[string]*rate.Limiter{}, counts: map[string]int{}}
	for name, t := range tiers {
		s.limits[name] = rate.NewLimiter(rate.Limit(float64(t[0])/60), t[1])
	}
	return s
}

// Handler returns the fake as an http.Handler.
func (s *Server) Handler() http.Handler { return s }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		s.error(w, http.StatusUnauthorized, "", "invalid_authentication")
		return
	}
	s.mu.Lock()
	stall := s.stall
	s.mu.Unlock()
	if stall > 0 && !fakehttp.Hold(r, stall, nil) {
		return // abandoned by the client: nothing happens
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/scim/v2/")
	if !ok {
		s.error(w, http.StatusNotFound, "", "not_found")
		return
	}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts[r.Method+" "+parts[0]]++
	if len(s.faults) > 0 {
		f := s.faults[0]
		s.faults = s.faults[1:]
		if f.retryAfter > 0 {
			w.Header().Set("Retry-After", fakehttp.Seconds(f.retryAfter))
		}
		s.error(w, f.status, "", strings.ToLower(strings.ReplaceAll(http.StatusText(f.status), " ", "_")))
		return
	}
	if !s.admitLocked(w, r.Method, parts) {
		return
	}
	switch parts[0] {
	case "Users":
		s.usersLocked(w, r, parts[1:])
	case "Groups":
		s.groupsLocked(w, r, parts[1:])
	case "ServiceProviderConfig", "ResourceTypes", "Schemas":
		s.discovery(w, r, parts)
	default:
		s.error(w, http.StatusNotFound, "", "not_found")
	}
}

func (s *Server) authorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && s.opts.Token != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.Token)) == 1
}

// admitLocked takes one token from every limit the request counts against, or none: a refused
// request costs nothing.
func (s *Server) admitLocked(w http.ResponseWriter, method string, parts []string) bool {
	if s.opts.Unlimited {
		return true
	}
	var names []string
	one := len(parts) > 1
	switch {
	case method == http.MethodGet && one:
		names = []string{"single_get"}
	case method == http.MethodGet:
		names = []string{"read"}
	case parts[0] == "Users" && method == http.MethodPost:
		names = []string{"write", "user_create"}
	case parts[0] == "Users" && method == http.MethodDelete:
		names = []string{"write", "user_delete"}
	case parts[0] == "Users":
		names = []string{"write", "user_update"}
	case parts[0] == "Groups" && (method == http.MethodPatch || method == http.MethodPut):
		names = []string{"write", "group_update"}
	default:
		names = []string{"write"}
	}
	now := s.opts.Now()
	var taken []*rate.Reservation
	for _, n := range names {
		res := s.limits[n].ReserveN(now, 1)
		if d := res.DelayFrom(now); !res.OK() || d > 0 {
			res.CancelAt(now)
			for _, t := range taken {
				t.CancelAt(now)
			}
			s.limited++
			w.Header().Set("Retry-After", fakehttp.Seconds(d))
			s.error(w, http.StatusTooManyRequests, "", "ratelimited")
			return false
		}
		taken = append(taken, res)
	}
	return true
}

// error writes Slack's error body: RFC 7644 (status as a string) or v1 {"Errors":{…}}.
func (s *Server) error(w http.ResponseWriter, status int, scimType, detail string) {
	body := fakehttp.SCIMError(status, scimType, detail)
	if s.opts.V1Errors {
		body = map[string]any{"Errors": map[string]any{"description": detail, "code": status}}
	}
	fakehttp.WriteJSON(w, status, "application/json; charset=utf-8", body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	fakehttp.WriteJSON(w, status, "application/scim+json", v)
}

func (s *Server) discovery(w http.ResponseWriter, r *http.Request, parts []string) {
	if r.Method != http.MethodGet {
		s.error(w, http.StatusMethodNotAllowed, "", "method_not_allowed")
		return
	}
	switch {
	case parts[0] == "ServiceProviderConfig":
		writeJSON(w, http.StatusOK, map[string]any{
			"schemas":        []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
			"patch":          map[string]any{"supported": true},
			"bulk":           map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
			"filter":         map[string]any{"supported": true, "maxResults": 1000},
			"changePassword": map[string]any{"supported": false},
			"sort":           map[string]any{"supported": false},
			"etag":           map[string]any{"supported": false},
			"authenticationSchemes": []any{map[string]any{
				"type": "oauthbearertoken", "name": "OAuth Bearer Token", "primary": true,
				"description": "Authentication scheme using the OAuth Bearer Token Standard",
			}},
		})
	case parts[0] == "ResourceTypes":
		writeJSON(w, http.StatusOK, map[string]any{
			"schemas":      []string{fakehttp.ListSchema},
			"totalResults": 2,
			"Resources": []any{
				map[string]any{"id": "User", "name": "User", "endpoint": "/Users", "schema": userSchema,
					"schemaExtensions": []any{map[string]any{"schema": enterpriseSchema, "required": false}}},
				map[string]any{"id": "Group", "name": "Group", "endpoint": "/Groups", "schema": groupSchema},
			},
		})
	case len(parts) == 1:
		writeJSON(w, http.StatusOK, map[string]any{
			"schemas": []string{fakehttp.ListSchema}, "totalResults": 2,
			"Resources": []any{userSchemaDoc(), groupSchemaDoc()},
		})
	case parts[1] == "Users" || parts[1] == userSchema:
		writeJSON(w, http.StatusOK, userSchemaDoc())
	case parts[1] == "Groups" || parts[1] == groupSchema:
		writeJSON(w, http.StatusOK, groupSchemaDoc())
	default:
		s.error(w, http.StatusNotFound, "", "not_found")
	}
}

func attr(name, typ string, required bool, uniqueness string) map[string]any {
	return map[string]any{"name": name, "type": typ, "multiValued": false, "required": required,
		"caseExact": false, "mutability": "readWrite", "returned": "default", "uniqueness": uniqueness}
}

func userSchemaDoc() map[string]any {
	emails := attr("emails", "complex", true, "server")
	emails["multiValued"] = true
	return map[string]any{"id": userSchema, "name": "User", "description": "Slack user (userName under 21 characters)",
		"attributes": []any{attr("userName", "string", true, "server"), attr("displayName", "string", false, "none"),
			attr("externalId", "string", false, "none"), attr("active", "boolean", false, "none"),
			attr("title", "string", false, "none"), emails}}
}

func groupSchemaDoc() map[string]any {
	members := attr("members", "complex", false, "none")
	members["multiValued"] = true
	return map[string]any{"id": groupSchema, "name": "Group", "description": "Slack user group",
		"attributes": []any{attr("displayName", "string", true, "server"), members}}
}
