// Package githubfake is an in-memory GitHub for tests and sandbox demos. It serves Enterprise
// Managed Users SCIM (/scim/v2/enterprises/{enterprise}/Users|Groups), organization SCIM
// (/scim/v2/organizations/{org}/Users) and the REST endpoints for org membership, team
// membership and team ↔ external group links, and it is as strict as GitHub: bearer token and
// User-Agent required, required SCIM fields, 409 on userName/externalId, one filter per list,
// SCIM errors with an integer status, REST errors {"message","documentation_url"}, the hourly
// rate limit with x-ratelimit-* headers (403 or 429 with remaining 0 when spent) and the
// secondary limit on content-creating requests answered with retry-after.
package githubfake

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tenure-id/tenure/connectors/internal/fakehttp"
)

// Options configure a fake GitHub.
type Options struct {
	// Enterprise is the EMU enterprise slug; its SCIM API is /scim/v2/enterprises/{Enterprise}/.
	// Empty: no enterprise, only organization SCIM (SAML SSO orgs with personal accounts).
	Enterprise string
	// Shortcode is appended to managed users' logins ("mona-cat_acme"); Enterprise when empty.
	Shortcode string
	// Orgs are the organizations; in an enterprise they belong to it.
	Orgs []string
	// Token is the bearer token every request must carry.
	Token string
	// Now is the clock (rate-limit windows, timestamps); time.Now when nil.
	Now func() time.Time
	// RateLimit is the primary limit per hour (5,000 when zero, none when negative).
	RateLimit int
	// RateLimitStatus is what an exhausted limit answers: 403 (default) or 429; GitHub documents
	// both.
	RateLimitStatus int
	// SecondaryPerMinute bounds content-creating requests (POST, PUT, PATCH, DELETE) per minute:
	// 80 when zero, none when negative.
	SecondaryPerMinute int
}

// Server is the fake. It is an http.Handler and safe for concurrent use.
type Server struct {
	opts Options

	mu       sync.Mutex
	seq      int
	users    map[string]*user  // enterprise SCIM users by SCIM id
	groups   map[string]*group // enterprise SCIM groups by SCIM id
	orgUsers map[string]map[string]*user
	orgs     map[string]*org
	wiped    []string // logins of accounts whose SCIM identity was deleted
	invites  []Invitation

	window    time.Time // start of the current hourly window
	used      int
	minute    time.Time
	creations int

	faults  []fault
	latency time.Duration
	reqs    int
}

type fault struct {
	status     int
	retryAfter time.Duration
	primary    bool // the hourly limit spent: remaining 0 and a reset time
	secondary  bool // a secondary limit: retry-after when retryAfter is set
}

// New returns a fake with no users and the given organizations, each without teams.
func New(opts Options) *Server {
	if opts.Shortcode == "" {
		opts.Shortcode = opts.Enterprise
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RateLimit == 0 {
		opts.RateLimit = 5000
	}
	if opts.RateLimitStatus == 0 {
		opts.RateLimitStatus = http.StatusForbidden
	}
	if opts.SecondaryPerMinute == 0 {
		opts.SecondaryPerMinute = 80
	}
	s := &Server{
		opts:     opts,
		users:    map[string]*user{},
		groups:   map[string]*group{},
		orgUsers: map[string]map[string]*user{},
		orgs:     map[string]*org{},
	}
	for _, o := range opts.Orgs {
		s.orgs[o] = newOrg(o)
		s.orgUsers[o] = map[string]*user{}
	}
	return s
}

const docsURL = "https://docs.github.com/rest"

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("User-Agent") == "" {
		// GitHub's front door refuses these before authentication, in plain text.
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintln(w, "Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required).")
		return
	}
	if !s.authorized(r) {
		restError(w, http.StatusUnauthorized, "Bad credentials")
		return
	}
	s.mu.Lock()
	lat := s.latency
	s.mu.Unlock()
	if lat > 0 && !fakehttp.Hold(r, lat, nil) {
		return // abandoned by the client: nothing happens
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs++
	if !s.admitLocked(w, r) {
		return
	}
	s.routeLocked(w, r)
}

func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	var tok string
	switch {
	case strings.HasPrefix(h, "Bearer "):
		tok = strings.TrimPrefix(h, "Bearer ")
	case strings.HasPrefix(h, "token "):
		tok = strings.TrimPrefix(h, "token ")
	default:
		return false
	}
	return s.opts.Token != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.Token)) == 1
}

// admitLocked counts the request against the primary and secondary limits and injected faults,
// answering for it when one of them refuses.
func (s *Server) admitLocked(w http.ResponseWriter, r *http.Request) bool {
	now := s.opts.Now()
	if s.window.IsZero() || !now.Before(s.window.Add(time.Hour)) {
		s.window, s.used = now.Truncate(time.Second), 0
	}
	if limit := s.opts.RateLimit; limit > 0 {
		if s.used >= limit {
			s.rateHeadersLocked(w)
			restError(w, s.opts.RateLimitStatus, "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID.")
			return false
		}
		s.used++
		s.rateHeadersLocked(w)
	}
	if len(s.faults) > 0 {
		f := s.faults[0]
		s.faults = s.faults[1:]
		if f.primary {
			h := w.Header()
			h.Set("X-Ratelimit-Remaining", "0")
			h.Set("X-Ratelimit-Used", h.Get("X-Ratelimit-Limit"))
			h.Set("X-Ratelimit-Reset", strconv.FormatInt(now.Add(primaryFaultWait).Unix(), 10))
			restError(w, f.status, "API rate limit exceeded for user ID 1.")
			return false
		}
		if f.secondary {
			if f.retryAfter > 0 {
				w.Header().Set("Retry-After", fakehttp.Seconds(f.retryAfter))
			}
			restError(w, f.status, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.")
			return false
		}
		restError(w, f.status, http.StatusText(f.status))
		return false
	}
	if r.Method != http.MethodGet && s.opts.SecondaryPerMinute > 0 {
		if s.minute.IsZero() || !now.Before(s.minute.Add(time.Minute)) {
			s.minute, s.creations = now, 0
		}
		if s.creations >= s.opts.SecondaryPerMinute {
			wait := s.minute.Add(time.Minute).Sub(now)
			w.Header().Set("Retry-After", fakehttp.Seconds(wait))
			restError(w, http.StatusForbidden, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.")
			return false
		}
		s.creations++
	}
	return true
}

func (s *Server) rateHeadersLocked(w http.ResponseWriter) {
	h := w.Header()
	remaining := s.opts.RateLimit - s.used
	h.Set("X-Ratelimit-Limit", strconv.Itoa(s.opts.RateLimit))
	h.Set("X-Ratelimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Ratelimit-Used", strconv.Itoa(s.used))
	h.Set("X-Ratelimit-Reset", strconv.FormatInt(s.window.Add(time.Hour).Unix(), 10))
	h.Set("X-Ratelimit-Resource", "core")
}

func (s *Server) routeLocked(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(parts) >= 5 && parts[0] == "scim" && parts[1] == "v2" && parts[2] == "enterprises":
		if s.opts.Enterprise == "" || parts[3] != s.opts.Enterprise {
			scimError(w, http.StatusNotFound, "", "Not Found")
			return
		}
		s.enterpriseSCIMLocked(w, r, parts[4:])
	case len(parts) >= 5 && parts[0] == "scim" && parts[1] == "v2" && parts[2] == "organizations":
		if _, ok := s.orgs[parts[3]]; !ok || parts[4] != "Users" {
			scimError(w, http.StatusNotFound, "", "Not Found")
			return
		}
		s.orgSCIMLocked(w, r, parts[3], parts[5:])
	case len(parts) >= 2 && parts[0] == "orgs":
		o, ok := s.orgs[parts[1]]
		if !ok {
			restError(w, http.StatusNotFound, "Not Found")
			return
		}
		s.restLocked(w, r, o, parts[2:])
	default:
		restError(w, http.StatusNotFound, "Not Found")
	}
}

// restError writes GitHub's REST error body.
func restError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"message": msg, "documentation_url": docsURL, "status": strconv.Itoa(status)})
}

// restInvalid writes a 422 with GitHub's errors[] detail.
func restInvalid(w http.ResponseWriter, resource, field, code, msg string) {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
		"message":           msg,
		"documentation_url": docsURL,
		"errors":            []map[string]string{{"resource": resource, "field": field, "code": code}},
	})
}

// scimError writes GitHub's SCIM error: the RFC shape, but with an integer status and GitHub's
// message and documentation_url beside detail.
func scimError(w http.ResponseWriter, status int, scimType, detail string) {
	body := fakehttp.SCIMError(status, scimType, detail)
	body["status"] = status // an integer at GitHub
	body["message"] = detail
	body["documentation_url"] = "https://docs.github.com/enterprise-cloud@latest/rest/enterprise-admin/scim"
	fakehttp.WriteJSON(w, status, "application/scim+json", body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	fakehttp.WriteJSON(w, status, "application/json; charset=utf-8", v)
}

func writeSCIM(w http.ResponseWriter, status int, v any) {
	fakehttp.WriteJSON(w, status, "application/scim+json", v)
}

func (s *Server) nextIDLocked() string {
	s.seq++
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", s.seq*2654435761%(1<<32), s.seq%65536, s.seq%4096, s.seq%4096, s.seq)
}

// Handler returns the fake as an http.Handler.
func (s *Server) Handler() http.Handler { return s }
