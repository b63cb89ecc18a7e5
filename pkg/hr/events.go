package hr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tenure-id/tenure/pkg/identity"
)

// Pushed is one event as an HR system sends it, by webhook or in an event file:
//
//	{"id": "wd-4711", "type": "terminate", "employee_id": "E1", "effective_at": "2026-12-31T17:00:00Z",
//	 "data": {"job_title": "..."}}
//
// ID is the sender's and makes delivery idempotent, whichever way the event arrives.
type Pushed struct {
	ID          string          `json:"id"`
	Type        string          `json:"type"`
	EmployeeID  string          `json:"employee_id"`
	EffectiveAt *time.Time      `json:"effective_at"`
	Data        json.RawMessage `json:"data"`
}

// IsEventFile reports whether a JSON document holds pushed events ({"events": [...]}) rather
// than a roster.
func IsEventFile(doc []byte) bool {
	var probe map[string]json.RawMessage
	if json.Unmarshal(doc, &probe) != nil {
		return false
	}
	_, ok := probe["events"]
	return ok
}

// DecodePushed reads one event object or {"events": [...]}; unknown fields are errors, so a
// misspelt key is never silently dropped.
func DecodePushed(doc []byte) ([]Pushed, error) {
	doc = bytes.TrimSpace(doc)
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	var batch struct {
		Events []Pushed `json:"events"`
	}
	if IsEventFile(doc) {
		if err := dec.Decode(&batch); err != nil {
			return nil, fmt.Errorf("events: %w", err)
		}
	} else {
		var one Pushed
		if err := dec.Decode(&one); err != nil {
			return nil, fmt.Errorf("event: %w", err)
		}
		batch.Events = []Pushed{one}
	}
	if len(batch.Events) == 0 {
		return nil, errors.New("no events")
	}
	return batch.Events, nil
}

// Event turns a pushed event into a stored one. Data fields the sender leaves out keep the
// person's current values (current gives them; hires start empty). Errors name the event.
func (p Pushed) Event(n int, source string, now time.Time, current func(employeeID string) (Data, error)) (identity.Event, error) {
	where := fmt.Sprintf("event %d", n)
	if strings.TrimSpace(p.ID) == "" {
		return identity.Event{}, fmt.Errorf("%s: id is required (it makes retries safe)", where)
	}
	where += " (id " + p.ID + ")"
	at := now
	if p.EffectiveAt != nil {
		at = *p.EffectiveAt
	}
	ev := identity.Event{ExternalID: "push:" + p.ID, Type: identity.EventType(strings.ReplaceAll(strings.ToLower(p.Type), "-", "_")),
		EmployeeID: strings.TrimSpace(p.EmployeeID), EffectiveAt: at, Source: source, State: identity.EventPending}
	if err := ev.Validate(); err != nil {
		return ev, fmt.Errorf("%s: %w", where, err)
	}
	var data Data
	if ev.Type != identity.Hire {
		var err error
		if data, err = current(ev.EmployeeID); err != nil {
			return ev, err
		}
	}
	if len(p.Data) > 0 {
		raw, err := datesToTimes(p.Data)
		if err != nil {
			return ev, fmt.Errorf("%s: data: %w", where, err)
		}
		// Decoding over the current data replaces only the keys present.
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&data); err != nil {
			return ev, fmt.Errorf("%s: data: %w", where, err)
		}
		// Checked here, as a roster's column is, so the sender hears of it at once rather
		// than finding the event rejected later.
		if data.EmploymentType != "" {
			if _, err := identity.ParseEmploymentType(string(data.EmploymentType)); err != nil {
				return ev, fmt.Errorf("%s: data: %w", where, err)
			}
		}
	}
	ev.Payload, _ = json.Marshal(data)
	return ev, nil
}

// datesToTimes lets senders write dates as HR does (2026-12-15) where Data holds times.
func datesToTimes(data json.RawMessage) (json.RawMessage, error) {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	for _, k := range []string{FieldStartDate, FieldEndDate, "keep_access_until"} {
		s, ok := m[k].(string)
		if !ok || s == "" {
			continue
		}
		t, err := ParseDate(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		m[k] = t.Format(time.RFC3339)
	}
	return json.Marshal(m)
}
