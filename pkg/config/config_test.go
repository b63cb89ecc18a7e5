package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, doc string
		want      Config
		errMatch  string
	}{
		{name: "empty", doc: "", want: Config{}},
		{name: "full", doc: "db: postgres://127.0.0.1/t\nlisten: 127.0.0.1:9000\nlog:\n  level: debug\n  format: json\n",
			want: Config{DB: "postgres://127.0.0.1/t", Listen: "127.0.0.1:9000", Log: Log{Level: "debug", Format: "json"}}},
		{name: "unknown key names the line", doc: "db: x\nlisen: y\n", errMatch: "line 2: field lisen not found"},
		{name: "bad level", doc: "log:\n  level: loud\n", errMatch: `log.level: "loud"`},
		{name: "bad format", doc: "log:\n  format: xml\n", errMatch: `log.format: "xml"`},
		{name: "not yaml", doc: "db: [", errMatch: "yaml"},
		{name: "trusted proxies", doc: "http:\n  trusted_proxies: [10.0.0.0/8, \"::1\"]\n",
			want: Config{HTTP: HTTP{TrustedProxies: []string{"10.0.0.0/8", "::1"}}}},
		{name: "outbox retention", doc: "provisioning:\n  outbox_retention_days: -1\n",
			want: Config{Provisioning: Provisioning{OutboxRetentionDays: -1}}},
		{name: "outbox retention too long", doc: "provisioning:\n  outbox_retention_days: 5000\n", errMatch: "provisioning.outbox_retention_days: 5000"},
		{name: "a trusted proxy by name", doc: "http:\n  trusted_proxies: [10.0.0.0/8, lb.internal]\n",
			errMatch: `http.trusted_proxies[1]: "lb.internal" is not an IP address or CIDR prefix`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tt.doc))
			if tt.errMatch != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errMatch) {
					t.Fatalf("error = %v, want one containing %q", err, tt.errMatch)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Parse = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tenure.yaml")
	if err := os.WriteFile(path, []byte("nope: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Load error = %v, want it to name %s", err, path)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Fatal("Load of a missing file succeeded")
	}
}

func TestOutboxRetention(t *testing.T) {
	for days, want := range map[int]time.Duration{0: 30 * 24 * time.Hour, 7: 7 * 24 * time.Hour, -1: 0} {
		if got := (Provisioning{OutboxRetentionDays: days}).OutboxRetention(); got != want {
			t.Errorf("OutboxRetention(%d days) = %v; want %v", days, got, want)
		}
	}
}

func TestTokenRate(t *testing.T) {
	for rate, want := range map[float64]float64{0: DefaultTokenRate, 5: 5, -1: 0} {
		if got := (HTTP{TokenRate: rate}).TokenRatePerSecond(); got != want {
			t.Errorf("TokenRatePerSecond(%v) = %v; want %v", rate, got, want)
		}
	}
}
