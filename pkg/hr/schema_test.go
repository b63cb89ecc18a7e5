package hr

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/tenure-id/tenure/pkg/identity"
)

const eventSchemaPath = "../../schemas/hr-event.schema.json"

// eventSchema is schemas/hr-event.schema.json compiled by an independent JSON Schema
// implementation, formats asserted.
func eventSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := os.ReadFile(eventSchemaPath)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("hr-event.schema.json", v); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("hr-event.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// jsonKeys are the JSON names of a struct's fields.
func jsonKeys(v any) []string {
	var out []string
	t := reflect.TypeOf(v)
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// TestEventSchemaMatchesDecoder keeps the schema and the decoder in step: the same keys, event
// types and employment types.
func TestEventSchemaMatchesDecoder(t *testing.T) {
	doc, err := os.ReadFile(eventSchemaPath)
	if err != nil {
		t.Fatal(err)
	}
	type object struct {
		Properties map[string]struct {
			Enum []string `json:"enum"`
		} `json:"properties"`
	}
	var schema struct {
		Defs map[string]object `json:"$defs"`
	}
	if err := json.Unmarshal(doc, &schema); err != nil {
		t.Fatal(err)
	}
	keys := func(o object) []string {
		var out []string
		for k := range o.Properties {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	strs := func(vs ...any) []string {
		var out []string
		for _, v := range vs {
			out = append(out, reflect.ValueOf(v).String())
		}
		return out
	}
	var types, employment []any
	for _, e := range identity.EventTypes {
		types = append(types, e)
	}
	for _, e := range identity.EmploymentTypes {
		employment = append(employment, e)
	}
	for _, c := range []struct {
		what      string
		got, want []string
	}{
		{"event keys", keys(schema.Defs["event"]), jsonKeys(Pushed{})},
		{"data keys", keys(schema.Defs["data"]), jsonKeys(Data{})},
		{"event types", schema.Defs["event"].Properties["type"].Enum, strs(types...)},
		{"employment types", schema.Defs["data"].Properties["employment_type"].Enum, strs(employment...)},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s: schema %v, decoder %v", c.what, c.got, c.want)
		}
	}
}

// decodes reports whether the decoder takes doc: every event parsed and turned into a stored
// event (with nobody's current data).
func decodes(doc []byte) error {
	events, err := DecodePushed(doc)
	if err != nil {
		return err
	}
	for i, p := range events {
		if _, err := p.Event(i+1, "test", time.Now(), func(string) (Data, error) { return Data{}, nil }); err != nil {
			return err
		}
	}
	return nil
}

// The example event file is valid for the schema and the decoder, and documents that go wrong
// are refused by both: a sender checking against the schema learns what Tenure will refuse.
func TestEventSchemaAndDecoderAgree(t *testing.T) {
	s := eventSchema(t)
	example, err := os.ReadFile("../../testdata/hr/events.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		doc  string
		ok   bool
	}{
		{"the example file", string(example), true},
		{"one event", `{"id": "x1", "type": "terminate", "employee_id": "E1", "effective_at": "2026-12-31T17:00:00Z"}`, true},
		{"a date-only start", `{"id": "x1", "type": "hire", "employee_id": "E1", "data": {"first_name": "A", "last_name": "B", "start_date": "2027-01-04"}}`, true},
		{"unknown event key", `{"id": "x1", "type": "hire", "employee_id": "E1", "effectve_at": "2026-12-31T17:00:00Z"}`, false},
		{"unknown data key", `{"id": "x1", "type": "transfer", "employee_id": "E1", "data": {"dept": "Sales"}}`, false},
		{"no id", `{"type": "terminate", "employee_id": "E1"}`, false},
		{"blank id", `{"id": "  ", "type": "terminate", "employee_id": "E1"}`, false},
		{"no employee", `{"id": "x1", "type": "terminate"}`, false},
		{"unknown type", `{"id": "x1", "type": "fire", "employee_id": "E1"}`, false},
		{"effective_at is not a time", `{"id": "x1", "type": "terminate", "employee_id": "E1", "effective_at": "tomorrow"}`, false},
		{"effective_at a date only", `{"id": "x1", "type": "terminate", "employee_id": "E1", "effective_at": "2026-12-31"}`, false},
		{"start_date not a date", `{"id": "x1", "type": "hire", "employee_id": "E1", "data": {"start_date": "31/12/2026"}}`, false},
		{"bad employment type", `{"id": "x1", "type": "hire", "employee_id": "E1", "data": {"employment_type": "freelancer"}}`, false},
		{"empty batch", `{"events": []}`, false},
		{"batch with an extra key", `{"events": [{"id": "x1", "type": "leave", "employee_id": "E1"}], "source": "wd"}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := jsonschema.UnmarshalJSON(strings.NewReader(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			schemaErr := s.Validate(v)
			decodeErr := decodes([]byte(tc.doc))
			if (schemaErr == nil) != tc.ok || (decodeErr == nil) != tc.ok {
				t.Errorf("schema: %v; decoder: %v; want both to %s it", schemaErr, decodeErr, map[bool]string{true: "accept", false: "refuse"}[tc.ok])
			}
		})
	}
}
