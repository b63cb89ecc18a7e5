package fakehttp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestHoldDropsAnAbandonedWrite sends a write the server holds longer than the client waits:
// it must never take effect, even after the hold ends. A server that waits before reading the
// body does not notice the client leaving, and would apply it later.
func TestHoldDropsAnAbandonedWrite(t *testing.T) {
	const hold, patience = 700 * time.Millisecond, 100 * time.Millisecond
	for _, tc := range []struct {
		name    string
		release bool // released early (a fake's Reset) rather than held to the end
	}{{"held to the end", false}, {"released", true}} {
		t.Run(tc.name, func(t *testing.T) {
			var applied, done atomic.Int32
			release := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer done.Add(1)
				if !Hold(r, hold, release) {
					return
				}
				if _, err := ReadObject(r); err == nil {
					applied.Add(1)
				}
			}))
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), patience)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(`{"userName":"ada"}`))
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
				t.Fatal("the held request was answered")
			}
			if tc.release {
				close(release)
			}
			deadline := time.Now().Add(hold + 2*time.Second)
			for done.Load() == 0 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if done.Load() == 0 {
				t.Fatal("the handler never returned")
			}
			if applied.Load() != 0 {
				t.Fatal("a write the client abandoned took effect")
			}
		})
	}
}

// TestHoldLetsAPatientClientThrough is the control: the same write with a client that waits
// is applied, body intact.
func TestHoldLetsAPatientClientThrough(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !Hold(r, 50*time.Millisecond, nil) {
			return
		}
		doc, err := ReadObject(r)
		if err != nil {
			t.Error(err)
		}
		got, _ = doc["userName"].(string)
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(`{"userName":"ada"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || got != "ada" {
		t.Fatalf("status %d, userName %q: want 201 and the body read after the hold", resp.StatusCode, got)
	}
}

func TestPaging(t *testing.T) {
	for _, tc := range []struct {
		query            string
		start, count     int
		wantErrSubstring string
	}{
		{"", 1, 30, ""},
		{"startIndex=0&count=500", 1, 100, ""},
		{"startIndex=3&count=-1", 3, 0, ""},
		{"startIndex=x", 0, 0, "startIndex"},
		{"count=y", 0, 0, "count"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/Users?"+tc.query, nil)
		start, count, err := Paging(r, 30, 100)
		if tc.wantErrSubstring != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErrSubstring) {
				t.Errorf("%q: err %v, want one naming %s", tc.query, err, tc.wantErrSubstring)
			}
			continue
		}
		if err != nil || start != tc.start || count != tc.count {
			t.Errorf("%q: %d, %d, %v; want %d, %d", tc.query, start, count, err, tc.start, tc.count)
		}
	}
}

func TestSeconds(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "1", 300 * time.Millisecond: "1", time.Second: "1", 1500 * time.Millisecond: "2", time.Minute: "60"} {
		if got := Seconds(d); got != want {
			t.Errorf("Seconds(%v) = %s, want %s", d, got, want)
		}
	}
}
