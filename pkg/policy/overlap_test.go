package policy

import (
	"strings"
	"testing"
	"time"
)

// A transfer with an overlap window keeps what the previous org unit gave until the window
// ends, says so in the reason, and loses it the moment the window closes.
func TestTransferOverlapKeepsOldAccessUntilItsDate(t *testing.T) {
	r := mustParse(t, `rules:
  - name: sales-crm
    when: {org_unit: Acme/Sales}
    grant: [{app: b, entitlements: [role:approver]}]
  - name: engineering
    when: {org_unit: Acme/Engineering}
    grant: [{app: a, entitlements: [group:x]}]
`)
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	until := now.Add(7 * 24 * time.Hour)
	tests := []struct {
		name  string
		at    time.Time
		attrs map[string]string
		want  string
	}{
		{"inside the window", now, map[string]string{AttrPreviousOrgUnit: "u-sales", AttrKeepAccessUntil: until.Format(time.RFC3339)},
			"a a:group:x b b:role:approver"},
		{"window closed", until, map[string]string{AttrPreviousOrgUnit: "u-sales", AttrKeepAccessUntil: until.Format(time.RFC3339)},
			"a a:group:x"},
		{"no window", now, nil, "a a:group:x"},
		{"unreadable date keeps nothing", now, map[string]string{AttrPreviousOrgUnit: "u-sales", AttrKeepAccessUntil: "next week"},
			"a a:group:x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			people, view := world(tt.at)
			p := people[2] // E3, now in Engineering/Platform/Core
			p.Attributes = tt.attrs
			res := r.Resolve(p, view)
			if got := strings.Join(grantKeys(res), " "); got != tt.want {
				t.Fatalf("grants = %q, want %q", got, tt.want)
			}
			if g, ok := res.Find("b:role:approver"); ok {
				if len(g.Reasons) != 1 || g.Reasons[0].KeptUntil == nil || !g.Reasons[0].KeptUntil.Equal(until) ||
					!strings.Contains(g.Reasons[0].String(), "previous org unit, kept until") {
					t.Fatalf("kept grant reasons = %+v", g.Reasons)
				}
			}
			if g, ok := res.Find("a:group:x"); ok && g.Reasons[0].KeptUntil != nil {
				t.Fatalf("a grant from the current unit is marked as kept: %+v", g.Reasons)
			}
		})
	}
}
