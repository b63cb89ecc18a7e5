package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/connectors/google/googlefake"
	"github.com/tenure-id/tenure/connectors/hubspot/hubspotfake"
	"github.com/tenure-id/tenure/connectors/zendesk/zendeskfake"
)

// saasApps are the sample company's Google Workspace, Zendesk and HubSpot as fakes on
// 127.0.0.1, configured the way an operator would; every other app of the catalogue is off.
type saasApps struct {
	vars    map[string]string
	google  *googlefake.Fake
	zendesk *zendeskfake.Fake
	hubspot *hubspotfake.Fake
}

// newSaaSApps starts the fakes; google may set the Google fake's quota and clock.
func newSaaSApps(t *testing.T, google googlefake.Options) *saasApps {
	t.Helper()
	dir := t.TempDir()
	google.Domain, google.Admins = "piedpiper.test", []string{"admin@piedpiper.test"}
	google.Groups = []string{"everyone@piedpiper.test", "engineering@piedpiper.test", "marketing@piedpiper.test",
		"sales@piedpiper.test", "support@piedpiper.test", "managers@piedpiper.test", "staff@piedpiper.test"}
	s := &saasApps{
		google:  googlefake.New(google),
		zendesk: zendeskfake.New(zendeskfake.Options{Email: "ops@piedpiper.test", Token: "zd-e2e-token", Groups: []string{"Tier 1", "Tier 2"}}),
		hubspot: hubspotfake.New(hubspotfake.Options{Token: "pat-e2e-token", Roles: []string{"Viewer", "Marketer", "Admin"}}),
	}
	urls := map[string]string{}
	for name, h := range map[string]interface {
		ServeHTTP(w http.ResponseWriter, r *http.Request)
	}{"google": s.google, "zendesk": s.zendesk, "hubspot": s.hubspot} {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		urls[name] = srv.URL
	}
	sa, err := googlefake.NewServiceAccount("tenure@piedpiper-tenure.iam.gserviceaccount.com")
	if err != nil {
		t.Fatal(err)
	}
	s.google.Delegate(sa.ClientEmail, &sa.Key.PublicKey, googlefake.ScopeUser, googlefake.ScopeGroupMember)
	key := filepath.Join(dir, "google-sa.json")
	writeFile(t, key, string(sa.KeyFile(urls["google"]+"/token")))

	var off strings.Builder
	for _, app := range []string{"slack", "github", "zapier", "salesforce", "pagerduty", "aws", "gusto", "envoy", "expenses"} {
		fmt.Fprintf(&off, "    %s: {disabled: true}\n", app)
	}
	cfg := filepath.Join(dir, "tenure.yaml")
	writeFile(t, cfg, fmt.Sprintf(`hr:
  email_domain: piedpiper.test
  termination_time: "17:00"
provisioning:
  apps:
    google-workspace:
      base_url: %s
      token_file: %s
      options: {domain: piedpiper.test, admin_email: admin@piedpiper.test,
        groups: "everyone,engineering,marketing,sales,support,managers,staff"}
    zendesk:
      base_url: %s
      token_env: ZENDESK_TOKEN
      options: {email: ops@piedpiper.test}
    hubspot:
      base_url: %s
      token_env: HUBSPOT_TOKEN
      options: {domain: piedpiper.test}
%s`, urls["google"], key, urls["zendesk"], urls["hubspot"], off.String()))
	s.vars = map[string]string{"TENURE_DB": "sqlite://" + filepath.Join(dir, "t.db"), "TENURE_CONFIG": cfg,
		"TENURE_POLICIES": shippedPolicies, "TENURE_ACTOR": "monica", "ZENDESK_TOKEN": "zd-e2e-token", "HUBSPOT_TOKEN": "pat-e2e-token"}
	if r := runAt(t, hrNow, s.vars, "init"); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	return s
}

// applyAndSettle applies at now and checks that a fresh plan then has nothing left to do: what
// the connectors read back is exactly what they were asked to write.
func (s *saasApps) applyAndSettle(t *testing.T, now time.Time) {
	t.Helper()
	r := runAt(t, now, s.vars, "apply")
	if r.code != 0 {
		t.Fatalf("apply: %+v", r)
	}
	r = runAt(t, now, s.vars, "plan", "-o", "json")
	var plan struct {
		Apps []struct {
			App        string            `json:"app"`
			Operations []json.RawMessage `json:"operations"`
			Error      string            `json:"error"`
		} `json:"apps"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &plan); err != nil {
		t.Fatalf("plan -o json: %v\n%+v", err, r)
	}
	for _, a := range plan.Apps {
		if a.Error != "" {
			t.Errorf("plan of %s: %s", a.App, a.Error)
		}
		for _, op := range a.Operations {
			t.Errorf("after apply, plan still has in %s: %s", a.App, op)
		}
	}
}

func (s *saasApps) googleUser(t *testing.T, email string) googlefake.User {
	t.Helper()
	u, ok := s.google.User(email)
	if !ok {
		t.Fatalf("google has no %s; it has %d users", email, len(s.google.Users()))
	}
	return u
}

func (s *saasApps) zendeskUser(email string) (zendeskfake.User, bool) {
	for _, u := range s.zendesk.Users() {
		if u.Email == email {
			return u, true
		}
	}
	return zendeskfake.User{}, false
}

func (s *saasApps) hubspotUser(email string) (hubspotfake.User, bool) {
	for _, u := range s.hubspot.Users() {
		if u.Email == email {
			return u, true
		}
	}
	return hubspotfake.User{}, false
}

// TestSampleCompanyJoinerMoverLeaver runs the sample company through the engine into Google
// Workspace, Zendesk and HubSpot fakes and checks each app holds what the policies say.
func TestSampleCompanyJoinerMoverLeaver(t *testing.T) {
	s := newSaaSApps(t, googlefake.Options{})
	if r := runAt(t, hrNow, s.vars, "hr", "import", sample+"piedpiper.csv"); r.code != 0 {
		t.Fatalf("import: %+v", r)
	}
	people := peopleJSON(t, s.vars)
	email := func(emp string) string { return people[emp]["username"].(string) + "@piedpiper.test" }

	// Joiners.
	s.applyAndSettle(t, hrNow)
	gilfoyle := s.googleUser(t, email("PP003"))
	if gilfoyle.Suspended || gilfoyle.IsAdmin || len(gilfoyle.Organizations) == 0 || gilfoyle.Organizations[0].Title != "VP Engineering" {
		t.Errorf("gilfoyle in google: %+v", gilfoyle)
	}
	for group, want := range map[string]bool{"everyone": true, "engineering": true, "managers": true, "staff": true, "marketing": false} {
		if got := slices.Contains(s.google.Members(group+"@piedpiper.test"), email("PP003")); got != want {
			t.Errorf("gilfoyle in google group %s: %v, want %v", group, got, want)
		}
	}
	if u, ok := s.zendeskUser(email("PP034")); !ok || u.Role != "agent" || u.RoleType != nil {
		t.Errorf("a tier-1 support agent in zendesk: %+v (found %v), want a full agent", u, ok)
	} else if !slices.Contains(s.zendesk.GroupMembers("Tier 1"), u.ID) {
		t.Errorf("the tier-1 agent is not in Tier 1: %v", s.zendesk.GroupMembers("Tier 1"))
	}
	if u, ok := s.zendeskUser(email("PP004")); !ok || u.RoleType == nil || *u.RoleType != 1 {
		t.Errorf("an engineer in zendesk: %+v (found %v), want a light agent", u, ok)
	}
	if _, ok := s.hubspotUser(email("PP019")); !ok {
		t.Errorf("a marketer has no hubspot user; hubspot holds %d", len(s.hubspot.Users()))
	}
	if _, ok := s.hubspotUser(email("PP004")); ok {
		t.Error("an engineer got a hubspot user")
	}

	// Mover: an engineer joins Marketing.
	day2 := hrNow.Add(24 * time.Hour)
	if r := runAt(t, day2, s.vars, "hr", "event", "transfer", "--employee-id", "PP011", "--organization", "Pied Piper",
		"--division", "Marketing", "--department", "Growth", "--team", "", "--job-title", "Growth Engineer"); r.code != 0 {
		t.Fatalf("transfer: %+v", r)
	}
	s.applyAndSettle(t, day2)
	ed := email("PP011")
	if slices.Contains(s.google.Members("engineering@piedpiper.test"), ed) || !slices.Contains(s.google.Members("marketing@piedpiper.test"), ed) {
		t.Errorf("after the move: engineering %v, marketing %v", s.google.Members("engineering@piedpiper.test"), s.google.Members("marketing@piedpiper.test"))
	}
	if u := s.googleUser(t, ed); u.Organizations[0].Title != "Growth Engineer" {
		t.Errorf("title after the move: %+v", u.Organizations)
	}
	if u, ok := s.hubspotUser(ed); !ok {
		t.Error("the mover into Marketing has no hubspot user")
	} else if u.RoleID == "" {
		t.Errorf("the mover's hubspot user has no role: %+v", u)
	}

	// Leaver: suspended where the app can suspend, removed from HubSpot, which cannot.
	if r := runAt(t, day2, s.vars, "hr", "event", "terminate", "--employee-id", "PP011"); r.code != 0 {
		t.Fatalf("terminate: %+v", r)
	}
	s.applyAndSettle(t, day2.Add(time.Hour))
	if u := s.googleUser(t, ed); !u.Suspended {
		t.Errorf("the leaver's google user is not suspended: %+v", u)
	}
	if u, ok := s.zendeskUser(ed); !ok || !u.Suspended {
		t.Errorf("the leaver's zendesk user: %+v (found %v), want suspended", u, ok)
	}
	if _, ok := s.hubspotUser(ed); ok {
		t.Error("the leaver still has a hubspot user")
	}

	// After the grace period the suspended accounts are deleted: Google keeps the user
	// restorable for a while, Zendesk soft-deletes.
	googleID, zendeskUser := s.googleUser(t, ed).ID, func() zendeskfake.User { u, _ := s.zendeskUser(ed); return u }()
	s.applyAndSettle(t, day2.AddDate(0, 0, 31))
	if !s.google.Deleted(googleID) {
		t.Error("the leaver's google user is not deleted after the grace period")
	}
	if u, ok := s.zendesk.User(zendeskUser.ID); !ok || u.Active {
		t.Errorf("the leaver's zendesk user after the grace period: %+v (found %v), want soft-deleted", u, ok)
	}
	if t.Failed() {
		os.Stdout.WriteString(runAt(t, day2, s.vars, "plan").stdout)
	}
}

// TestQuotaStormDelaysOnlyThatApp exhausts Google's quota in the middle of the joiners' apply:
// Zendesk and HubSpot finish regardless, Google's operations wait (none fails for good, none
// is doubled), and once the quota is back they complete.
func TestQuotaStormDelaysOnlyThatApp(t *testing.T) {
	frozen := time.Now() // Google's quota window never moves on by itself
	s := newSaaSApps(t, googlefake.Options{QuotaPerMinute: 20, Now: func() time.Time { return frozen }})
	if r := runAt(t, hrNow, s.vars, "hr", "import", sample+"piedpiper.csv"); r.code != 0 {
		t.Fatalf("import: %+v", r)
	}
	// --wait bounds how long apply waits on an app that does not progress.
	r := runAt(t, hrNow, s.vars, "apply", "--wait", "5s")
	rows := map[string][]string{}
	for _, line := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(line); len(f) >= 5 {
			rows[f[0]] = f[1:5] // DONE FAILED DEAD WAITING
		}
	}
	if r.code != 1 || !slices.Equal(rows["zendesk"][1:], []string{"0", "0", "0"}) || !slices.Equal(rows["hubspot"][1:], []string{"0", "0", "0"}) ||
		rows["google-workspace"][1] != "0" || rows["google-workspace"][2] != "0" || rows["google-workspace"][3] == "0" {
		t.Fatalf("apply during the storm: want zendesk and hubspot done, google waiting: %+v", r)
	}
	if n := len(s.zendesk.Users()); n == 0 {
		t.Fatal("zendesk got nobody during google's storm")
	}
	s.google.SetQuota(-1)
	if r := runAt(t, hrNow, s.vars, "ops", "retry", "--app", "google-workspace"); r.code != 0 {
		t.Fatalf("ops retry: %+v", r)
	}
	s.applyAndSettle(t, hrNow.Add(time.Hour))
	seen := map[string]bool{}
	for _, u := range s.google.Users() {
		id := ""
		for _, e := range u.ExternalIDs {
			if e.CustomType == "tenure" {
				id = e.Value
			}
		}
		if id == "" || seen[id] {
			t.Fatalf("google user %s has person %q (seen before: %v)", u.PrimaryEmail, id, seen[id])
		}
		seen[id] = true
	}
}
