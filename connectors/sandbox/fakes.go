package sandbox

import (
	"net/http"
	"strings"

	"github.com/tenure-id/tenure/connectors/github/githubfake"
	"github.com/tenure-id/tenure/connectors/google"
	"github.com/tenure-id/tenure/connectors/google/googlefake"
	"github.com/tenure-id/tenure/connectors/hubspot/hubspotfake"
	"github.com/tenure-id/tenure/connectors/scim/scimtarget"
	"github.com/tenure-id/tenure/connectors/slack/slackfake"
	"github.com/tenure-id/tenure/connectors/zendesk/zendeskfake"
	"github.com/tenure-id/tenure/pkg/config"
)

// sampleOrg is the sample company's GitHub organization and enterprise slug.
const sampleOrg = "piedpiper"

func init() {
	scimApp := func(profile string) fake {
		return func(s Spec, c *credentials, _ string) (any, http.Handler, config.AppConfig, error) {
			t := scimtarget.New(scimtarget.Options{Token: c.secret, ETag: true})
			return t, t.Handler(), config.AppConfig{Options: map[string]string{"profile": profile}}, nil
		}
	}
	fakes["scim"] = scimApp("generic")
	fakes["zapier"] = scimApp("zapier")
	fakes["slack"] = newSlack
	fakes["github"] = newGitHub
	fakes["google"] = newGoogle
	fakes["zendesk"] = newZendesk
	fakes["hubspot"] = newHubSpot
}

func newSlack(_ Spec, c *credentials, _ string) (any, http.Handler, config.AppConfig, error) {
	f := slackfake.New(slackfake.Options{Token: c.secret})
	return f, f, config.AppConfig{BaseURL: "/scim/v2"}, nil
}

func newGitHub(s Spec, c *credentials, _ string) (any, http.Handler, config.AppConfig, error) {
	f := githubfake.New(githubfake.Options{Enterprise: sampleOrg, Orgs: []string{sampleOrg}, Token: c.secret})
	for _, team := range s.entitlementNames("team") {
		if err := f.CreateTeam(sampleOrg, team, team); err != nil {
			return nil, nil, config.AppConfig{}, err
		}
	}
	return f, f, config.AppConfig{Options: map[string]string{"enterprise": sampleOrg, "org": sampleOrg}}, nil
}

// newGoogle trusts a fresh service account for domain-wide delegation, as an admin would in
// the admin console; the connector reads the account's key file from the token variable.
func newGoogle(s Spec, c *credentials, domain string) (any, http.Handler, config.AppConfig, error) {
	f := googlefake.New(googlefake.Options{Domain: domain, TokenURL: c.url + "/token"})
	sa, err := googlefake.NewServiceAccount("tenure@sandbox.iam.gserviceaccount.com")
	if err != nil {
		return nil, nil, config.AppConfig{}, err
	}
	f.Delegate(sa.ClientEmail, &sa.Key.PublicKey, google.Scopes...)
	admin := "admin@" + domain
	f.AddAdmin(admin)
	groups := s.entitlementNames("group")
	for _, g := range groups {
		f.AddGroup(g+"@"+domain, g)
	}
	for _, path := range s.OrgUnits {
		// Google's tree starts below the company: "Pied Piper/Engineering/Web" is /Engineering/Web.
		_, rest, _ := strings.Cut(path, "/")
		for i := 0; rest != ""; {
			j := strings.IndexByte(rest[i:], '/')
			if j < 0 {
				f.AddOrgUnit(rest)
				break
			}
			f.AddOrgUnit(rest[:i+j])
			i += j + 1
		}
	}
	c.secret = string(sa.KeyFile(c.url + "/token"))
	return f, f, config.AppConfig{Options: map[string]string{"domain": domain, "admin_email": admin,
		"groups": strings.Join(groups, ",")}}, nil
}

func newZendesk(s Spec, c *credentials, domain string) (any, http.Handler, config.AppConfig, error) {
	email := "tenure@" + domain
	f := zendeskfake.New(zendeskfake.Options{Email: email, Token: c.secret})
	for _, g := range s.entitlementNames("group") {
		f.AddGroup(g)
	}
	return f, f, config.AppConfig{Options: map[string]string{"email": email, "domain": domain}}, nil
}

func newHubSpot(s Spec, c *credentials, domain string) (any, http.Handler, config.AppConfig, error) {
	f := hubspotfake.New(hubspotfake.Options{Token: c.secret, BaseURL: c.url, Roles: s.Roles, Teams: s.entitlementNames("team")})
	return f, f, config.AppConfig{Options: map[string]string{"domain": domain}}, nil
}
