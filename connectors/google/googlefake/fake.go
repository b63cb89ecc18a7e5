// Package googlefake is an in-memory Google Workspace Admin SDK Directory API: users, groups and
// group members, org units, and the OAuth 2.0 token endpoint that service accounts with
// domain-wide delegation use (JWT bearer assertions, checked against the key's public half).
//
// It is as strict and as awkward as the real service where Tenure depends on it: primaryEmail
// required, unique and in one of the fake's domains; names required and at most 60 characters;
// a password on insert; orgUnitPath must exist; 409 duplicate on an existing email; quota
// exhaustion answered with 403 userRateLimitExceeded (not 429) in Google's error body; deleted
// users vanish from lists and can be undeleted by id. It serves tests, benchmarks and
// `tenure demo` as a sandbox app.
package googlefake

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tenure-id/tenure/connectors/internal/fakehttp"
)

// Options configure a fake.
type Options struct {
	// Domain is the primary domain (piedpiper.example when empty); Domains adds secondary ones.
	Domain  string
	Domains []string
	// CustomerID is the customer's id ("C0fake" when empty); "my_customer" always works too.
	CustomerID string
	// QuotaPerMinute is how many API requests a minute succeed before the fake answers 403
	// userRateLimitExceeded (2,400 when zero, like the documented default; -1 for none).
	QuotaPerMinute int
	// DuplicateMemberOK makes adding an existing group member answer 200 with the member
	// instead of 409 duplicate: which one the real service does is unconfirmed.
	DuplicateMemberOK bool
	// RateLimitReason is the reason of over-quota answers: userRateLimitExceeded (default) or
	// quotaExceeded.
	RateLimitReason string
	// Now is the clock (time.Now when nil): token expiry and quota windows follow it.
	Now func() time.Time
	// TokenURL is the token endpoint's address as clients reach it, which assertions must name
	// as their audience; empty: derived from each request (right unless the fake is mounted
	// under a path prefix, as in the sandbox).
	TokenURL string
	// Groups (addresses), OrgUnits (paths) and Admins (addresses a service account may
	// impersonate) seed a sandbox account.
	Groups, OrgUnits, Admins []string
}

// Fake is the Directory API. It is an http.Handler and safe for concurrent use.
type Fake struct {
	opts Options
	mux  *http.ServeMux

	mu       sync.Mutex
	nextID   int
	users    map[string]*User // by id
	deleted  map[string]*User // by id, restorable with undelete
	groups   map[string]*Group
	orgUnits map[string]bool
	keys     map[string]trustedKey // client email → key
	tokens   map[string]token      // access token → grant
	admins   map[string]bool

	window   time.Time
	inWindow int
	faults   fakehttp.Faults[fault]
	requests map[string]int // "METHOD route" → count
}

// User is a Directory user as the fake stores it.
type User struct {
	ID                        string       `json:"id"`
	PrimaryEmail              string       `json:"primaryEmail"`
	Name                      Name         `json:"name"`
	Suspended                 bool         `json:"suspended"`
	IsAdmin                   bool         `json:"isAdmin"`
	OrgUnitPath               string       `json:"orgUnitPath"`
	ExternalIDs               []ExternalID `json:"externalIds,omitempty"`
	Organizations             []Org        `json:"organizations,omitempty"`
	ChangePasswordAtNextLogin bool         `json:"changePasswordAtNextLogin"`
	CreationTime              string       `json:"creationTime"`
	password                  string
}

// Name is a user's name; Google derives fullName.
type Name struct {
	GivenName  string `json:"givenName"`
	FamilyName string `json:"familyName"`
	FullName   string `json:"fullName,omitempty"`
}

// ExternalID is one of a user's external ids ("organization" for an employee number, "custom"
// with a customType for anything else).
type ExternalID struct {
	Value      string `json:"value"`
	Type       string `json:"type"`
	CustomType string `json:"customType,omitempty"`
}

// Org is one of a user's organizations (title and department live here).
type Org struct {
	Title      string `json:"title,omitempty"`
	Department string `json:"department,omitempty"`
	Primary    bool   `json:"primary,omitempty"`
}

// Group is a Google group with its members (lower-cased email → role).
type Group struct {
	ID      string
	Email   string
	Name    string
	Members map[string]string
}

// New returns a fake with the root org unit and no users or groups.
func New(opts Options) *Fake {
	if opts.Domain == "" {
		opts.Domain = "piedpiper.example"
	}
	if opts.CustomerID == "" {
		opts.CustomerID = "C0fake"
	}
	if opts.QuotaPerMinute == 0 {
		opts.QuotaPerMinute = 2400
	}
	if opts.RateLimitReason == "" {
		opts.RateLimitReason = "userRateLimitExceeded"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	f := &Fake{
		opts: opts, users: map[string]*User{}, deleted: map[string]*User{}, groups: map[string]*Group{},
		orgUnits: map[string]bool{"/": true}, keys: map[string]trustedKey{}, tokens: map[string]token{},
		admins: map[string]bool{}, requests: map[string]int{},
	}
	f.routes()
	for _, g := range opts.Groups {
		local, _, _ := strings.Cut(g, "@")
		f.AddGroup(g, local)
	}
	for _, ou := range opts.OrgUnits {
		f.AddOrgUnit(ou)
	}
	for _, a := range opts.Admins {
		f.AddAdmin(a)
	}
	return f
}

func (f *Fake) routes() {
	f.mux = http.NewServeMux()
	f.mux.HandleFunc("POST /token", f.token)
	api := func(pattern string, h func(http.ResponseWriter, *http.Request)) {
		f.mux.HandleFunc(pattern, f.guard(pattern, h))
	}
	const v1 = "/admin/directory/v1"
	api("GET "+v1+"/users", f.listUsers)
	api("POST "+v1+"/users", f.insertUser)
	api("GET "+v1+"/users/{userKey}", f.getUser)
	api("PUT "+v1+"/users/{userKey}", f.updateUser)
	api("PATCH "+v1+"/users/{userKey}", f.updateUser)
	api("DELETE "+v1+"/users/{userKey}", f.deleteUser)
	api("POST "+v1+"/users/{userKey}/undelete", f.undeleteUser)
	api("POST "+v1+"/users/{userKey}/makeAdmin", f.makeAdmin)
	api("GET "+v1+"/groups", f.listGroups)
	api("GET "+v1+"/groups/{groupKey}/members", f.listMembers)
	api("POST "+v1+"/groups/{groupKey}/members", f.insertMember)
	api("DELETE "+v1+"/groups/{groupKey}/members/{memberKey}", f.deleteMember)
	f.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "global", "notFound", "Not Found")
	})
}

// ServeHTTP implements http.Handler.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) { f.mux.ServeHTTP(w, r) }

// guard runs what every API request goes through before its handler: latency, injected
// faults, the bearer token and the quota.
func (f *Fake) guard(route string, h func(http.ResponseWriter, *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests[route]++
		f.mu.Unlock()
		if !f.faults.Hold(r) {
			return // the client gave up: nothing happens
		}
		switch f.authorize(r) {
		case http.StatusForbidden:
			writeError(w, http.StatusForbidden, "global", "insufficientPermissions", "Request had insufficient authentication scopes.")
			return
		case http.StatusNotAcceptable:
			writeError(w, http.StatusForbidden, "global", "forbidden", "Not Authorized to access this resource/api")
			return
		case http.StatusUnauthorized:
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]any{
				"code": 401, "status": "UNAUTHENTICATED",
				"message": "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
				"errors": []map[string]string{{"domain": "global", "reason": "authError", "message": "Invalid Credentials",
					"location": "Authorization", "locationType": "header"}},
			}})
			return
		}
		if f.injected(w) || f.overQuota(w) {
			return
		}
		h(w, r)
	}
}

// overQuota counts the request against the per-minute quota.
func (f *Fake) overQuota(w http.ResponseWriter) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.opts.QuotaPerMinute < 0 {
		return false
	}
	if now := f.opts.Now().Truncate(time.Minute); !now.Equal(f.window) {
		f.window, f.inWindow = now, 0
	}
	f.inWindow++
	if f.inWindow <= f.opts.QuotaPerMinute {
		return false
	}
	f.writeRateLimited(w)
	return true
}

func (f *Fake) writeRateLimited(w http.ResponseWriter) {
	msg := "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user'."
	writeError(w, http.StatusForbidden, "usageLimits", f.opts.RateLimitReason, msg)
}

// Requests returns how many API requests reached route ("GET /admin/directory/v1/users").
func (f *Fake) Requests(route string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[route]
}

// writeError answers in Google's error body.
func writeError(w http.ResponseWriter, status int, domain, reason, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"code": status, "message": message,
		"errors": []map[string]string{{"domain": domain, "reason": reason, "message": message}},
	}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads a JSON body strictly enough to catch malformed requests.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "global", "parseError", "Parse Error")
		return false
	}
	return true
}

func lower(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
