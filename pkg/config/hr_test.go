package config

import (
	"strings"
	"testing"
	"time"
)

func TestHRSection(t *testing.T) {
	cfg, err := Parse(strings.NewReader(`
hr:
  mapping: {employee_id: "Worker ID"}
  username_pattern: "{f}{last}"
  email_domain: piedpiper.test
  pre_hire_days: 7
  time_zone: America/Los_Angeles
  termination_time: "17:30"
  missing_from_roster: terminate
  username_reuse_days: 365
  breaker: {percent: 10, min_changes: 5}
  webhook: {token_env: HR_TOKEN, secret_env: HR_SECRET}
`))
	if err != nil {
		t.Fatal(err)
	}
	h := cfg.HR
	if h.Mapping["employee_id"] != "Worker ID" || h.PreHireDays != 7 || h.Breaker.MinChanges != 5 || h.UsernameReuseDays != 365 {
		t.Fatalf("hr = %+v", h)
	}
	if d, err := h.LeaveTime(); err != nil || d != 17*time.Hour+30*time.Minute {
		t.Fatalf("LeaveTime = %v, %v", d, err)
	}
	if loc, err := h.Location(); err != nil || loc.String() != "America/Los_Angeles" {
		t.Fatalf("Location = %v, %v", loc, err)
	}
	env := map[string]string{"HR_TOKEN": "tok", "HR_SECRET": "sec"}
	if tok, sec := h.Webhook.Secrets(func(k string) string { return env[k] }); tok != "tok" || sec != "sec" {
		t.Fatalf("Secrets = %q %q", tok, sec)
	}
	bad := []struct{ yaml, want string }{
		{"hr: {termination_time: '5pm'}", "hr.termination_time"},
		{"hr: {time_zone: Mars/Olympus}", "hr.time_zone"},
		{"hr: {missing_from_roster: delete}", "hr.missing_from_roster"},
		{"hr: {pre_hire_days: -1}", "hr.pre_hire_days"},
		{"hr: {username_reuse_days: -1}", "hr.username_reuse_days"},
		{"hr: {breaker: {percent: 150}}", "hr.breaker.percent"},
		{"hr: {email_domain: '@x.test'}", "hr.email_domain"},
		{"hr: {breaker: {precent: 5}}", "precent"},
	}
	for _, b := range bad {
		if _, err := Parse(strings.NewReader(b.yaml)); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: error %v, want one naming %s", b.yaml, err, b.want)
		}
	}
}

func TestTerminationTimeDefaultsToEndOfWorkingDay(t *testing.T) {
	if d, err := (HR{}).LeaveTime(); err != nil || d != 17*time.Hour {
		t.Fatalf("default LeaveTime = %v, %v; want 17:00", d, err)
	}
	if _, err := (HR{TerminationTime: "5pm"}).LeaveTime(); err == nil || !strings.Contains(err.Error(), "hr.termination_time") {
		t.Fatalf("bad termination_time error = %v", err)
	}
}
