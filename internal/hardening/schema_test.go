package hardening_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// TestTheAuthBatteryCoversEveryGuardedRootField derives from
// schema.graphqls what protectedOperations must hold: every root field with
// @auth or @hasRole is called by one of its GraphQL operations, so the
// bad-token and user-on-admin-route batteries reach a field the moment it
// is added (or this fails).
func TestTheAuthBatteryCoversEveryGuardedRootField(t *testing.T) {
	src, err := os.ReadFile("../../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	schema := gqlparser.MustLoadSchema(&ast.Source{Name: "schema.graphqls", Input: string(src)})
	called := map[string]bool{}
	for _, o := range protectedOperations() {
		if o.api == "REST" {
			continue
		}
		q, _ := o.gql("00000000-0000-7000-8000-000000000000", "VAH1")
		doc, err := parser.ParseQuery(&ast.Source{Input: q})
		if err != nil {
			t.Fatalf("operation %q does not parse: %v", o.name, err)
		}
		for _, op := range doc.Operations {
			root := "Query"
			switch op.Operation {
			case ast.Mutation:
				root = "Mutation"
			case ast.Subscription:
				root = "Subscription"
			}
			for _, sel := range op.SelectionSet {
				if f, ok := sel.(*ast.Field); ok {
					called[root+"."+f.Name] = true
				}
			}
		}
	}
	var missing []string
	for _, root := range []*ast.Definition{schema.Query, schema.Mutation, schema.Subscription} {
		if root == nil {
			continue
		}
		for _, f := range root.Fields {
			guarded := f.Directives.ForName("auth") != nil || f.Directives.ForName("hasRole") != nil
			if guarded && !strings.HasPrefix(f.Name, "__") && !called[root.Name+"."+f.Name] {
				missing = append(missing, root.Name+"."+f.Name)
			}
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Fatalf("guarded root fields no operation of protectedOperations (auth_test.go) calls: %s", strings.Join(missing, ", "))
	}
}
