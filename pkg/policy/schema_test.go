package policy

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// TestSchemaMatchesLoader keeps schemas/policy.schema.json and the loader in step: every
// mapping allows exactly the keys the loader accepts.
func TestSchemaMatchesLoader(t *testing.T) {
	data, err := os.ReadFile("../../schemas/policy.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	type object struct {
		Properties map[string]json.RawMessage `json:"properties"`
		Items      *object                    `json:"items"`
		OneOf      []object                   `json:"oneOf"`
	}
	var schema struct {
		object
		Defs map[string]object `json:"$defs"`
	}
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	sub := func(o object, key string) object {
		t.Helper()
		var x object
		if err := json.Unmarshal(o.Properties[key], &x); err != nil {
			t.Fatalf("schema property %s: %v", key, err)
		}
		return x
	}
	test := schema.Defs["test"]
	appEntitlement := sub(schema.Defs["app"], "entitlements").Items.OneOf[1]
	objects := map[string]object{
		"file": schema.object, "app": schema.Defs["app"], "app.entitlement": appEntitlement,
		"rule": schema.Defs["rule"], "grant": schema.Defs["grant"], "exclude": schema.Defs["exclude"],
		"conflict": schema.Defs["conflict"], "conditions": schema.Defs["conditions"], "test": test,
		"test.person": sub(test, "person"), "test.exception": *sub(test, "exceptions").Items,
		"test.expect": sub(test, "expect"),
	}
	for name, allowed := range keys {
		o, ok := objects[name]
		if !ok {
			t.Errorf("no schema object checked for loader keys %q", name)
			continue
		}
		var got []string
		for k := range o.Properties {
			got = append(got, k)
		}
		slices.Sort(got)
		if want := slices.Sorted(slices.Values(allowed)); !slices.Equal(got, want) {
			t.Errorf("%s: schema properties %v, loader keys %v", name, got, want)
		}
	}
}
