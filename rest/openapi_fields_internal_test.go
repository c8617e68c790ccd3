package rest

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// TestOpenAPISchemasMatchThePayloadTypes fails in a plain `go test` (no
// -tags openapi) when a request or response type's JSON members and the
// committed openapi.json disagree, so a payload change without
// `go generate ./rest` is caught by every test run, not only by the tagged
// drift test. huma names each schema after its Go type, capitalized.
func TestOpenAPISchemasMatchThePayloadTypes(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPIFile, &doc); err != nil {
		t.Fatal(err)
	}
	types := []any{
		registerRequest{}, loginRequest{}, createTaskRequest{}, updateTaskRequest{}, updateUserRequest{},
		refreshRequest{}, changePasswordRequest{}, deleteAccountRequest{}, exportResponse{},
		userResponse{}, taskResponse{}, tokenResponse{}, statsResponse{}, meResponse{},
		taskUpdatedResponse{}, messageResponse{}, httpError{}, validationError{}, httpValidationError{},
	}
	checked := map[string]bool{"LoginForm": true} // models_openapi.go: built with -tags openapi only
	for _, v := range types {
		typ := reflect.TypeOf(v)
		name := string(unicode.ToUpper(rune(typ.Name()[0]))) + typ.Name()[1:]
		checked[name] = true
		t.Run(name, func(t *testing.T) {
			schema, ok := doc.Components.Schemas[name]
			if !ok {
				t.Fatalf("openapi.json has no schema %s: run go generate ./rest", name)
			}
			var members []string
			for f := range typ.Fields() {
				tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if tag != "-" && f.IsExported() {
					members = append(members, cmpName(tag, f.Name))
				}
			}
			documented := slices.Sorted(maps.Keys(schema.Properties))
			slices.Sort(members)
			if !slices.Equal(members, documented) {
				t.Errorf("%s has members %v, openapi.json documents %v: run go generate ./rest", typ.Name(), members, documented)
			}
		})
	}
	for name := range doc.Components.Schemas {
		if !checked[name] {
			t.Errorf("openapi.json has a schema %s this test does not hold to its type: add the type to the list", name)
		}
	}
}

func cmpName(tag, field string) string {
	if tag != "" {
		return tag
	}
	return field
}
