package authn

import (
	"testing"
	"time"
)

func TestThrottleLockGrows(t *testing.T) {
	p := ThrottlePolicy{}.withDefaults()
	tests := []struct {
		n    int
		want time.Duration
	}{
		{1, 0}, {5, 0}, {6, 30 * time.Second}, {7, time.Minute}, {8, 2 * time.Minute},
		{9, 4 * time.Minute}, {10, 8 * time.Minute}, {11, 15 * time.Minute}, {50, 15 * time.Minute},
	}
	for _, tt := range tests {
		if got := p.lockFor(tt.n, p.AccountFree); got != tt.want {
			t.Errorf("failure %d locks for %s, want %s", tt.n, got, tt.want)
		}
	}
}
