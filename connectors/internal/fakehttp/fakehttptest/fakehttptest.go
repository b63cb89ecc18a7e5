// Package fakehttptest checks the fakes of SaaS apps against the faults contract of
// pkg/connector/connectortest: a request that stalls and that the client abandons must never
// take effect.
package fakehttptest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Write is one write request to a fake and a way to see whether it took effect.
type Write struct {
	// Stall and Reset are the fake's connectortest.Faults methods.
	Stall func(time.Duration)
	Reset func()
	// Method, URL and Body make the request; Header adds credentials and the like.
	Method, URL, Body string
	Header            http.Header
	// Landed reports whether the write took effect in the fake.
	Landed func() bool
}

// CheckAbandoned stalls the fake, sends w with a client that gives up long before the stall
// ends, waits until the stall is over and checks that nothing landed; then, as the control,
// sends w again without a stall and checks that it lands.
func CheckAbandoned(t *testing.T, w Write) {
	t.Helper()
	const stall, patience = 800 * time.Millisecond, 100 * time.Millisecond
	w.Stall(stall)
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	resp, err := send(ctx, w)
	cancel()
	if err == nil {
		resp.Body.Close()
		t.Fatalf("%s %s on a stalled fake answered %d before the client gave up", w.Method, w.URL, resp.StatusCode)
	}
	time.Sleep(stall + 400*time.Millisecond)
	if w.Landed() {
		t.Fatalf("%s %s, abandoned by the client during the stall, took effect afterwards", w.Method, w.URL)
	}
	w.Reset()
	resp, err = send(context.Background(), w)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !w.Landed() {
		t.Fatalf("%s %s without a stall answered %d and did not take effect: the check proves nothing", w.Method, w.URL, resp.StatusCode)
	}
}

func send(ctx context.Context, w Write) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, w.Method, w.URL, strings.NewReader(w.Body))
	if err != nil {
		return nil, err
	}
	for k, v := range w.Header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/scim+json")
	return http.DefaultClient.Do(req)
}
