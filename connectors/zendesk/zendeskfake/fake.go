// Package zendeskfake is an in-memory Zendesk Support Users API: users with roles end-user,
// agent and admin (agents may carry a custom role such as Light Agent), suspension, soft
// deletion, search, groups and group memberships, behind Basic API-token authentication.
//
// It is as awkward as the real service where Tenure depends on it: a duplicate email is 422
// RecordInvalid "is already being used by another user" (not 409); only agents and admins may
// join groups; over the per-minute limit it answers 429 with X-Rate-Limit headers, and the
// Retry-After header and a JSON body are each configurable, because the real service sometimes
// omits the first and sends text/plain. It serves tests, benchmarks and `tenure demo`.
package zendeskfake

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tenure-id/tenure/connectors/internal/fakehttp"
)

// Options configure a fake.
type Options struct {
	// Email and Token are the API credentials the fake accepts (Basic "email/token:TOKEN").
	Email, Token string
	// RatePerMinute is the account's API limit (700 when zero, the Enterprise plan; -1: none).
	RatePerMinute int
	// OmitRetryAfter leaves Retry-After out of 429 answers; PlainText429 sends the 429 body as
	// text/plain instead of JSON. The real service does each now and then.
	OmitRetryAfter, PlainText429 bool
	// NoLightAgent leaves out the Light Agent custom role (plans below Suite Professional).
	NoLightAgent bool
	// Now is the clock (time.Now when nil); rate windows follow it.
	Now func() time.Time
	// BaseURL is the fake's address as clients reach it, for next-page links; empty: derived
	// from each request (right unless the fake is mounted under a path prefix).
	BaseURL string
	// Groups are group names that exist from the start (a sandbox's "Tier 1", "Tier 2").
	Groups []string
}

// Fake is the Users API. It is an http.Handler and safe for concurrent use.
type Fake struct {
	opts Options
	mux  *http.ServeMux

	mu          sync.Mutex
	nextID      int64
	users       map[int64]*User
	groups      map[int64]string // id → name
	memberships map[int64]membership
	roles       []CustomRole

	window   time.Time
	inWindow int
	faults   fakehttp.Faults[int] // HTTP statuses to answer next
	requests int
}

// User is a Zendesk user as the fake stores it.
type User struct {
	ID           int64   `json:"id"`
	Name         string  `json:"name"`
	Email        string  `json:"email"`
	Role         string  `json:"role"`
	CustomRoleID *int64  `json:"custom_role_id"`
	RoleType     *int    `json:"role_type"`
	ExternalID   *string `json:"external_id"`
	Suspended    bool    `json:"suspended"`
	Active       bool    `json:"active"`
	CreatedAt    string  `json:"created_at"`
	UpdatedAt    string  `json:"updated_at"`
	identities   []Identity
}

// Identity is one of a user's email addresses; the primary one is the user's email.
type Identity struct {
	ID       int64  `json:"id"`
	UserID   int64  `json:"user_id"`
	Type     string `json:"type"`
	Value    string `json:"value"`
	Primary  bool   `json:"primary"`
	Verified bool   `json:"verified"`
}

func (u *User) hasEmail(e string) bool {
	return slices.ContainsFunc(u.identities, func(i Identity) bool { return strings.EqualFold(i.Value, strings.TrimSpace(e)) })
}

// CustomRole is an agent role; role_type 1 is a light agent.
type CustomRole struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	RoleType int    `json:"role_type"`
}

type membership struct {
	ID      int64 `json:"id"`
	UserID  int64 `json:"user_id"`
	GroupID int64 `json:"group_id"`
}

// New returns an empty account (with the Light Agent role unless opts say otherwise).
func New(opts Options) *Fake {
	if opts.RatePerMinute == 0 {
		opts.RatePerMinute = 700
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	f := &Fake{opts: opts, nextID: 360000000000, users: map[int64]*User{}, groups: map[int64]string{}, memberships: map[int64]membership{}}
	if !opts.NoLightAgent {
		f.roles = append(f.roles, CustomRole{ID: f.id(), Name: "Light Agent", RoleType: 1})
	}
	f.roles = append(f.roles, CustomRole{ID: f.id(), Name: "Staff", RoleType: 0})
	f.mux = http.NewServeMux()
	for pattern, h := range map[string]http.HandlerFunc{
		"GET /api/v2/users":                                    f.listUsers,
		"POST /api/v2/users":                                   f.createUser,
		"POST /api/v2/users/create_or_update":                  f.createOrUpdate,
		"GET /api/v2/users/search":                             f.search,
		"GET /api/v2/users/{id}":                               f.showUser,
		"PUT /api/v2/users/{id}":                               f.updateUser,
		"DELETE /api/v2/users/{id}":                            f.deleteUser,
		"GET /api/v2/users/{id}/group_memberships":             f.userMemberships,
		"GET /api/v2/groups":                                   f.listGroups,
		"GET /api/v2/group_memberships":                        f.listMemberships,
		"POST /api/v2/group_memberships":                       f.createMembership,
		"DELETE /api/v2/group_memberships/{id}":                f.deleteMembership,
		"GET /api/v2/custom_roles":                             f.customRoles,
		"GET /api/v2/users/{id}/identities":                    f.listIdentities,
		"PUT /api/v2/users/{id}/identities/{iid}":              f.updateIdentity,
		"PUT /api/v2/users/{id}/identities/{iid}/make_primary": f.makePrimary,
		"DELETE /api/v2/users/{uid}/group_memberships/{id}":    f.deleteMembership,
	} {
		f.mux.Handle(pattern, f.guard(h))
	}
	f.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "InvalidEndpoint", "description": "Not found"})
	})
	for _, g := range opts.Groups {
		f.AddGroup(g)
	}
	return f
}

func (f *Fake) id() int64 {
	f.nextID++
	return f.nextID
}

// ServeHTTP implements http.Handler; paths work with and without the .json suffix.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.URL.Path = strings.TrimSuffix(r.URL.Path, ".json")
	f.mux.ServeHTTP(w, r)
}

func (f *Fake) guard(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests++
		f.mu.Unlock()
		if !f.faults.Hold(r) {
			return // the client gave up: nothing happens
		}
		if !f.authenticated(r) {
			w.Header().Set("WWW-Authenticate", `Basic realm="Web Password"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Couldn't authenticate you"})
			return
		}
		if f.fault(w) || f.limited(w) {
			return
		}
		h(w, r)
	})
}

func (f *Fake) authenticated(r *http.Request) bool {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Basic ")
	if !ok {
		return false
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return false
	}
	return string(b) == f.opts.Email+"/token:"+f.opts.Token
}

// limited applies the per-minute limit and sets the rate headers on every answer.
func (f *Fake) limited(w http.ResponseWriter) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.opts.RatePerMinute < 0 {
		return false
	}
	now := f.opts.Now()
	if w0 := now.Truncate(time.Minute); !w0.Equal(f.window) {
		f.window, f.inWindow = w0, 0
	}
	f.inWindow++
	w.Header().Set("X-Rate-Limit", strconv.Itoa(f.opts.RatePerMinute))
	w.Header().Set("X-Rate-Limit-Remaining", strconv.Itoa(max(0, f.opts.RatePerMinute-f.inWindow)))
	if f.inWindow <= f.opts.RatePerMinute {
		return false
	}
	f.writeTooMany(w, int(f.window.Add(time.Minute).Sub(now).Seconds())+1)
	return true
}

func (f *Fake) writeTooMany(w http.ResponseWriter, retryAfter int) {
	if !f.opts.OmitRetryAfter {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	if f.opts.PlainText429 {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte("Too Many Requests\n"))
		return
	}
	writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "APIRateLimitExceeded",
		"description": "Number of allowed API requests per minute exceeded"})
}

// Requests returns how many API requests the fake has received.
func (f *Fake) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// invalid answers Zendesk's 422 RecordInvalid with one detail.
func invalid(w http.ResponseWriter, field, code, description string) {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
		"error": "RecordInvalid", "description": "Record validation errors",
		"details": map[string]any{field: []map[string]string{{"description": description, "error": code}}},
	})
}

func notFound(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, map[string]string{"error": "RecordNotFound", "description": "Not found"})
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "Unprocessable Entity", "description": "Invalid JSON"})
		return false
	}
	return true
}
