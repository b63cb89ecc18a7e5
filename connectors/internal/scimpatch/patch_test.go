package scimpatch

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

func user() map[string]any {
	return decode(`{
		"userName": "ada", "active": true, "displayName": "Ada",
		"name": {"givenName": "Ada", "familyName": "Lovelace"},
		"emails": [{"value": "ada@example.com", "type": "work", "primary": true}],
		"members": [{"value": "u1"}, {"value": "u2"}],
		"` + ent + `": {"department": "R&D", "manager": {"managerId": "m1"}}
	}`)
}

func decode(s string) map[string]any {
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		panic(err)
	}
	return m
}

func ops(s string) []Op {
	got, err := Decode(strings.NewReader(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":` + s + `}`))
	if err != nil {
		panic(err)
	}
	return got
}

func TestApply(t *testing.T) {
	for _, tc := range []struct {
		name, ops string
		check     func(d map[string]any) any // returns the observed value
		want      any
	}{
		{"replace with a path", `[{"op":"replace","path":"displayName","value":"Countess"}]`,
			func(d map[string]any) any { return d["displayName"] }, "Countess"},
		{"capitalised op and string boolean (Entra ID)", `[{"op":"Replace","path":"active","value":"False"}]`,
			func(d map[string]any) any { return d["active"] }, false},
		{"path-less value with a string boolean", `[{"op":"Replace","value":{"active":"True","displayName":"A"}}]`,
			func(d map[string]any) any { return []any{d["active"], d["displayName"]} }, []any{true, "A"}},
		{"path-less dotted key", `[{"op":"replace","value":{"name.givenName":"Augusta"}}]`,
			func(d map[string]any) any { return d["name"] }, map[string]any{"givenName": "Augusta", "familyName": "Lovelace"}},
		{"path-less URN object merges", `[{"op":"add","value":{"` + ent + `":{"costCenter":"7"}}}]`,
			func(d map[string]any) any { return d[ent].(map[string]any)["costCenter"] }, "7"},
		{"URN path with a dotted attribute", `[{"op":"replace","path":"` + ent + `:manager.managerId","value":"m2"}]`,
			func(d map[string]any) any { return d[ent].(map[string]any)["manager"] }, map[string]any{"managerId": "m2"}},
		{"URN path removes", `[{"op":"remove","path":"` + ent + `:department"}]`,
			func(d map[string]any) any { _, ok := d[ent].(map[string]any)["department"]; return ok }, false},
		{"value path sets an element's sub-attribute", `[{"op":"replace","path":"emails[type eq \"work\"].value","value":"a@b.c"}]`,
			func(d map[string]any) any { return d["emails"] }, []any{map[string]any{"value": "a@b.c", "type": "work", "primary": true}}},
		{"value path creates the element it describes", `[{"op":"add","path":"emails[type eq \"home\"].value","value":"h@b.c"}]`,
			func(d map[string]any) any { return len(d["emails"].([]any)) }, 2},
		{"value path with and, case-insensitive type", `[{"op":"replace","path":"emails[type eq \"WORK\" and primary eq true].primary","value":"False"}]`,
			func(d map[string]any) any { return d["emails"].([]any)[0].(map[string]any)["primary"] }, false},
		{"members add skips present ones", `[{"op":"add","path":"members","value":[{"value":"u2"},{"value":"u3"}]}]`,
			func(d map[string]any) any { return d["members"] }, []any{map[string]any{"value": "u1"}, map[string]any{"value": "u2"}, map[string]any{"value": "u3"}}},
		{"members remove by filter", `[{"op":"remove","path":"members[value eq \"u1\"]"}]`,
			func(d map[string]any) any { return d["members"] }, []any{map[string]any{"value": "u2"}}},
		{"members remove by value list (Entra ID)", `[{"op":"Remove","path":"members","value":[{"value":"u2"}]}]`,
			func(d map[string]any) any { return d["members"] }, []any{map[string]any{"value": "u1"}}},
		{"removing the last member leaves an empty list", `[{"op":"remove","path":"members[value eq \"u1\"]"},{"op":"remove","path":"members[value eq \"u2\"]"}]`,
			func(d map[string]any) any { return d["members"] }, []any{}},
		{"removing a missing member is no change", `[{"op":"remove","path":"members[value eq \"nobody\"]"}]`,
			func(d map[string]any) any { return len(d["members"].([]any)) }, 2},
		{"attribute names are case-insensitive", `[{"op":"replace","path":"USERNAME","value":"ada2"}]`,
			func(d map[string]any) any { return []any{d["userName"], d["USERNAME"]} }, []any{"ada2", nil}},
		{"a string stays a string outside boolean attributes", `[{"op":"replace","path":"title","value":"True"}]`,
			func(d map[string]any) any { return d["title"] }, "True"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := user()
			if err := Apply(d, ops(tc.ops)); err != nil {
				t.Fatal(err)
			}
			if got := tc.check(d); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestApplyRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, ops, scimType string
		index               int
	}{
		{"unknown op", `[{"op":"merge","path":"userName","value":"x"}]`, "invalidSyntax", 0},
		{"remove without a path", `[{"op":"replace","path":"title","value":"x"},{"op":"remove"}]`, "noTarget", 1},
		{"path-less value that is not an object", `[{"op":"add","value":"x"}]`, "invalidValue", 0},
		{"unparsable path", `[{"op":"add","path":"emails[type eq","value":"x"}]`, "invalidPath", 0},
		{"filter describing no element to create", `[{"op":"add","path":"emails[type ne \"work\"].value","value":"x"}]`, "noTarget", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Apply(user(), ops(tc.ops))
			var pe *Error
			if !errors.As(err, &pe) || pe.ScimType != tc.scimType || pe.Index != tc.index {
				t.Fatalf("Apply = %v, want a %s error at operation %d", err, tc.scimType, tc.index)
			}
			if !strings.HasPrefix(err.Error(), "Operations[") {
				t.Fatalf("error %q does not name the operation", err)
			}
		})
	}
	if _, err := Decode(strings.NewReader(`{"Operations":[]}`)); err == nil || err.(*Error).ScimType != "invalidSyntax" {
		t.Fatalf("Decode of no operations = %v, want invalidSyntax", err)
	}
}
