package google

import (
	"crypto/rand"
	"encoding/base64"
	"slices"
	"strings"

	"github.com/tenure-id/tenure/pkg/connector"
)

// tenureIDType is the customType of the externalIds entry holding the Tenure person id.
const tenureIDType = "tenure"

type name struct {
	GivenName  string `json:"givenName"`
	FamilyName string `json:"familyName"`
	FullName   string `json:"fullName,omitempty"`
}

type externalID struct {
	Value      string `json:"value"`
	Type       string `json:"type"`
	CustomType string `json:"customType,omitempty"`
}

type organization struct {
	Title       string `json:"title,omitempty"`
	Department  string `json:"department,omitempty"`
	Primary     bool   `json:"primary,omitempty"`
	Type        string `json:"type,omitempty"`
	Description string `json:"description,omitempty"`
}

// user is a Directory user resource as read.
type user struct {
	ID            string         `json:"id"`
	PrimaryEmail  string         `json:"primaryEmail"`
	Name          name           `json:"name"`
	Suspended     bool           `json:"suspended"`
	IsAdmin       bool           `json:"isAdmin"`
	OrgUnitPath   string         `json:"orgUnitPath"`
	ExternalIDs   []externalID   `json:"externalIds"`
	Organizations []organization `json:"organizations"`
}

// userWrite is the body of an insert or patch; nil fields are left as they are.
type userWrite struct {
	PrimaryEmail              string          `json:"primaryEmail,omitempty"`
	Name                      *name           `json:"name,omitempty"`
	Password                  string          `json:"password,omitempty"`
	ChangePasswordAtNextLogin *bool           `json:"changePasswordAtNextLogin,omitempty"`
	Suspended                 *bool           `json:"suspended,omitempty"`
	OrgUnitPath               *string         `json:"orgUnitPath,omitempty"`
	ExternalIDs               *[]externalID   `json:"externalIds,omitempty"`
	Organizations             *[]organization `json:"organizations,omitempty"`
}

func (u user) tenureID() string {
	for _, e := range u.ExternalIDs {
		if e.Type == "custom" && e.CustomType == tenureIDType {
			return e.Value
		}
	}
	return ""
}

func (u user) primaryOrg() organization {
	for _, o := range u.Organizations {
		if o.Primary {
			return o
		}
	}
	if len(u.Organizations) > 0 {
		return u.Organizations[0]
	}
	return organization{}
}

// account is u in the app-neutral form.
func (u user) account() connector.Account {
	local, _, _ := strings.Cut(u.PrimaryEmail, "@")
	a := connector.Account{
		ID: u.ID, ExternalID: u.tenureID(), UserName: strings.ToLower(local), Email: u.PrimaryEmail,
		GivenName: u.Name.GivenName, FamilyName: u.Name.FamilyName, DisplayName: u.Name.FullName,
		Active: !u.Suspended, Role: "user",
	}
	if u.IsAdmin {
		a.Role = "admin"
	}
	attrs := map[string]string{}
	if ou := strings.Trim(u.OrgUnitPath, "/"); ou != "" {
		attrs["org_unit_path"] = ou
	}
	o := u.primaryOrg()
	if o.Title != "" {
		attrs["title"] = o.Title
	}
	if o.Department != "" {
		attrs["department"] = o.Department
	}
	for _, e := range u.ExternalIDs {
		if e.Type == "organization" && e.Value != "" {
			attrs["employee_id"] = e.Value
		}
	}
	if len(attrs) > 0 {
		a.Attributes = attrs
	}
	return a
}

// primaryEmail is the address an account gets: its user name in its email's domain.
func (c *Connector) primaryEmail(a connector.Account) (string, error) {
	if a.UserName == "" {
		return "", &connector.Error{Kind: connector.ErrInvalid, Detail: "user_name is required (it names the Google account)"}
	}
	domain := c.domain
	if _, d, ok := strings.Cut(a.Email, "@"); ok && d != "" {
		domain = strings.ToLower(d)
	}
	return strings.ToLower(a.UserName) + "@" + domain, nil
}

// orgUnitPath is the unit the account belongs in, or nil when its attributes say nothing.
func orgUnitPath(a connector.Account) *string {
	if ou, ok := a.Attributes["org_unit_path"]; ok {
		p := "/" + strings.Trim(ou, "/")
		return &p
	}
	if org, ok := a.Attributes["org_path"]; ok {
		p := "/"
		if _, rest, ok := strings.Cut(strings.Trim(org, "/"), "/"); ok {
			p += rest
		}
		return &p
	}
	return nil
}

// write is the body that makes an existing user (have; zero for a create) hold account a's
// fields; suspension is left to enable and disable. Ids and organizations that Tenure does not
// manage are kept.
func (c *Connector) write(a connector.Account, have user) (userWrite, error) {
	email, err := c.primaryEmail(a)
	if err != nil {
		return userWrite{}, err
	}
	w := userWrite{PrimaryEmail: email, Name: &name{GivenName: a.GivenName, FamilyName: a.FamilyName},
		OrgUnitPath: orgUnitPath(a)}

	ids := slices.DeleteFunc(slices.Clone(have.ExternalIDs), func(e externalID) bool {
		return e.Type == "custom" && e.CustomType == tenureIDType
	})
	if a.ExternalID != "" {
		ids = append(ids, externalID{Value: a.ExternalID, Type: "custom", CustomType: tenureIDType})
	}
	if emp, ok := a.Attributes["employee_id"]; ok {
		ids = slices.DeleteFunc(ids, func(e externalID) bool { return e.Type == "organization" })
		if emp != "" {
			ids = append(ids, externalID{Value: emp, Type: "organization"})
		}
	}
	w.ExternalIDs = &ids

	title, hasTitle := a.Attributes["title"]
	dept, hasDept := a.Attributes["department"]
	if hasTitle || hasDept {
		orgs := slices.Clone(have.Organizations)
		i := slices.IndexFunc(orgs, func(o organization) bool { return o.Primary })
		if i < 0 {
			orgs = append(orgs, organization{Primary: true})
			i = len(orgs) - 1
		}
		if hasTitle {
			orgs[i].Title = title
		}
		if hasDept {
			orgs[i].Department = dept
		}
		w.Organizations = &orgs
	}
	return w, nil
}

// newPassword is the random password Google requires on insert. People sign in through SSO;
// nobody learns it, and it is never logged or kept.
func newPassword() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
