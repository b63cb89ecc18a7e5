package config

import (
	"strings"
	"testing"
)

func TestMetricsSection(t *testing.T) {
	env := map[string]string{"SCRAPE": "s3cret"}
	for _, tc := range []struct {
		name, yaml string
		on         bool
		token      string
	}{
		{"absent: on, open", "", true, ""},
		{"explicitly on", "metrics:\n  enabled: true\n", true, ""},
		{"off", "metrics:\n  enabled: false\n", false, ""},
		{"token from the environment", "metrics:\n  token_env: SCRAPE\n", true, "s3cret"},
		{"token variable unset", "metrics:\n  token_env: MISSING\n", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse(strings.NewReader(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Metrics.On(); got != tc.on {
				t.Errorf("On() = %v, want %v", got, tc.on)
			}
			if got := cfg.Metrics.Token(func(k string) string { return env[k] }); got != tc.token {
				t.Errorf("Token() = %q, want %q", got, tc.token)
			}
		})
	}
	if _, err := Parse(strings.NewReader("metrics:\n  enabeld: false\n")); err == nil {
		t.Error("a misspelt metrics key was accepted")
	}
}
