package jsonapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tenure-id/tenure/pkg/connector"
)

func TestDo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t" || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/teapot" {
			w.WriteHeader(http.StatusTeapot)
			w.Write([]byte(`{"message":"short and stout"}`))
			return
		}
		w.Write([]byte(`{"id":"42"}`))
	}))
	defer srv.Close()
	ctx := context.Background()
	var out struct{ ID string }
	if err := Do(ctx, srv.Client(), "app", srv.URL, "POST", "/users?email=a@b.example", "Bearer t", map[string]string{"x": "y"}, &out, nil); err != nil || out.ID != "42" {
		t.Fatalf("Do = %v, out %+v", err, out)
	}
	refused := errors.New("refused")
	var body string
	err := Do(ctx, srv.Client(), "app", srv.URL, "POST", "/teapot", "Bearer t", struct{}{}, nil, func(r *http.Response, b []byte) error {
		body = string(b)
		return refused
	})
	if !errors.Is(err, refused) || !strings.Contains(body, "stout") {
		t.Fatalf("error answer: %v, body %q; want the app's reader to get it", err, body)
	}
	err = Do(ctx, srv.Client(), "app", "http://127.0.0.1:1", "GET", "/users?email=secret@b.example", "Bearer t", nil, nil, nil)
	if err == nil || strings.Contains(err.Error(), "secret@") || !strings.Contains(err.Error(), "/users") {
		t.Fatalf("transport error %v; want the path without its query", err)
	}
	var c *connector.Error
	if errors.As(err, &c) {
		t.Fatalf("a transport error is not an app answer: %v", err)
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{"Tier 1": "tier-1", "Sales Hub Viewer": "sales-hub-viewer", "  --A&B-- ": "a-b"} {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}
