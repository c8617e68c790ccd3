package resolvers

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// The safety nets a new root field cannot slip past: each is derived from
// schema.graphqls, so a field added there and forgotten here fails.

func loadSchema(t *testing.T) *ast.Schema {
	t.Helper()
	src, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	return gqlparser.MustLoadSchema(&ast.Source{Name: "schema.graphqls", Input: string(src)})
}

// rootFields lists "Type.field" for every field of the root types.
func rootFields(s *ast.Schema) []*ast.FieldDefinition {
	var out []*ast.FieldDefinition
	for _, root := range []*ast.Definition{s.Query, s.Mutation, s.Subscription} {
		if root == nil {
			continue
		}
		for _, f := range root.Fields {
			if !strings.HasPrefix(f.Name, "__") {
				out = append(out, f)
			}
		}
	}
	return out
}

func rootName(s *ast.Schema, f *ast.FieldDefinition) string {
	for _, root := range []*ast.Definition{s.Query, s.Mutation, s.Subscription} {
		if root != nil && root.Fields.ForName(f.Name) == f {
			return root.Name + "." + f.Name
		}
	}
	return f.Name
}

func TestEveryRootFieldHasAnAccessDecision(t *testing.T) {
	s := loadSchema(t)
	for _, f := range rootFields(s) {
		name := rootName(s, f)
		guarded := f.Directives.ForName("auth") != nil || f.Directives.ForName("hasRole") != nil
		public := slices.Contains(publicFields, name)
		switch {
		case guarded && public:
			t.Errorf("%s is guarded and listed in publicFields: pick one", name)
		case !guarded && !public:
			t.Errorf("%s has neither @auth nor @hasRole and is not in publicFields (resolvers/directives.go)", name)
		}
	}
	for _, name := range publicFields {
		if !slices.ContainsFunc(rootFields(s), func(f *ast.FieldDefinition) bool { return rootName(s, f) == name }) {
			t.Errorf("publicFields names %s, which the schema does not have", name)
		}
	}
}

func TestEveryRootFieldHasACost(t *testing.T) {
	s := loadSchema(t)
	c := reflect.ValueOf(costs())
	priced := func(typ, field string) bool {
		group := c.FieldByName(typ)
		if !group.IsValid() {
			return false
		}
		fn := group.FieldByNameFunc(func(n string) bool { return strings.EqualFold(n, field) })
		return fn.IsValid() && !fn.IsNil()
	}
	for _, f := range rootFields(s) {
		name := rootName(s, f)
		typ, field, _ := strings.Cut(name, ".")
		custom, flat := priced(typ, field), slices.Contains(flatCost, name)
		switch {
		case custom && flat:
			t.Errorf("%s has a cost in costs() and is listed in flatCost: pick one", name)
		case !custom && !flat:
			t.Errorf("%s has no cost decision: price it in costs() or list it in flatCost (resolvers/handler.go)", name)
		}
	}
}
