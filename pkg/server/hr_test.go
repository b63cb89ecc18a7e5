package server

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore/sqlstoretest"
	"github.com/tenure-id/tenure/pkg/lifecycle"
)

func hrServer(t *testing.T, now time.Time) (*httptest.Server, *sqlstore.Store) {
	t.Helper()
	clock := func() time.Time { return now }
	s := sqlstoretest.SQLite(t, sqlstore.Options{Clock: clock})
	eng := lifecycle.New(s, lifecycle.Options{Clock: clock, Naming: lifecycle.Naming{Domain: "piedpiper.test"}})
	h, err := NewHRWebhook(HRWebhookConfig{Engine: eng, Token: "t0ken", Secret: "s3cret", Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(Config{DB: s, HREvents: h}))
	t.Cleanup(srv.Close)
	return srv, s
}

type push struct {
	body   string
	header map[string]string
}

func (p push) send(t *testing.T, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/api/v1/hr/events", strings.NewReader(p.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range p.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func bearer(body string) push {
	return push{body, map[string]string{"Authorization": "Bearer t0ken", "Content-Type": "application/json"}}
}

func signed(secret string, at time.Time, body string) push {
	ts := at.Unix()
	return push{body, map[string]string{HRTimestampHeader: strconv.FormatInt(ts, 10),
		HRSignatureHeader: "sha256=" + hex.EncodeToString(SignHR(secret, ts, []byte(body)))}}
}

func hireBody(id, emp string) string {
	return fmt.Sprintf(`{"id": %q, "type": "hire", "employee_id": %q, "data": {"first_name": "José", "last_name": "Ñúñez", "organization": "Pied Piper"}}`, id, emp)
}

func TestHRWebhook(t *testing.T) {
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	srv, s := hrServer(t, now)
	hire := hireBody("wd-1", "E1")
	tests := []struct {
		name string
		p    push
		code int
		want string
	}{
		{"no credentials", push{hire, nil}, 401, "authentication required"},
		{"wrong token", push{hire, map[string]string{"Authorization": "Bearer nope"}}, 401, "bad bearer token"},
		{"bearer hire", bearer(hire), 202, `"applied":1`},
		{"same event ID again", bearer(hire), 409, `"duplicates":1`},
		{"signed hire", signed("s3cret", now, hireBody("wd-2", "E2")), 202, `"applied":1`},
		{"wrong key", signed("guess", now, hireBody("wd-3", "E3")), 401, "bad signature"},
		{"body changed after signing", push{hireBody("wd-3", "E4"), signed("s3cret", now, hireBody("wd-3", "E3")).header}, 401, "bad signature"},
		{"captured request replayed later", signed("s3cret", now.Add(-10*time.Minute), hireBody("wd-5", "E5")), 401, "replay rejected"},
		{"no event id", bearer(`{"type": "leave", "employee_id": "E1"}`), 400, "id is required"},
		{"unknown type", bearer(`{"id": "x1", "type": "promote", "employee_id": "E1"}`), 400, `invalid type: \"promote\" is not one of`},
		{"unknown field", bearer(`{"id": "x2", "type": "leave", "employee": "E1"}`), 400, `unknown field \"employee\"`},
		{"illegal transition", bearer(`{"id": "x3", "type": "return", "employee_id": "E1"}`), 422, "only a person on leave can return"},
		{"partial transfer keeps the rest", bearer(`{"id": "x5", "type": "transfer", "employee_id": "E1", "data": {"job_title": "SRE"}}`), 202, `"applied":1`},
		{"batch, future dated", bearer(`{"events": [{"id": "x4", "type": "terminate", "employee_id": "E2", "effective_at": "2026-12-01T17:00:00Z"}]}`), 202, `"scheduled":1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := tt.p.send(t, srv.URL)
			if code != tt.code || !strings.Contains(body, tt.want) {
				t.Fatalf("status %d body %s; want %d containing %q", code, body, tt.code, tt.want)
			}
		})
	}
	p, err := s.LookupPerson(context.Background(), "E1")
	if err != nil || p.Username != "jose.nunez" || p.Version != 2 || p.JobTitle != "SRE" || p.LegalLastName != "Ñúñez" || p.OrgUnitID == "" {
		t.Fatalf("E1 after the pushes: %+v %v", p, err)
	}
	if _, err := s.LookupPerson(context.Background(), "E3"); err == nil {
		t.Fatal("a badly signed push created E3")
	}
	recs, _ := s.AuditRecords(context.Background(), 0, 1000)
	actors := map[string]bool{}
	for _, r := range recs {
		actors[r.Actor] = true
	}
	if !actors["hr:webhook:token"] || !actors["hr:webhook:hmac"] {
		t.Fatalf("audit actors %v", actors)
	}
	var rep lifecycle.Report
	_, body := bearer(hireBody("wd-9", "E9")).send(t, srv.URL)
	if err := json.Unmarshal([]byte(body), &rep); err != nil || len(rep.Outcomes) != 1 || rep.Outcomes[0].Event.ExternalID != "push:wd-9" {
		t.Fatalf("response %s: %v", body, err)
	}
	if _, err := NewHRWebhook(HRWebhookConfig{}); err == nil {
		t.Fatal("a webhook without token or secret was accepted")
	}
}
