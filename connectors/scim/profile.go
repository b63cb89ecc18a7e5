package scim

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tenure-id/tenure/pkg/connector"
)

// UpdateMode is how an update reaches the app.
type UpdateMode string

const (
	// UpdatePatch sends only the changed attributes (RFC 7644 §3.5.2).
	UpdatePatch UpdateMode = "patch"
	// UpdatePut reads the user and replaces it whole (§3.5.1), keeping attributes Tenure does
	// not manage.
	UpdatePut UpdateMode = "put"
)

// ETagMode says whether writes carry If-Match.
type ETagMode string

const (
	// ETagAuto asks /ServiceProviderConfig once (etag.supported).
	ETagAuto ETagMode = "auto"
	ETagOn   ETagMode = "on"
	ETagOff  ETagMode = "off"
)

// Profile captures one app's SCIM dialect, so app connectors (Slack, GitHub, Zapier, ...) reuse
// this client with their quirks rather than copy it. Start from Generic() and change fields.
type Profile struct {
	// Name appears in errors and logs ("generic", "zapier", "slack").
	Name string
	// UserPath and GroupPath are the resource endpoints under the base URL; an empty GroupPath
	// means the app has no SCIM groups (GitHub's org SCIM), so no memberships are managed.
	UserPath, GroupPath string
	// Update is patch or put.
	Update UpdateMode
	// Filters are the user attributes the app can filter on with eq, in the order Find tries
	// them: "externalId", "userName", "emails.value" (or another email path such as
	// `emails[type eq "work"].value`, or "email" as Slack documents it). A key the app cannot
	// filter on is found by listing.
	Filters []string
	// Mapping maps account fields to SCIM paths.
	Mapping Mapping
	// PageSize is the count asked for per list page.
	PageSize int
	// CreateGroups creates a missing group on the first add_member; otherwise adding to a
	// group the app does not hold is ErrNotFound.
	CreateGroups bool
	// ExternalIDIndex is for apps that cannot filter users on externalId (Slack): rather than
	// list every user before each create to adopt one the app already holds, the connector
	// keeps an index of externalId → id from one listing and its own creates (see adopt.go).
	ExternalIDIndex bool
	// GroupExternalID sends the group's displayName as its externalId on create: GitHub
	// refuses a group without one.
	GroupExternalID bool
	// MemberFilter says the app filters groups by member (members[value eq "id"]), so Find
	// reads only the user's groups instead of every group.
	MemberFilter bool
	// GroupKind is the entitlement kind groups answer to ("group" → "group:engineering" is the
	// SCIM group with displayName "engineering").
	GroupKind string
	// UserAgent is sent on every request (GitHub refuses requests without one).
	UserAgent string
	// ETag: auto, on or off.
	ETag ETagMode
	// MaxUserNameLen refuses longer user names before sending (Slack: 20); 0 is no limit.
	MaxUserNameLen int
	// DeleteDeactivates says DELETE /Users only deactivates (Slack): the user stays listed
	// inactive.
	DeleteDeactivates bool
	// Required are account fields a create must carry (GitHub: "email", "display_name",
	// "given_name", "family_name"); a create without one is ErrInvalid before any request.
	Required []string
	// Timeout bounds each request (the caller's context may bound it further).
	Timeout time.Duration
	// Traits are the app's documented limits (Rate, Burst, Concurrency) and CanDisable;
	// Fields and MembershipKinds are derived from Mapping and GroupPath.
	Traits connector.Traits
}

// Generic is the RFC 7643/7644 profile: PATCH updates, filters on externalId, userName and
// emails.value, the enterprise extension, groups created on demand, ETags when offered.
func Generic() Profile {
	return Profile{
		Name:         "generic",
		UserPath:     "/Users",
		GroupPath:    "/Groups",
		Update:       UpdatePatch,
		Filters:      []string{"externalId", "userName", "emails.value"},
		Mapping:      DefaultMapping(),
		PageSize:     100,
		CreateGroups: true,
		GroupKind:    "group",
		UserAgent:    "tenure-scim/1",
		ETag:         ETagAuto,
		Timeout:      30 * time.Second,
		Traits:       connector.Traits{CanDisable: true, Concurrency: 4},
	}
}

// Zapier is Zapier's SCIM 2.0 (https://zapier.com/scim/v2): users carry userName, active,
// externalId, name.givenName, name.familyName and the work email (emails[type eq "work"].value),
// nothing else; groups carry displayName and members. Zapier documents no enterprise
// extension, no ETags and no rate limit, so the profile sends none and keeps concurrency low.
// Which filters Zapier answers is unconfirmed: the profile filters on userName only (what every
// SCIM client sends) and finds an ExternalID by listing; options.filter can widen it.
func Zapier() Profile {
	p := Generic()
	p.Name = "zapier"
	p.Filters = []string{"userName"}
	p.Mapping = Mapping{
		"email":       `emails[type eq "work"].value`,
		"given_name":  "name.givenName",
		"family_name": "name.familyName",
	}
	p.Required = []string{"email", "given_name", "family_name"}
	p.ETag = ETagOff
	p.Traits.Concurrency = 2
	return p
}

// Profiles are the named profiles the "profile" option selects.
var Profiles = map[string]func() Profile{"generic": Generic, "zapier": Zapier}

// WithLimits overrides the documented rate, burst and concurrency with the positive ones given
// (a configured app's rate/burst/concurrency).
func (p Profile) WithLimits(rate float64, burst, concurrency int) Profile {
	p.Traits = p.Traits.WithLimits(rate, burst, concurrency)
	return p
}

// WithOptions applies an app's `options:` to p, naming the offending option in any error.
// See the package documentation for the options.
func (p Profile) WithOptions(opts map[string]string) (Profile, error) {
	p.Mapping = maps.Clone(p.Mapping)
	p.Filters = slices.Clone(p.Filters)
	for _, k := range slices.Sorted(maps.Keys(opts)) {
		v := strings.TrimSpace(opts[k])
		bad := func(want string) error { return fmt.Errorf("options.%s: %q is not %s", k, v, want) }
		switch {
		case k == "profile":
			// chosen before the other options apply (see Open)
		case k == "user_path" || k == "group_path":
			if v != "" && !strings.HasPrefix(v, "/") {
				return p, bad("a path starting with /")
			}
			if k == "user_path" {
				if v == "" {
					return p, bad("a path starting with /")
				}
				p.UserPath = v
			} else {
				p.GroupPath = v
			}
		case k == "update":
			if v != string(UpdatePatch) && v != string(UpdatePut) {
				return p, bad("put or patch")
			}
			p.Update = UpdateMode(v)
		case k == "filter":
			p.Filters = nil
			for _, f := range strings.Split(v, ",") {
				f = strings.TrimSpace(f)
				if f == "" {
					continue
				}
				if f != "externalId" && f != "userName" && !isEmailFilter(f) {
					return p, fmt.Errorf("options.filter: %q is not externalId, userName, email or an emails path", f)
				}
				p.Filters = append(p.Filters, f)
			}
		case k == "page_size" || k == "max_username_length":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || (k == "page_size" && n == 0) {
				return p, bad("a positive whole number")
			}
			if k == "page_size" {
				p.PageSize = n
			} else {
				p.MaxUserNameLen = n
			}
		case k == "create_groups" || k == "delete_deactivates" || k == "member_filter" || k == "externalid_index":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return p, bad("true or false")
			}
			switch k {
			case "create_groups":
				p.CreateGroups = b
			case "delete_deactivates":
				p.DeleteDeactivates = b
			case "externalid_index":
				p.ExternalIDIndex = b
			default:
				p.MemberFilter = b
			}
		case k == "group_kind":
			if !attrNameRE.MatchString(v) {
				return p, bad("an entitlement kind (lower-case letters, digits and _)")
			}
			p.GroupKind = v
		case k == "user_agent":
			if v == "" {
				return p, bad("a User-Agent")
			}
			p.UserAgent = v
		case k == "etag":
			if v != string(ETagAuto) && v != string(ETagOn) && v != string(ETagOff) {
				return p, bad("auto, on or off")
			}
			p.ETag = ETagMode(v)
		case k == "timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return p, bad("a positive duration such as 30s")
			}
			p.Timeout = d
		case strings.HasPrefix(k, "map."):
			p.Mapping[strings.TrimPrefix(k, "map.")] = v
		default:
			return p, fmt.Errorf("options.%s: unknown option (see the scim connector's documentation)", k)
		}
	}
	if _, err := compileMapping(p.Mapping); err != nil {
		return p, fmt.Errorf("options.%w", err)
	}
	return p, nil
}

func (p Profile) check() error {
	if p.UserPath == "" || !strings.HasPrefix(p.UserPath, "/") {
		return fmt.Errorf("profile %s: UserPath %q must start with /", p.Name, p.UserPath)
	}
	if p.Update != UpdatePatch && p.Update != UpdatePut {
		return fmt.Errorf("profile %s: Update %q is not put or patch", p.Name, p.Update)
	}
	if p.PageSize <= 0 {
		return fmt.Errorf("profile %s: PageSize must be positive", p.Name)
	}
	if p.GroupPath != "" && p.GroupKind == "" {
		return fmt.Errorf("profile %s: GroupKind is required with a GroupPath", p.Name)
	}
	for _, f := range p.Required {
		if !slices.Contains(fixedFields, f) && !strings.HasPrefix(f, "attributes.") {
			return fmt.Errorf("profile %s: Required names %q, not an account field", p.Name, f)
		}
	}
	return nil
}

// isEmailFilter says whether a Filters entry filters on the email: an emails path, or the bare
// "email" some apps (Slack) document.
func isEmailFilter(f string) bool { return f == "email" || strings.HasPrefix(f, "emails") }
