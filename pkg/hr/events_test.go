package hr

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/identity"
)

func TestPushedEvents(t *testing.T) {
	current := func(emp string) (Data, error) {
		return Data{FirstName: "Ada", LastName: "Lovelace", JobTitle: "Engineer", Team: "Core"}, nil
	}
	tests := []struct {
		name, doc string
		err       string // "" means valid
		check     func(t *testing.T, evs []identity.Event)
	}{
		{"one event keeps unsent fields", `{"id": "a1", "type": "Manager-Change", "employee_id": " E1 ", "data": {"manager_id": "E9"}}`, "",
			func(t *testing.T, evs []identity.Event) {
				var d Data
				_ = json.Unmarshal(evs[0].Payload, &d)
				if evs[0].Type != identity.ManagerChange || evs[0].EmployeeID != "E1" || evs[0].ExternalID != "push:a1" ||
					d.ManagerID != "E9" || d.JobTitle != "Engineer" || !evs[0].EffectiveAt.Equal(now) {
					t.Fatalf("event %+v data %+v", evs[0], d)
				}
			}},
		{"batch with dates", `{"events": [{"id": "a2", "type": "hire", "employee_id": "E2", "effective_at": "2026-12-01T09:00:00Z",
			"data": {"first_name": "Grace", "start_date": "2026-12-01"}}, {"id": "a3", "type": "leave", "employee_id": "E1"}]}`, "",
			func(t *testing.T, evs []identity.Event) {
				var d Data
				_ = json.Unmarshal(evs[0].Payload, &d)
				if len(evs) != 2 || d.FirstName != "Grace" || d.JobTitle != "" || d.StartDate.Format(time.DateOnly) != "2026-12-01" {
					t.Fatalf("events %+v data %+v", evs, d)
				}
			}},
		{"no id", `{"type": "leave", "employee_id": "E1"}`, "event 1: id is required", nil},
		{"bad type", `{"events": [{"id": "x", "type": "leave", "employee_id": "E1"}, {"id": "y", "type": "fire", "employee_id": "E1"}]}`,
			`event 2 (id y): invalid type: "fire"`, nil},
		{"unknown key", `{"id": "x", "type": "leave", "employee": "E1"}`, `unknown field "employee"`, nil},
		{"unknown data key", `{"id": "x", "type": "transfer", "employee_id": "E1", "data": {"tem": "Core"}}`, `data: json: unknown field "tem"`, nil},
		{"bad date", `{"id": "x", "type": "attribute_change", "employee_id": "E1", "data": {"end_date": "someday"}}`, "end_date", nil},
		{"empty batch", `{"events": []}`, "no events", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var evs []identity.Event
			pushed, err := DecodePushed([]byte(tt.doc))
			for i := 0; err == nil && i < len(pushed); i++ {
				var ev identity.Event
				ev, err = pushed[i].Event(i+1, "test", now, current)
				evs = append(evs, ev)
			}
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, evs)
		})
	}
	if !IsEventFile([]byte(`{"events": []}`)) || IsEventFile([]byte(`{"people": []}`)) || IsEventFile([]byte(`[{}]`)) {
		t.Fatal("IsEventFile")
	}
}
