package server

import (
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"testing"
)

var updateSchemas = flag.Bool("update-scim-schemas", false, "rewrite schemas/scim-*.json from what /scim/v2 serves")

// schemas/scim-schemas.json and schemas/scim-resource-types.json are what /scim/v2/Schemas and
// /scim/v2/ResourceTypes serve, so a sender can be built against the files. The test keeps the
// files and the server in step; `go test ./pkg/server -run SCIMSchemaFiles -update-scim-schemas`
// rewrites the files after a deliberate change.
func TestSCIMSchemaFilesMatchTheServer(t *testing.T) {
	e := newSCIMEnv(t)
	for path, file := range map[string]string{"/Schemas": "../../schemas/scim-schemas.json", "/ResourceTypes": "../../schemas/scim-resource-types.json"} {
		status, served := e.do(t, scimReq{method: "GET", path: path})
		if status != 200 {
			t.Fatalf("GET %s: HTTP %d", path, status)
		}
		// The list's envelope is the server's; the resources are the contract.
		resources := served["Resources"]
		if *updateSchemas {
			b, err := json.MarshalIndent(resources, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, append(b, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var want any
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if !reflect.DeepEqual(resources, want) {
			t.Errorf("GET %s serves something other than %s; after a deliberate change, run with -update-scim-schemas", path, file)
		}
	}
}
