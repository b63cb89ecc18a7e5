package githubfake

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

const (
	userSchema  = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group"
)

// Roles are the enterprise roles a managed user may hold.
var Roles = []string{"user", "guest_collaborator", "enterprise_owner", "billing_manager"}

type email struct {
	Value   string `json:"value"`
	Type    string `json:"type"`
	Primary bool   `json:"primary"`
}

// user is a SCIM identity: an enterprise managed user, or an org SCIM identity linked to a
// personal account once its invitation is accepted.
type user struct {
	id, externalID, userName, displayName string
	givenName, familyName                 string
	hasName                               bool
	emails                                []email
	roles                                 []string
	active                                bool
	login                                 string // the GitHub account's login; "" until linked
	seq                                   int
	created, modified                     time.Time
}

// wire is a SCIM user as clients send it; pointers tell a missing field from an empty one.
type wire struct {
	Schemas     []string `json:"schemas"`
	ExternalID  *string  `json:"externalId"`
	Active      *bool    `json:"active"`
	UserName    *string  `json:"userName"`
	DisplayName *string  `json:"displayName"`
	Name        *struct {
		GivenName  *string `json:"givenName"`
		FamilyName *string `json:"familyName"`
	} `json:"name"`
	Emails []struct {
		Value   *string `json:"value"`
		Type    *string `json:"type"`
		Primary *bool   `json:"primary"`
	} `json:"emails"`
	Roles []struct {
		Value *string `json:"value"`
	} `json:"roles"`
}

// decodeUser checks a full user (create, PUT, or a patched resource) the way GitHub does and
// returns it. orgMode applies the organization SCIM rules instead of the enterprise ones.
func decodeUser(doc map[string]any, orgMode bool) (user, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return user{}, err
	}
	var in wire
	if err := json.Unmarshal(b, &in); err != nil {
		return user{}, fmt.Errorf("invalid user: %w", err)
	}
	var u user
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	if !slices.Contains(in.Schemas, userSchema) {
		return u, fmt.Errorf("schemas must contain %s", userSchema)
	}
	u.externalID, u.userName, u.displayName = str(in.ExternalID), str(in.UserName), str(in.DisplayName)
	if u.userName == "" {
		return u, fmt.Errorf("userName is required")
	}
	if !orgMode {
		switch {
		case u.externalID == "":
			return u, fmt.Errorf("externalId is required")
		case in.Active == nil:
			return u, fmt.Errorf("active is required")
		case u.displayName == "":
			return u, fmt.Errorf("displayName is required")
		}
	}
	u.active = in.Active == nil || *in.Active
	if in.Name != nil {
		u.hasName = true
		u.givenName, u.familyName = str(in.Name.GivenName), str(in.Name.FamilyName)
		if u.givenName == "" || u.familyName == "" {
			return u, fmt.Errorf("name requires givenName and familyName")
		}
	} else if orgMode {
		return u, fmt.Errorf("name.givenName and name.familyName are required")
	}
	if len(in.Emails) == 0 {
		return u, fmt.Errorf("emails is required")
	}
	for i, e := range in.Emails {
		if str(e.Value) == "" || (!orgMode && (e.Type == nil || e.Primary == nil)) {
			return u, fmt.Errorf("emails[%d] requires value, type and primary", i)
		}
		ty := str(e.Type)
		u.emails = append(u.emails, email{Value: *e.Value, Type: ty, Primary: e.Primary != nil && *e.Primary})
	}
	for i, r := range in.Roles {
		v := strings.ToLower(strings.ReplaceAll(str(r.Value), " ", "_"))
		if !slices.Contains(Roles, v) {
			return u, fmt.Errorf("roles[%d].value %q is not one of %s", i, str(r.Value), strings.Join(Roles, ", "))
		}
		u.roles = append(u.roles, v)
	}
	return u, nil
}

func (u *user) doc(location string) map[string]any {
	emails := make([]any, 0, len(u.emails))
	for _, e := range u.emails {
		emails = append(emails, map[string]any{"value": e.Value, "type": e.Type, "primary": e.Primary})
	}
	roles := make([]any, 0, len(u.roles))
	for _, r := range u.roles {
		roles = append(roles, map[string]any{"value": r, "primary": false})
	}
	d := map[string]any{
		"schemas":     []any{userSchema},
		"id":          u.id,
		"externalId":  u.externalID,
		"active":      u.active,
		"userName":    u.userName,
		"displayName": u.displayName,
		"emails":      emails,
		"roles":       roles,
		"meta": map[string]any{
			"resourceType": "User",
			"created":      u.created.UTC().Format(time.RFC3339),
			"lastModified": u.modified.UTC().Format(time.RFC3339),
			"location":     location,
		},
	}
	if u.hasName {
		d["name"] = map[string]any{
			"givenName":  u.givenName,
			"familyName": u.familyName,
			"formatted":  strings.TrimSpace(u.givenName + " " + u.familyName),
		}
	}
	return d
}

var nonLogin = regexp.MustCompile(`[^a-z0-9-]+`)

// ManagedLogin is the login GitHub gives a managed user: the userName (without an email's
// domain) lower-cased, every run of other characters turned into one dash, then an underscore
// and the enterprise shortcode.
func ManagedLogin(userName, shortcode string) string {
	base := strings.ToLower(userName)
	if i := strings.IndexByte(base, '@'); i >= 0 {
		base = base[:i]
	}
	base = strings.Trim(nonLogin.ReplaceAllString(base, "-"), "-")
	return base + "_" + shortcode
}

// obfuscated is the login a suspended or wiped account shows instead of its own.
func obfuscated(id string) string {
	h := sha256.Sum256([]byte(id))
	return "ghost-" + hex.EncodeToString(h[:4])
}

// group is an enterprise SCIM group; members are SCIM user ids.
type group struct {
	id, externalID, displayName string
	members                     []string
	externalGroupID             int
	created, modified           time.Time
}

func (g *group) doc(s *Server, location string) map[string]any {
	members := make([]any, 0, len(g.members))
	for _, id := range g.members {
		m := map[string]any{"value": id}
		if u, ok := s.users[id]; ok {
			m["display"] = u.displayName
		}
		members = append(members, m)
	}
	return map[string]any{
		"schemas":     []any{groupSchema},
		"id":          g.id,
		"externalId":  g.externalID,
		"displayName": g.displayName,
		"members":     members,
		"meta": map[string]any{
			"resourceType": "Group",
			"created":      g.created.UTC().Format(time.RFC3339),
			"lastModified": g.modified.UTC().Format(time.RFC3339),
			"location":     location,
		},
	}
}

func decodeGroup(doc map[string]any) (group, error) {
	var in struct {
		Schemas     []string `json:"schemas"`
		ExternalID  string   `json:"externalId"`
		DisplayName string   `json:"displayName"`
		Members     []struct {
			Value string `json:"value"`
		} `json:"members"`
	}
	b, _ := json.Marshal(doc)
	if err := json.Unmarshal(b, &in); err != nil {
		return group{}, fmt.Errorf("invalid group: %w", err)
	}
	switch {
	case !slices.Contains(in.Schemas, groupSchema):
		return group{}, fmt.Errorf("schemas must contain %s", groupSchema)
	case in.DisplayName == "":
		return group{}, fmt.Errorf("displayName is required")
	case in.ExternalID == "":
		return group{}, fmt.Errorf("externalId is required")
	}
	g := group{externalID: in.ExternalID, displayName: in.DisplayName}
	for _, m := range in.Members {
		if !slices.Contains(g.members, m.Value) {
			g.members = append(g.members, m.Value)
		}
	}
	return g, nil
}
