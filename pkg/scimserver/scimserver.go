// Package scimserver is Tenure's SCIM 2.0 service provider (RFC 7643, RFC 7644): another system
// (an HRIS, an upstream IdP) pushes and reads people over /Users, and reads groups over /Groups.
// github.com/elimity-com/scim parses requests and validates bodies against the User (with the
// enterprise extension) and Group schemas; this package maps people onto Users, answers filters
// and paging, and sends every write through the lifecycle engine, so a SCIM create is a hire
// and a DELETE a termination, with policy, auditing and provisioning following as for HR.
//
// Groups are read-only: they come from LDAP sync and Tenure's own group management.
package scimserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/elimity-com/scim"
	scimerr "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// Schema URNs.
const (
	UserSchema       = "urn:ietf:params:scim:schemas:core:2.0:User"
	EnterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	errorSchema      = "urn:ietf:params:scim:api:messages:2.0:Error"
)

// Directory is what the provider reads.
type Directory interface {
	GetPerson(ctx context.Context, id string) (identity.Person, error)
	LookupPerson(ctx context.Context, key string) (identity.Person, error)
	ListPeople(ctx context.Context, f directory.PersonFilter) ([]identity.Person, error)
	CountPeople(ctx context.Context, f directory.PersonFilter) (int64, error)
	ListOrgUnits(ctx context.Context) ([]identity.OrgUnit, error)
	GetGroup(ctx context.Context, id string) (identity.Group, error)
	ListGroups(ctx context.Context) ([]identity.Group, error)
	GroupMembers(ctx context.Context, groupID string) ([]identity.Person, error)
	UseSCIMToken(ctx context.Context, hash string) (directory.SCIMToken, error)
}

// Change is what a SCIM client wants a person to be, in HR's terms: the whole of what Tenure
// maps, not a difference.
type Change struct {
	EmployeeID     string
	Username       string
	FirstName      string
	LastName       string
	PreferredName  string
	WorkEmail      string
	EmploymentType identity.EmploymentType
	JobTitle       string
	CostCenter     string
	Organization   string
	Division       string
	Department     string
	Team           string
	// ManagerEmployeeID is the manager's employee ID; empty for none.
	ManagerEmployeeID string
	// StartDate ahead makes a hire a pre-hire, and moves a pre-hire's start; nil is none.
	// EndDate ends a contract; nil is none.
	StartDate, EndDate *time.Time
}

// sameChange reports whether a and b are the same; dates are compared as instants, since
// equal days may be held in different locations.
func sameChange(a, b Change) bool {
	if !sameDate(a.StartDate, b.StartDate) || !sameDate(a.EndDate, b.EndDate) {
		return false
	}
	a.StartDate, a.EndDate, b.StartDate, b.EndDate = nil, nil, nil, nil
	return a == b
}

// Lifecycle is how SCIM writes reach the directory: as HR events through the lifecycle engine,
// effective now (a start date ahead makes a hire a pre-hire, as an HR hire dated so would). Errors matching ErrRejected or ErrHeld are the client's to fix; others are
// the server's.
type Lifecycle interface {
	Hire(ctx context.Context, c Change) error
	// Change moves a current worker to c: a transfer, a manager change and an attribute
	// change, as far as each is needed.
	Change(ctx context.Context, c Change) error
	// Rehire brings back a terminated person as c.
	Rehire(ctx context.Context, c Change) error
	// Return ends a leave.
	Return(ctx context.Context, employeeID string) error
	// Terminate ends a current worker's employment now.
	Terminate(ctx context.Context, employeeID string) error
}

var (
	// ErrRejected marks a change the lifecycle engine refused (illegal transition, a value
	// someone else holds); the error says why.
	ErrRejected = errors.New("rejected by the lifecycle")
	// ErrHeld marks a change stopped by the mass-change breaker.
	ErrHeld = errors.New("held by the mass-change breaker")
)

// Config configures the provider.
type Config struct {
	Directory Directory
	Lifecycle Lifecycle
	// WithActor names the token's holder in audit records ("scim:NAME"); the caller passes
	// audit.WithActor. Nil leaves the context as is.
	WithActor func(ctx context.Context, actor string) context.Context
	// MaxResults caps a list page; 100 when zero.
	MaxResults int
	// Allow, when set, paces requests by token name: false answers 429 with Retry-After.
	Allow func(token string) (bool, time.Duration)
	// Clock tells whether a start date is ahead; it must be the lifecycle's. time.Now when nil.
	Clock  func() time.Time
	Logger *slog.Logger
}

// Provider serves the SCIM API.
type Provider struct {
	cfg    Config
	server scim.Server
}

// New returns the provider. Mount its Handler at the SCIM root (/scim/v2).
func New(cfg Config) (*Provider, error) {
	if cfg.Directory == nil || cfg.Lifecycle == nil {
		return nil, errors.New("scimserver: Directory and Lifecycle are required")
	}
	if cfg.MaxResults <= 0 {
		cfg.MaxResults = 100
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.WithActor == nil {
		cfg.WithActor = func(ctx context.Context, _ string) context.Context { return ctx }
	}
	p := &Provider{cfg: cfg}
	srv, err := scim.NewServer(&scim.ServerArgs{
		ServiceProviderConfig: &scim.ServiceProviderConfig{MaxResults: cfg.MaxResults, SupportFiltering: true, SupportPatch: true},
		ResourceTypes: []scim.ResourceType{
			{ID: optional.NewString("User"), Name: "User", Endpoint: "/Users", Description: optional.NewString("People in Tenure's directory"),
				Schema:           schema.CoreUserSchema(),
				SchemaExtensions: []scim.SchemaExtension{{Schema: schema.ExtensionEnterpriseUser()}, {Schema: tenureUserSchema()}},
				Handler:          &users{p: p}},
			{ID: optional.NewString("Group"), Name: "Group", Endpoint: "/Groups", Description: optional.NewString("Directory groups (read-only)"),
				Schema: schema.CoreGroupSchema(), Handler: &groups{p: p}},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("scimserver: %w", err)
	}
	p.server = srv
	return p, nil
}

// The RFC 7644 filter grammar has no "emails[type eq "work"].value eq X" (that is a PATCH
// path), but clients send it; it means the value path below.
var workEmailFilter = regexp.MustCompile(`(?i)emails\[type eq "work"\]\.value eq ("(?:[^"\\]|\\.)*")`)

// Handler serves the SCIM API at its root: /Users, /Groups, /ServiceProviderConfig, /Schemas
// and /ResourceTypes. Every request needs a live token.
func (p *Provider) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		tok, err := p.authenticate(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tenure-scim"`)
			writeError(w, err)
			return
		}
		if p.cfg.Allow != nil {
			if ok, wait := p.cfg.Allow(tok.Name); !ok {
				secs := max(1, int(math.Ceil(wait.Seconds())))
				w.Header().Set("Retry-After", strconv.Itoa(secs))
				writeError(w, scimError(http.StatusTooManyRequests, "", fmt.Sprintf("Token %s is over its request rate; retry after %d s.", tok.Name, secs)))
				return
			}
		}
		r = r.WithContext(p.cfg.WithActor(r.Context(), "scim:"+tok.Name))
		path := strings.TrimPrefix(r.URL.Path, "/v2")
		switch {
		case path == "/ServiceProviderConfig" && r.Method == http.MethodGet:
			p.serviceProviderConfig(w)
			return
		case (path == "/Groups" || strings.HasPrefix(path, "/Groups/")) && r.Method != http.MethodGet:
			writeError(w, groupsReadOnly())
			return
		case path == "/Users" && r.Method == http.MethodGet:
			if f := r.URL.Query().Get("filter"); workEmailFilter.MatchString(f) {
				q := r.URL.Query()
				q.Set("filter", workEmailFilter.ReplaceAllString(f, `emails[type eq "work" and value eq $1]`))
				r.URL.RawQuery = q.Encode()
			}
		}
		p.server.ServeHTTP(w, r)
	})
}

func (p *Provider) authenticate(r *http.Request) (directory.SCIMToken, error) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(raw) == "" {
		return directory.SCIMToken{}, scimError(http.StatusUnauthorized, "", "Authorization required: Bearer token (create one with `tenure scim token create`).")
	}
	tok, err := p.cfg.Directory.UseSCIMToken(r.Context(), directory.HashToken(strings.TrimSpace(raw)))
	switch {
	case errors.Is(err, identity.ErrNotFound):
		return tok, scimError(http.StatusUnauthorized, "", "The bearer token is unknown or revoked.")
	case err != nil:
		p.cfg.Logger.Error("scim: checking a token", "err", err)
		return tok, scimError(http.StatusInternalServerError, "", "Could not check the token; retry later.")
	}
	return tok, nil
}

// serviceProviderConfig is served here rather than by the library, which always says
// etag.supported false and names no authentication scheme.
func (p *Provider) serviceProviderConfig(w http.ResponseWriter) {
	body := map[string]any{
		"schemas":          []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
		"documentationUri": "https://github.com/tenure-id/tenure#scim-service-provider",
		"patch":            map[string]bool{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": p.cfg.MaxResults},
		"changePassword":   map[string]bool{"supported": false},
		"sort":             map[string]bool{"supported": false},
		"etag":             map[string]bool{"supported": true},
		"authenticationSchemes": []map[string]any{{
			"type": "oauthbearertoken", "name": "OAuth Bearer Token", "primary": true,
			"description": "A token from `tenure scim token create`, in the Authorization header.",
		}},
		"meta": map[string]string{"resourceType": "ServiceProviderConfig", "location": "ServiceProviderConfig"},
	}
	w.Header().Set("Content-Type", "application/scim+json")
	_ = json.NewEncoder(w).Encode(body)
}

func scimError(status int, scimType scimerr.ScimType, detail string) scimerr.ScimError {
	return scimerr.ScimError{Status: status, ScimType: scimType, Detail: detail}
}

func invalidValue(format string, args ...any) error {
	return scimError(http.StatusBadRequest, scimerr.ScimTypeInvalidValue, fmt.Sprintf(format, args...))
}

func mutability(format string, args ...any) error {
	return scimError(http.StatusBadRequest, scimerr.ScimTypeMutability, fmt.Sprintf(format, args...))
}

func uniqueness(format string, args ...any) error {
	return scimError(http.StatusConflict, scimerr.ScimTypeUniqueness, fmt.Sprintf(format, args...))
}

func groupsReadOnly() error {
	return scimError(http.StatusForbidden, scimerr.ScimTypeMutability,
		"Groups are read-only over SCIM: they come from LDAP sync and Tenure's own group management.")
}

// internal logs err and answers a generic 500: the library would otherwise put the internal
// error's text in the body.
func (p *Provider) internal(what string, err error) error {
	p.cfg.Logger.Error("scim: "+what, "err", err)
	return scimError(http.StatusInternalServerError, "", "Internal error while "+what+"; retry later.")
}

// lifecycleError turns the engine's answer into the client's error.
func (p *Provider) lifecycleError(err error) error {
	var se scimerr.ScimError
	switch {
	case errors.As(err, &se):
		return se
	case errors.Is(err, ErrHeld):
		return scimError(http.StatusConflict, "", err.Error())
	case errors.Is(err, ErrRejected), errors.Is(err, identity.ErrInvalid):
		return invalidValue("%v", err)
	case errors.Is(err, identity.ErrConflict):
		return uniqueness("%v", err)
	}
	return p.internal("applying the change", err)
}

func writeError(w http.ResponseWriter, err error) {
	var se scimerr.ScimError
	if !errors.As(err, &se) {
		se = scimError(http.StatusInternalServerError, "", "Internal error.")
	}
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(se.Status)
	_ = json.NewEncoder(w).Encode(se)
}
