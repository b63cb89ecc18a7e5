// Package hubspotfake is an in-memory HubSpot account behind the Users API
// (/settings/v3/users): users with a role (permission set), a primary team and secondary teams,
// looked up by id or by email (?idProperty=EMAIL), removed by DELETE (HubSpot users have no
// suspended state).
//
// It is as strict as the real service where Tenure depends on it: email and sendWelcomeEmail
// required on create, emails unique, role and team ids checked, email immutable after creation,
// a private-app bearer token, and the burst limit of 190 requests per 10 seconds answered with
// 429 and X-HubSpot-RateLimit-* headers. What could not be confirmed is configurable: whether a
// 429 carries Retry-After, the status of a duplicate email, and the error body. It serves tests,
// benchmarks and `tenure demo`.
package hubspotfake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tenure-id/tenure/connectors/internal/fakehttp"
)

// Options configure a fake.
type Options struct {
	// Token is the private-app access token the fake accepts.
	Token string
	// Burst is how many requests a 10-second window allows (190 when zero; -1: no limit).
	Burst int
	// RetryAfter adds Retry-After to 429 answers (the documentation does not promise it).
	RetryAfter bool
	// DuplicateStatus answers a create with a taken email (409 when zero; 400 is the other
	// plausible answer).
	DuplicateStatus int
	// ErrorBody builds error bodies; nil gives {"status":"error","message","correlationId",
	// "category"}.
	ErrorBody func(status int, category, message, correlationID string) any
	// Now is the clock (time.Now when nil); rate windows follow it.
	Now func() time.Time
	// BaseURL is the fake's address as clients reach it, for paging links; empty: derived
	// from each request (right unless the fake is mounted under a path prefix).
	BaseURL string
	// Roles (permission sets) and Teams exist from the start (a sandbox's "Marketer", ...).
	Roles, Teams []string
}

// Fake is the Users API. It is an http.Handler and safe for concurrent use.
type Fake struct {
	opts Options
	mux  *http.ServeMux

	mu     sync.Mutex
	nextID int
	users  map[string]*User // by id
	roles  []Role
	teams  []Team

	window   time.Time
	inWindow int
	daily    int
	faults   fakehttp.Faults[int] // HTTP statuses to answer next
}

// User is a HubSpot user as the fake stores it.
type User struct {
	ID               string   `json:"id"`
	Email            string   `json:"email"`
	FirstName        string   `json:"firstName,omitempty"`
	LastName         string   `json:"lastName,omitempty"`
	RoleID           string   `json:"roleId,omitempty"`
	RoleIDs          []string `json:"roleIds,omitempty"`
	PrimaryTeamID    string   `json:"primaryTeamId,omitempty"`
	SecondaryTeamIDs []string `json:"secondaryTeamIds,omitempty"`
	SuperAdmin       bool     `json:"superAdmin"`
	SendWelcomeEmail bool     `json:"sendWelcomeEmail,omitempty"`
}

// Role is a permission set.
type Role struct {
	ID                   string `json:"id"`
	Name                 string `json:"name"`
	RequiresBillingWrite bool   `json:"requiresBillingWrite"`
}

// Team is a team (its member lists are computed when listed).
type Team struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// DailyLimit is the private app's daily request allowance reported in headers.
const DailyLimit = 1_000_000

// New returns an empty account.
func New(opts Options) *Fake {
	if opts.Burst == 0 {
		opts.Burst = 190
	}
	if opts.DuplicateStatus == 0 {
		opts.DuplicateStatus = http.StatusConflict
	}
	if opts.ErrorBody == nil {
		opts.ErrorBody = func(_ int, category, message, id string) any {
			return map[string]string{"status": "error", "message": message, "correlationId": id, "category": category}
		}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	f := &Fake{opts: opts, nextID: 1000, users: map[string]*User{}}
	f.mux = http.NewServeMux()
	for pattern, h := range map[string]http.HandlerFunc{
		"GET /settings/v3/users/{$}":         f.listUsers,
		"POST /settings/v3/users/{$}":        f.createUser,
		"GET /settings/v3/users/roles":       f.listRoles,
		"GET /settings/v3/users/teams":       f.listTeams,
		"GET /settings/v3/users/{userId}":    f.getUser,
		"PUT /settings/v3/users/{userId}":    f.updateUser,
		"DELETE /settings/v3/users/{userId}": f.deleteUser,
	} {
		f.mux.Handle(pattern, f.guard(h))
	}
	f.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		f.writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "Not found")
	})
	for _, r := range opts.Roles {
		f.AddRole(r)
	}
	for _, t := range opts.Teams {
		f.AddTeam(t)
	}
	return f
}

// ServeHTTP implements http.Handler. The collection answers with and without its trailing
// slash, as HubSpot's does.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/settings/v3/users" {
		r.URL.Path += "/"
	}
	f.mux.ServeHTTP(w, r)
}

func (f *Fake) guard(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !f.faults.Hold(r) {
			return // the client gave up: nothing happens
		}
		if r.Header.Get("Authorization") != "Bearer "+f.opts.Token || f.opts.Token == "" {
			f.writeError(w, http.StatusUnauthorized, "INVALID_AUTHENTICATION",
				"Authentication credentials not found. This API supports OAuth 2.0 authentication.")
			return
		}
		if f.fault(w) || f.limited(w) {
			return
		}
		h(w, r)
	})
}

// limited counts the request in the 10-second window and sets the rate headers.
func (f *Fake) limited(w http.ResponseWriter) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.opts.Burst < 0 {
		return false
	}
	now := f.opts.Now()
	if now.Sub(f.window) >= 10*time.Second {
		f.window, f.inWindow = now, 0
	}
	f.inWindow++
	f.daily++
	h := w.Header()
	h.Set("X-HubSpot-RateLimit-Daily", strconv.Itoa(DailyLimit))
	h.Set("X-HubSpot-RateLimit-Daily-Remaining", strconv.Itoa(max(0, DailyLimit-f.daily)))
	h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")
	h.Set("X-HubSpot-RateLimit-Max", strconv.Itoa(f.opts.Burst))
	h.Set("X-HubSpot-RateLimit-Remaining", strconv.Itoa(max(0, f.opts.Burst-f.inWindow)))
	if f.inWindow <= f.opts.Burst {
		return false
	}
	f.writeTooMany(w, int(f.window.Add(10*time.Second).Sub(now)/time.Second)+1)
	return true
}

func (f *Fake) writeTooMany(w http.ResponseWriter, retryAfter int) {
	w.Header().Set("X-HubSpot-RateLimit-Remaining", "0")
	if f.opts.RetryAfter {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	writeJSON(w, http.StatusTooManyRequests, map[string]string{"status": "error",
		"message": "You have reached your ten_secondly_rolling limit.", "errorType": "RATE_LIMIT",
		"correlationId": correlationID(), "policyName": "TEN_SECONDLY_ROLLING"})
}

func (f *Fake) writeError(w http.ResponseWriter, status int, category, message string) {
	writeJSON(w, status, f.opts.ErrorBody(status, category, message, correlationID()))
}

func correlationID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	s := hex.EncodeToString(b)
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func lower(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
