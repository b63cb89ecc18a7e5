// Package scimtarget is a strict SCIM 2.0 service provider held in memory: a stand-in target
// app for the SCIM connector's tests, the provisioning engine's crash tests and the sandbox apps
// of `tenure demo`. It is built on github.com/elimity-com/scim, which validates bodies against
// the User (with the enterprise extension) and Group schemas; this package adds what a real
// provider enforces and the library leaves to its handlers: filters, paging, uniqueness (409 on
// userName and externalId, optionally emails; 409 on a group's displayName), group members that
// must be users, ETag/If-Match (412), a bearer token (401 with a SCIM error body), a token
// bucket (429 + Retry-After), and injected faults (the next N requests answered 429/500/503,
// added latency, requests that hang until the client gives up).
//
// PATCH accepts what clients in the wild send: capitalised operations ("Replace"), string
// booleans ("False") and dotted or URN keys in path-less values. String booleans need the
// library's process-wide schema.SetAllowStringValues(true), which New turns on.
//
// A Target is safe for concurrent use.
package scimtarget

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/elimity-com/scim"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
	"github.com/tenure-id/tenure/connectors/internal/fakehttp"
	"golang.org/x/time/rate"
)

// Options configure a target. The zero value is an open (no token), unlimited target paging
// 100 resources at a time without ETags.
type Options struct {
	// Token is the bearer token every request must carry; empty accepts any request.
	Token string
	// MaxResults caps a list page (the server's page size); 100 when zero.
	MaxResults int
	// ETag makes the target version resources (meta.version, ETag header), advertise
	// etag.supported and refuse a PUT, PATCH or DELETE whose If-Match is stale with 412.
	ETag bool
	// DeleteDeactivates makes DELETE /Users/{id} deactivate the user (active=false) and keep
	// it, as Slack does.
	DeleteDeactivates bool
	// UniqueEmail refuses a user whose email another user holds (409), as some apps do.
	UniqueEmail bool
	// Rate (requests per second) and Burst set a token bucket over all requests; zero Rate is
	// unlimited. Over the limit the target answers 429 with Retry-After.
	Rate  float64
	Burst int
	// RetryAfter is what an injected 429 advertises; 2 s when zero.
	RetryAfter time.Duration
	// Now is the clock (meta times, the token bucket); time.Now when nil.
	Now func() time.Time
}

// Request is one request the target received, for tests that count or inspect traffic. The
// Authorization header is never recorded.
type Request struct {
	Method, Path, Query, IfMatch string
	Status                       int
}

// Target is one in-memory SCIM service provider.
type Target struct {
	opts    Options
	server  scim.Server
	limiter *rate.Limiter
	users   *store
	groups  *store

	mu       sync.Mutex
	seq      int
	faults   []int // statuses to answer the next requests with
	wfaults  []int // statuses to answer the next writes (not GET) with
	hangs    int
	latency  time.Duration
	stale    int           // conditional writes still to find the resource changed concurrently
	release  chan struct{} // closed by Reset: hung and stalled requests go on
	requests []Request
}

var allowStrings sync.Once

// New returns an empty target.
func New(opts Options) *Target {
	allowStrings.Do(func() { schema.SetAllowStringValues(true) })
	if opts.MaxResults <= 0 {
		opts.MaxResults = 100
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	t := &Target{opts: opts, release: make(chan struct{})}
	if opts.Rate > 0 {
		burst := opts.Burst
		if burst < 1 {
			burst = 1
		}
		t.limiter = rate.NewLimiter(rate.Limit(opts.Rate), burst)
	}
	t.users = &store{t: t, kind: "User", schema: schema.CoreUserSchema(), ext: []schema.Schema{schema.ExtensionEnterpriseUser()}, records: map[string]*record{}}
	t.groups = &store{t: t, kind: "Group", schema: schema.CoreGroupSchema(), records: map[string]*record{}}
	srv, err := scim.NewServer(&scim.ServerArgs{
		ServiceProviderConfig: &scim.ServiceProviderConfig{MaxResults: opts.MaxResults, SupportFiltering: true, SupportPatch: true},
		ResourceTypes: []scim.ResourceType{
			{
				ID: optional.NewString("User"), Name: "User", Endpoint: "/Users",
				Schema:           t.users.schema,
				SchemaExtensions: []scim.SchemaExtension{{Schema: schema.ExtensionEnterpriseUser()}},
				Handler:          t.users,
			},
			{ID: optional.NewString("Group"), Name: "Group", Endpoint: "/Groups", Schema: t.groups.schema, Handler: t.groups},
		},
	})
	if err != nil {
		panic(fmt.Sprintf("scimtarget: %v", err)) // static arguments: cannot happen
	}
	t.server = srv
	return t
}

// Handler serves the SCIM API at its root: /Users, /Groups, /ServiceProviderConfig, /Schemas,
// /ResourceTypes (also under /v2). Mount it under a prefix with http.StripPrefix.
func (t *Target) Handler() http.Handler {
	return http.HandlerFunc(t.serve)
}

func (t *Target) serve(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		t.mu.Lock()
		t.requests = append(t.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
			IfMatch: r.Header.Get("If-Match"), Status: rec.status})
		t.mu.Unlock()
	}()
	w = rec

	t.mu.Lock()
	latency, hang, release := t.latency, t.hangs > 0, t.release
	if hang {
		t.hangs--
	}
	fault := 0
	if !hang && len(t.faults) > 0 {
		fault, t.faults = t.faults[0], t.faults[1:]
	}
	if !hang && fault == 0 && r.Method != http.MethodGet && len(t.wfaults) > 0 {
		fault, t.wfaults = t.wfaults[0], t.wfaults[1:]
	}
	t.mu.Unlock()
	if hang {
		latency = -1 // until the client gives up, or Reset
	}
	// Hold reads the body before waiting, so that a client giving up is noticed for writes
	// too and an abandoned request never takes effect.
	if !fakehttp.Hold(r, latency, release) {
		rec.status = 0 // answer nothing; the client gave up
		return
	}
	if fault != 0 {
		if fault == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", fakehttp.Seconds(t.opts.RetryAfter))
		}
		writeError(w, fault, "", fmt.Sprintf("injected fault: %d %s", fault, http.StatusText(fault)))
		return
	}
	if !t.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="scim"`)
		writeError(w, http.StatusUnauthorized, "", "Authorization failure. The authorization header is invalid or missing.")
		return
	}
	if t.limiter != nil {
		now := t.opts.Now()
		if !t.limiter.AllowN(now, 1) {
			res := t.limiter.ReserveN(now, 1)
			wait := res.DelayFrom(now)
			res.CancelAt(now)
			w.Header().Set("Retry-After", fakehttp.Seconds(wait))
			writeError(w, http.StatusTooManyRequests, "", "Too many requests.")
			return
		}
	}
	path := strings.TrimPrefix(r.URL.Path, "/v2")
	if path == "/ServiceProviderConfig" && r.Method == http.MethodGet {
		t.serviceProviderConfig(w)
		return
	}
	t.server.ServeHTTP(w, r)
}

func (t *Target) authorized(r *http.Request) bool {
	if t.opts.Token == "" {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(t.opts.Token)) == 1
}

// serviceProviderConfig is served here rather than by the library, which always says
// etag.supported false.
func (t *Target) serviceProviderConfig(w http.ResponseWriter) {
	body := map[string]any{
		"schemas":        []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
		"patch":          map[string]bool{"supported": true},
		"bulk":           map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":         map[string]any{"supported": true, "maxResults": t.opts.MaxResults},
		"changePassword": map[string]bool{"supported": false},
		"sort":           map[string]bool{"supported": false},
		"etag":           map[string]bool{"supported": t.opts.ETag},
		"authenticationSchemes": []map[string]any{{
			"type": "oauthbearertoken", "name": "OAuth Bearer Token", "primary": true,
			"description": "Authentication with a bearer token in the Authorization header.",
		}},
	}
	_ = json.NewEncoder(w).Encode(body)
}

// writeError answers with an RFC 7644 error body.
func writeError(w http.ResponseWriter, status int, scimType, detail string) {
	fakehttp.WriteJSON(w, status, "application/scim+json", fakehttp.SCIMError(status, scimType, detail))
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// FailNext answers the next n requests with status (429 carries Retry-After), before
// authentication and before touching any state.
func (t *Target) FailNext(status, n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for range n {
		t.faults = append(t.faults, status)
	}
}

// FailNextWrites answers the next n writes (POST, PUT, PATCH, DELETE) with status, as limits
// on content-creating requests do (GitHub's secondary limit, Slack's per-method tiers); reads
// go through.
func (t *Target) FailNextWrites(status, n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for range n {
		t.wfaults = append(t.wfaults, status)
	}
}

// RateLimitWrites makes the next n writes get 429 with Retry-After, which it returns.
func (t *Target) RateLimitWrites(n int) time.Duration {
	t.FailNextWrites(http.StatusTooManyRequests, n)
	d, _ := strconv.Atoi(fakehttp.Seconds(t.opts.RetryAfter))
	return time.Duration(d) * time.Second
}

// HangNext makes the next n requests answer nothing until the client gives up (or Reset).
func (t *Target) HangNext(n int) {
	t.mu.Lock()
	t.hangs += n
	t.mu.Unlock()
}

// SetLatency delays every request by d; a request abandoned meanwhile never takes effect.
func (t *Target) SetLatency(d time.Duration) {
	t.mu.Lock()
	t.latency = d
	t.mu.Unlock()
}

// ConcurrentEdit makes the next n conditional writes (PUT, PATCH or DELETE with If-Match)
// find that someone else changed the resource since the client read it: the version moves on
// and the write gets 412. Only meaningful with Options.ETag.
func (t *Target) ConcurrentEdit(n int) {
	t.mu.Lock()
	t.stale += n
	t.mu.Unlock()
}

// RateLimit implements connectortest.Faults: the next n requests get 429 with Retry-After.
func (t *Target) RateLimit(n int) time.Duration {
	t.FailNext(http.StatusTooManyRequests, n)
	d, _ := strconv.Atoi(fakehttp.Seconds(t.opts.RetryAfter))
	return time.Duration(d) * time.Second
}

// ServerError implements connectortest.Faults: the next n requests get 500.
func (t *Target) ServerError(n int) { t.FailNext(http.StatusInternalServerError, n) }

// Stall implements connectortest.Faults: every request takes at least d until Reset.
func (t *Target) Stall(d time.Duration) { t.SetLatency(d) }

// Reset clears every injected fault, latency and pending concurrent edit, and lets requests
// that hang or stall right now go on.
func (t *Target) Reset() {
	t.mu.Lock()
	t.faults, t.wfaults, t.hangs, t.latency, t.stale = nil, nil, 0, 0, 0
	close(t.release)
	t.release = make(chan struct{})
	t.mu.Unlock()
}

// Requests returns every request received so far, in order.
func (t *Target) Requests() []Request {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Request(nil), t.requests...)
}
