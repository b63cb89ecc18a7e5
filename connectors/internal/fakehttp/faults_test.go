package fakehttp

import (
	"net/http/httptest"
	"testing"
	"time"
)

func TestFaultsQueueAndStall(t *testing.T) {
	var f Faults[int]
	f.Push(429, 2)
	f.Push(503, 1)
	for _, want := range []int{429, 429, 503} {
		if got, ok := f.Next(); !ok || got != want {
			t.Fatalf("Next = %d, %v; want %d", got, ok, want)
		}
	}
	if _, ok := f.Next(); ok {
		t.Fatal("a fault after the queue ran out")
	}
	f.Stall(30 * time.Millisecond)
	start := time.Now()
	if !f.Hold(httptest.NewRequest("GET", "/", nil)) || time.Since(start) < 30*time.Millisecond {
		t.Fatalf("Hold returned after %v; want the stall waited out", time.Since(start))
	}
	// An hour-long stall left in place would hang the test, so the bound can be loose.
	f.Stall(time.Hour)
	f.Push(500, 3)
	f.Reset()
	start = time.Now()
	if _, ok := f.Next(); ok || !f.Hold(httptest.NewRequest("GET", "/", nil)) || time.Since(start) > 10*time.Second {
		t.Fatal("Reset left a fault or the stall")
	}
}
