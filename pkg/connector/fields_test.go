package connector

import "testing"

func TestAccountFieldsRoundTrip(t *testing.T) {
	shared := map[string]string{"title": "CEO"}
	a := Account{Attributes: shared}
	for _, f := range []string{"user_name", "external_id", "email", "given_name", "family_name", "display_name", "role", "attributes.department"} {
		a.SetField(f, "v-"+f)
		if got := a.Field(f); got != "v-"+f {
			t.Errorf("Field(%q) = %q after SetField", f, got)
		}
	}
	a.SetField("active", "true")
	if !a.Active || a.Field("active") != "true" {
		t.Errorf("active = %v", a.Active)
	}
	a.SetField("attributes.title", "")
	if _, ok := a.Attributes["title"]; ok || shared["title"] != "CEO" {
		t.Errorf("removing an attribute: %v, and the shared map became %v", a.Attributes, shared)
	}
	if a.Field("nonsense") != "" {
		t.Error("an unknown field has a value")
	}
}

func TestTraitsWithLimits(t *testing.T) {
	def := Traits{Rate: 10, Burst: 20, Concurrency: 4}
	if got := def.WithLimits(0, 0, 0); got.Rate != 10 || got.Burst != 20 || got.Concurrency != 4 {
		t.Errorf("zero overrides changed the defaults: %+v", got)
	}
	if got := def.WithLimits(1.5, 3, 2); got.Rate != 1.5 || got.Burst != 3 || got.Concurrency != 2 {
		t.Errorf("overrides not applied: %+v", got)
	}
}
