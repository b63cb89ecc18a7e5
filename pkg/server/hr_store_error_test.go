package server

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/hr"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/lifecycle"
)

// brokenDirectory is an engine whose directory cannot be read.
type brokenDirectory struct{ submitted bool }

func (b *brokenDirectory) Submit(context.Context, []identity.Event, lifecycle.SubmitOptions) (lifecycle.Report, error) {
	b.submitted = true
	return lifecycle.Report{}, nil
}

func (b *brokenDirectory) CurrentData(context.Context, string) (hr.Data, bool, error) {
	return hr.Data{}, false, errors.New("database is locked")
}

// A directory failure while reading the pushed event's person is the server's fault: 500 and
// a retry, not a 400 that tells the sender its event was wrong.
func TestHRWebhookDirectoryFailureIs500(t *testing.T) {
	eng := &brokenDirectory{}
	h, err := NewHRWebhook(HRWebhookConfig{Engine: eng, Token: "t0ken", Clock: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	body := `{"id": "e-1", "type": "transfer", "employee_id": "PP004", "data": {"team": "Web"}}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer t0ken")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || eng.submitted {
		t.Fatalf("status %d (submitted %v), want 500 and nothing submitted", resp.StatusCode, eng.submitted)
	}
}
