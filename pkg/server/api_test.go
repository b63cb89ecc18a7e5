package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/connector"
	"github.com/tenure-id/tenure/pkg/connector/memconn"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore/sqlstoretest"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/policy"
	"github.com/tenure-id/tenure/pkg/provision"
)

const shippedPolicies = "../../policies"

// apiEnv is the admin API over a real SQLite directory seeded with a small company, the
// shipped policy and one provisioned app held in memory.
type apiEnv struct {
	url    string
	store  *sqlstore.Store
	tokens map[string]string // name → token
}

func newAPIEnv(t *testing.T) *apiEnv {
	t.Helper()
	return newAPIEnvWith(t, nil)
}

// newAPIEnvWith is newAPIEnv with the API's configuration changed by mod.
func newAPIEnvWith(t *testing.T, mod func(*AdminAPIConfig)) *apiEnv {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := sqlstoretest.SQLite(t, sqlstore.Options{Clock: clock})
	seedCompany(t, s)
	env := &apiEnv{store: s, tokens: map[string]string{}}
	for _, tok := range []struct {
		name string
		role directory.TokenRole
	}{{"auditor", directory.RoleRead}, {"it", directory.RoleAdmin}, {"gone", directory.RoleAdmin}} {
		raw, hash := directory.NewToken(directory.TokenAPI)
		if _, err := s.CreateToken(ctx, directory.Token{Kind: directory.TokenAPI, Name: tok.name, Role: tok.role, Hash: hash}); err != nil {
			t.Fatal(err)
		}
		env.tokens[tok.name] = raw
	}
	if err := s.RevokeToken(ctx, directory.TokenAPI, "gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateSCIMToken(ctx, directory.SCIMToken{Name: "workday", Hash: directory.HashToken("tnr_scim_x")}); err != nil {
		t.Fatal(err)
	}
	env.tokens["scim"] = "tnr_scim_x"
	load := func() (*policy.Set, error) { return policy.LoadDir(shippedPolicies) }
	gh := memconn.New(connector.Traits{})
	cfg := AdminAPIConfig{Store: s, Policy: load, Clock: clock,
		Planner: func(context.Context) (*provision.Planner, error) {
			set, err := load()
			return &provision.Planner{Store: s, Policy: set, Clock: clock, Connectors: map[string]connector.Connector{"github": gh},
				Apps: map[string]config.AppConfig{"github": {}}}, err
		}}
	if mod != nil {
		mod(&cfg)
	}
	h, err := NewAdminAPI(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(Config{DB: s, Admin: h}))
	t.Cleanup(srv.Close)
	env.url = srv.URL
	return env
}

// seedCompany: Pied Piper → Engineering → Platform; the CEO, an engineer reporting to her,
// and a pre-hire contractor in Marketing.
func seedCompany(t *testing.T, s *sqlstore.Store) {
	t.Helper()
	ctx := context.Background()
	unit := func(name string, kind identity.OrgUnitKind, parent string) string {
		u, err := s.CreateOrgUnit(ctx, identity.OrgUnit{Name: name, Kind: kind, ParentID: parent})
		if err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	org := unit("Pied Piper", identity.Organization, "")
	eng := unit("Engineering", identity.Division, org)
	platform := unit("Platform", identity.Department, eng)
	mkt := unit("Marketing", identity.Division, org)
	var ceo string
	for _, p := range []identity.Person{
		{EmployeeID: "E001", LegalFirstName: "Laurie", LegalLastName: "Bream", Username: "laurie.bream", WorkEmail: "laurie@piedpiper.test",
			EmploymentType: identity.Employee, Status: identity.Active, JobTitle: "CEO", OrgUnitID: org},
		{EmployeeID: "E002", LegalFirstName: "Bertram", LegalLastName: "Gilfoyle", Username: "gilfoyle", WorkEmail: "gilfoyle@piedpiper.test",
			EmploymentType: identity.Employee, Status: identity.Active, JobTitle: "Systems Architect", OrgUnitID: platform},
		{EmployeeID: "C001", LegalFirstName: "Jian", LegalLastName: "Yang", EmploymentType: identity.Contractor, Status: identity.PreHire, OrgUnitID: mkt},
	} {
		p.ManagerID = ceo
		created, err := s.CreatePerson(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if ceo == "" {
			ceo = created.ID
		}
	}
}

type apiResp struct {
	status int
	header http.Header
	body   []byte
}

func (r apiResp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

func (e *apiEnv) do(t *testing.T, method, path, body, token string) apiResp {
	t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return apiResp{resp.StatusCode, resp.Header, b}
}

// auditHead is the newest audit record's seq.
func (e *apiEnv) auditHead(t *testing.T) int64 {
	t.Helper()
	recs, err := e.store.AuditRecords(context.Background(), 0, 1_000_000)
	if err != nil || len(recs) == 0 {
		t.Fatalf("audit records: %v", err)
	}
	return recs[len(recs)-1].Seq
}
