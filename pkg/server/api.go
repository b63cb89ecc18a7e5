package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/tenure-id/tenure/pkg/admin"
	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/policy"
	"github.com/tenure-id/tenure/pkg/provision"
)

// AdminStore is what the admin API reads and writes.
type AdminStore interface {
	admin.PeopleReader
	admin.ExceptionStore
	admin.ReportStore
	admin.OpsReader
	RetryOps(ctx context.Context, r directory.OutboxRetry) (int, error)
	UseToken(ctx context.Context, kind directory.TokenKind, hash string) (directory.Token, error)
}

// AdminAPIConfig configures the admin REST API under /api/v1 (NewAdminAPI).
type AdminAPIConfig struct {
	Store AdminStore
	// Policy loads the access policy; it is called per request, as each CLI command loads it,
	// so an edited policy is seen without a restart.
	Policy func() (*policy.Set, error)
	// Planner builds the planner behind GET /api/v1/plan; nil when no app is configured for
	// provisioning.
	Planner func(ctx context.Context) (*provision.Planner, error)
	Clock   func() time.Time
	// Location is hr.time_zone: a report's as_of date ends at midnight there.
	Location *time.Location
	// Limits paces each token (NewTokenLimiter); nil for no limit.
	Limits *TokenLimiter
	Logger *slog.Logger
}

type adminAPI struct{ cfg AdminAPIConfig }

// NewAdminAPI returns the admin API's handler, to be mounted at /api/v1/ (Config.Admin). Every
// request needs a live API token: a read token may GET, an admin token may also write; each
// write is audited as "api:" and the token's name.
func NewAdminAPI(cfg AdminAPIConfig) (http.Handler, error) {
	if cfg.Store == nil || cfg.Policy == nil {
		return nil, errors.New("admin api: a store and a policy loader are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a := &adminAPI{cfg: cfg}
	mux := http.NewServeMux()
	for pattern, h := range map[string]http.HandlerFunc{
		"GET /api/v1/people":                    a.listPeople,
		"GET /api/v1/people/{key}":              a.showPerson,
		"GET /api/v1/people/{key}/access":       a.personAccess,
		"GET /api/v1/access/why":                a.accessWhy,
		"POST /api/v1/access/exceptions":        a.grantException,
		"DELETE /api/v1/access/exceptions/{id}": a.revokeException,
		"GET /api/v1/org/tree":                  a.orgTree,
		"GET /api/v1/plan":                      a.plan,
		"GET /api/v1/ops":                       a.listOps,
		"POST /api/v1/ops/retry":                a.retryOps,
		"GET /api/v1/reports/{name}":            a.report,
		"GET /api/v1/audit/verify":              a.auditVerify,
		"GET /api/v1/audit/export":              a.auditExport,
		"/api/v1/":                              a.notFound,
	} {
		mux.HandleFunc(pattern, h)
	}
	return a.authenticate(mux), nil
}

func (a *adminAPI) notFound(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path, "")
}

// authenticate admits live API tokens only (never SCIM tokens: the kind is part of the
// lookup), lets read tokens do safe requests only, and names the token as the actor.
func (a *adminAPI) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		raw = strings.TrimSpace(raw)
		if !ok || raw == "" {
			unauthorized(w, "Authorization required: Bearer token (create one with `tenure api token create`)")
			return
		}
		tok, err := a.cfg.Store.UseToken(r.Context(), directory.TokenAPI, directory.HashToken(raw))
		if errors.Is(err, errNotFound) {
			unauthorized(w, "the bearer token is unknown or revoked")
			return
		}
		if err != nil {
			a.internal(w, "reading API tokens", err)
			return
		}
		if ok, wait := a.cfg.Limits.Allow("api:" + tok.Name); !ok {
			w.Header().Set("Retry-After", retryAfter(wait))
			writeProblem(w, http.StatusTooManyRequests, "token "+tok.Name+" is over its request rate (http.token_rate); retry after "+retryAfter(wait)+" s", "")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && tok.Role != directory.RoleAdmin {
			writeProblem(w, http.StatusForbidden, "token "+tok.Name+" has role "+string(tok.Role)+": writes need an admin token", "")
			return
		}
		next.ServeHTTP(w, r.WithContext(audit.WithActor(r.Context(), "api:"+tok.Name)))
	})
}

func unauthorized(w http.ResponseWriter, detail string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="tenure-admin"`)
	writeProblem(w, http.StatusUnauthorized, detail, "")
}

// policySet loads the policy, answering 500 when it does not load.
func (a *adminAPI) policySet(w http.ResponseWriter) (*policy.Set, bool) {
	set, err := a.cfg.Policy()
	if err != nil {
		a.internal(w, "loading the access policy", err)
		return nil, false
	}
	return set, true
}
