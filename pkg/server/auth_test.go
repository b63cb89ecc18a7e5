package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestAuthRoutes: the sign-in handler gets its four path trees and nothing else.
func TestAuthRoutes(t *testing.T) {
	auth := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "auth:"+r.URL.Path) })
	srv := httptest.NewServer(New(Config{DB: fakeDB{}, Auth: auth}))
	defer srv.Close()
	for path, want := range map[string]string{
		"/login": "auth:/login", "/logout": "auth:/logout", "/mfa/verify": "auth:/mfa/verify",
		"/activate/abc": "auth:/activate/abc", "/loginx": "", "/api/v1/people": "",
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want != "" && string(body) != want {
			t.Errorf("GET %s = %q, want %q", path, body, want)
		}
		if want == "" && resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = HTTP %d, want 404 (not the sign-in handler)", path, resp.StatusCode)
		}
	}
}
