package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore/sqlstoretest"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/lifecycle"
	"github.com/tenure-id/tenure/pkg/scimserver"
)

const scimToken = "tnr_scim_test_token"

// scimEnv is a SCIM provider over a real SQLite directory and lifecycle engine.
type scimEnv struct {
	url    string
	store  *sqlstore.Store
	eng    *lifecycle.Engine
	now    time.Time
	header http.Header // of the last response
}

func newSCIMEnv(t *testing.T) *scimEnv {
	t.Helper()
	return newSCIMEnvWith(t, nil)
}

// newSCIMEnvWith is newSCIMEnv with the provider's configuration changed by mod.
func newSCIMEnvWith(t *testing.T, mod func(*SCIMConfig)) *scimEnv {
	t.Helper()
	ctx := context.Background()
	env := &scimEnv{now: time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return env.now }
	s := sqlstoretest.SQLite(t, sqlstore.Options{Clock: clock})
	if _, err := s.CreateSCIMToken(ctx, directory.SCIMToken{Name: "workday", Hash: directory.HashToken(scimToken)}); err != nil {
		t.Fatal(err)
	}
	eng := lifecycle.New(s, lifecycle.Options{Clock: clock, Naming: lifecycle.Naming{Domain: "piedpiper.test"}, LeaveTime: 17 * time.Hour})
	cfg := SCIMConfig{Directory: s, Engine: eng, Clock: clock}
	if mod != nil {
		mod(&cfg)
	}
	h, err := NewSCIM(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(Config{DB: s, SCIM: h}))
	t.Cleanup(srv.Close)
	env.url, env.store, env.eng = srv.URL+"/scim/v2", s, eng
	return env
}

type scimReq struct {
	method, path, body string
	token              string // scimToken when empty; "-" for none
	header             map[string]string
}

func (e *scimEnv) do(t *testing.T, r scimReq) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(r.method, e.url+r.path, strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/scim+json")
	switch r.token {
	case "":
		req.Header.Set("Authorization", "Bearer "+scimToken)
	case "-":
	default:
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	e.header = resp.Header
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Fatalf("%s %s: %d, body not JSON: %s", r.method, r.path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, body
}

// userBody is a POST body for a new worker.
func userBody(emp, userName, given, family, email, dept string) string {
	b, _ := json.Marshal(map[string]any{
		"schemas":                   []string{scimserver.UserSchema, scimserver.EnterpriseSchema},
		"userName":                  userName,
		"externalId":                emp,
		"name":                      map[string]any{"givenName": given, "familyName": family},
		"title":                     "Engineer",
		"emails":                    []any{map[string]any{"value": email, "type": "work", "primary": true}},
		"active":                    true,
		scimserver.EnterpriseSchema: map[string]any{"organization": "Pied Piper", "department": dept},
	})
	return string(b)
}

func (e *scimEnv) create(t *testing.T, emp, userName, given, family, email, dept string) map[string]any {
	t.Helper()
	code, body := e.do(t, scimReq{method: "POST", path: "/Users", body: userBody(emp, userName, given, family, email, dept)})
	if code != http.StatusCreated {
		t.Fatalf("create %s: %d %v", emp, code, body)
	}
	return body
}

// checkError asserts an RFC 7644 error body with the status, scimType and a detail naming want.
func checkError(t *testing.T, what string, code int, body map[string]any, wantCode int, scimType, want string) {
	t.Helper()
	schemas, _ := body["schemas"].([]any)
	if code != wantCode || len(schemas) != 1 || schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" || body["status"] != itoa(wantCode) {
		t.Fatalf("%s: %d %v; want an error body with status %d", what, code, body, wantCode)
	}
	if got, _ := body["scimType"].(string); got != scimType {
		t.Errorf("%s: scimType %q; want %q (%v)", what, got, scimType, body)
	}
	if d, _ := body["detail"].(string); !strings.Contains(d, want) {
		t.Errorf("%s: detail %q does not name %q", what, d, want)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func person(t *testing.T, s directory.Store, key string) identity.Person {
	t.Helper()
	p, err := s.LookupPerson(context.Background(), key)
	if err != nil {
		t.Fatalf("LookupPerson(%s): %v", key, err)
	}
	return p
}

func TestSCIMAuthentication(t *testing.T) {
	e := newSCIMEnv(t)
	ctx := audit.WithActor(context.Background(), "cli:test")
	if _, err := e.store.CreateSCIMToken(ctx, directory.SCIMToken{Name: "old", Hash: directory.HashToken("revoked-token")}); err != nil {
		t.Fatal(err)
	}
	if err := e.store.RevokeSCIMToken(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, token string
		code        int
	}{
		{"no token", "-", 401},
		{"wrong token", "tnr_scim_wrong", 401},
		{"revoked token", "revoked-token", 401},
		{"live token", "", 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/Users", "/Groups", "/ServiceProviderConfig", "/Schemas", "/ResourceTypes"} {
				code, body := e.do(t, scimReq{method: "GET", path: path, token: tt.token})
				if tt.code == 200 {
					if code != 200 {
						t.Fatalf("GET %s: %d %v", path, code, body)
					}
					continue
				}
				checkError(t, "GET "+path, code, body, 401, "", "token")
			}
		})
	}
	if toks, _ := e.store.ListSCIMTokens(context.Background()); len(toks) != 1 || toks[0].LastUsedAt == nil {
		t.Errorf("tokens after use: %+v; want workday with its last use recorded", toks)
	}
}

func TestSCIMServiceProviderConfigAdvertisesWhatIsServed(t *testing.T) {
	e := newSCIMEnv(t)
	_, body := e.do(t, scimReq{method: "GET", path: "/ServiceProviderConfig"})
	for _, k := range []string{"patch", "filter", "etag"} {
		if m, _ := body[k].(map[string]any); m["supported"] != true {
			t.Errorf("%s: %v; want supported", k, body[k])
		}
	}
	if m, _ := body["bulk"].(map[string]any); m["supported"] != false {
		t.Errorf("bulk: %v; want unsupported", body["bulk"])
	}
	_, rt := e.do(t, scimReq{method: "GET", path: "/ResourceTypes"})
	if rt["totalResults"] != float64(2) {
		t.Errorf("ResourceTypes: %v; want User and Group", rt)
	}
}
