package server

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

type fakeDB struct{ err error }

func (f fakeDB) Ping(context.Context) error { return f.err }

func TestHealthAndReadiness(t *testing.T) {
	tests := []struct {
		name       string
		path       string
		db         fakeDB
		wantStatus int
		wantField  string
		wantValue  string
	}{
		{name: "healthz", path: "/healthz", wantStatus: 200, wantField: "status", wantValue: "ok"},
		{name: "healthz ignores database", path: "/healthz", db: fakeDB{errors.New("down")}, wantStatus: 200, wantField: "status", wantValue: "ok"},
		{name: "readyz", path: "/readyz", wantStatus: 200, wantField: "status", wantValue: "ready"},
		{name: "readyz database down", path: "/readyz", db: fakeDB{errors.New("connection refused")}, wantStatus: 503, wantField: "database", wantValue: "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(New(Config{DB: tt.db, Version: "test"}))
			defer srv.Close()
			resp, err := http.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]string
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if resp.StatusCode != tt.wantStatus || body[tt.wantField] != tt.wantValue {
				t.Fatalf("GET %s = %d %v; want %d with %s=%q", tt.path, resp.StatusCode, body, tt.wantStatus, tt.wantField, tt.wantValue)
			}
		})
	}
}

func TestUnknownPathIs404(t *testing.T) {
	srv := httptest.NewServer(New(Config{DB: fakeDB{}}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("status %d, want 404", resp.StatusCode)
	}
}

// A request in flight when shutdown starts must complete, and Serve must return nil.
func TestServeDrainsInFlightRequests(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		w.Write([]byte("done"))
	})
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	errc := make(chan error, 1)
	go func() { errc <- Serve(ctx, "127.0.0.1:0", h, 5*time.Second, nil, func(a net.Addr) { addrc <- a }) }()
	addr := <-addrc
	respc := make(chan *http.Response, 1)
	go func() {
		resp, err := http.Get("http://" + addr.String() + "/")
		if err != nil {
			t.Error(err)
		}
		respc <- resp
	}()
	<-started
	cancel()
	time.Sleep(50 * time.Millisecond) // let Shutdown close the listener first
	if c, err := net.DialTimeout("tcp", addr.String(), time.Second); err == nil {
		c.Close()
		t.Error("listener still accepts connections after shutdown began")
	}
	close(release)
	resp := <-respc
	if resp == nil || resp.StatusCode != 200 {
		t.Fatalf("in-flight request did not complete: %v", resp)
	}
	resp.Body.Close()
	if err := <-errc; err != nil {
		t.Fatalf("Serve returned %v", err)
	}
}

func TestServeReportsBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = Serve(context.Background(), ln.Addr().String(), http.NotFoundHandler(), time.Second, nil, nil)
	if err == nil {
		t.Fatal("Serve on a busy port succeeded")
	}
}
