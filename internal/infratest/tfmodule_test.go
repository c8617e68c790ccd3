package infratest_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// repoRoot is the repository's root directory (two levels above this file).
func repoRoot(tb testing.TB) string {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("cannot locate the test file")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// tfModule is a parsed Terraform module with just enough of Terraform's
// evaluation to check it offline: variables take their defaults (or the
// values a test gives), locals are evaluated, and every attribute of a
// resource or data source that the module references is either the literal
// value its block assigns or a placeholder string "<type.name.attr>" (what
// AWS computes at apply). Expressions that cannot be evaluated (unknown
// functions, count-dependent values) are unknown.
type tfModule struct {
	blocks []*hclsyntax.Block
	ctx    *hcl.EvalContext
}

// loadModule parses every .tf file of dir and evaluates it with vars
// overriding variable defaults.
func loadModule(tb testing.TB, dir string, vars map[string]cty.Value) *tfModule {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no .tf files in %s (%v)", dir, err)
	}
	parser := hclparse.NewParser()
	m := &tfModule{}
	for _, p := range paths {
		f, diags := parser.ParseHCLFile(p)
		if diags.HasErrors() {
			tb.Fatalf("parsing %s: %s", p, diags.Error())
		}
		m.blocks = append(m.blocks, f.Body.(*hclsyntax.Body).Blocks...)
	}

	m.ctx = &hcl.EvalContext{Variables: map[string]cty.Value{}, Functions: tfFunctions()}
	m.ctx.Variables["var"] = m.variables(tb, vars)
	m.ctx.Variables["local"] = cty.EmptyObjectVal
	refs := m.referencedAttrs()
	// Locals may use resources and resources may use locals: a few rounds
	// reach the fixed point for any sane module.
	for range 4 {
		m.buildResources(refs)
		m.buildLocals()
	}
	return m
}

func (m *tfModule) variables(tb testing.TB, vars map[string]cty.Value) cty.Value {
	tb.Helper()
	out := map[string]cty.Value{}
	for _, b := range m.find("variable") {
		name := b.Labels[0]
		ty := cty.DynamicPseudoType
		if a, ok := b.Body.Attributes["type"]; ok {
			t, diags := typeexpr.TypeConstraint(a.Expr)
			if diags.HasErrors() {
				tb.Fatalf("variable %s: bad type: %s", name, diags.Error())
			}
			ty = t
		}
		v, given := vars[name]
		if !given {
			a, ok := b.Body.Attributes["default"]
			if !ok {
				tb.Fatalf("variable %s has no default: the test must give a value", name)
			}
			var diags hcl.Diagnostics
			if v, diags = a.Expr.Value(nil); diags.HasErrors() {
				tb.Fatalf("variable %s: default: %s", name, diags.Error())
			}
		}
		cv, err := convert.Convert(v, ty)
		if err != nil {
			tb.Fatalf("variable %s: value %#v does not fit its type: %v", name, v, err)
		}
		out[name] = cv
	}
	for name := range vars {
		if _, ok := out[name]; !ok {
			tb.Fatalf("the test sets variable %s, which the module does not declare", name)
		}
	}
	return cty.ObjectVal(out)
}

// referencedAttrs lists, per "type.name" (and "data.type.name"), the
// attributes some expression of the module reads.
func (m *tfModule) referencedAttrs() map[string]map[string]bool {
	refs := map[string]map[string]bool{}
	add := func(key, attr string) {
		if refs[key] == nil {
			refs[key] = map[string]bool{}
		}
		refs[key][attr] = true
	}
	walkAttrs(m.blocks, func(a *hclsyntax.Attribute) {
		// aws_x.y[each_key].attr: a dynamic index splits the traversal,
		// and Variables() sees aws_x.y alone.
		_ = hclsyntax.VisitAll(a.Expr, func(n hclsyntax.Node) hcl.Diagnostics {
			rel, ok := n.(*hclsyntax.RelativeTraversalExpr)
			if !ok || len(rel.Traversal) == 0 {
				return nil
			}
			idx, ok := rel.Source.(*hclsyntax.IndexExpr)
			if !ok {
				return nil
			}
			coll, ok := idx.Collection.(*hclsyntax.ScopeTraversalExpr)
			step, isAttr := rel.Traversal[0].(hcl.TraverseAttr)
			if names := traversalNames(coll.Traversal); ok && isAttr && len(names) == 2 && !builtinRoots[names[0]] && names[0] != "data" {
				add(strings.Join(names, "."), step.Name)
			}
			return nil
		})
		for _, tr := range a.Expr.Variables() {
			names := traversalNames(tr)
			switch {
			case len(names) == 0:
			case names[0] == "data" && len(names) >= 4:
				add(strings.Join(names[:3], "."), names[3])
			case names[0] != "data" && !builtinRoots[names[0]] && len(names) >= 3:
				add(strings.Join(names[:2], "."), names[2])
			}
		}
	})
	return refs
}

// builtinRoots are the reference roots that name no resource type.
var builtinRoots = map[string]bool{
	"var": true, "local": true, "count": true, "each": true, "path": true,
	"self": true, "terraform": true, "module": true,
}

// buildResources sets the "resource type" and "data" roots of the context.
func (m *tfModule) buildResources(refs map[string]map[string]bool) {
	types := map[string]map[string]cty.Value{}
	data := map[string]map[string]cty.Value{}
	for _, b := range m.blocks {
		if (b.Type != "resource" && b.Type != "data") || len(b.Labels) != 2 {
			continue
		}
		key := b.Labels[0] + "." + b.Labels[1]
		if b.Type == "data" {
			key = "data." + key
		}
		attrs := map[string]cty.Value{}
		counted := b.Body.Attributes["count"] != nil
		forEach := b.Body.Attributes["for_each"] != nil
		for name := range refs[key] {
			attrs[name] = cty.StringVal("<" + key + "." + name + ">")
		}
		if !counted && !forEach {
			for name, a := range b.Body.Attributes {
				if v, diags := a.Expr.Value(m.ctx); !diags.HasErrors() && v.IsWhollyKnown() {
					attrs[name] = v
				}
			}
		}
		obj := cty.ObjectVal(attrs)
		if forEach {
			// An object by instance key, as Terraform makes it; unknown
			// keys get two placeholders.
			byKey := map[string]cty.Value{"<key 1>": obj, "<key 2>": obj}
			if v := m.eval(b.Body.Attributes["for_each"].Expr); v.IsWhollyKnown() && !v.IsNull() && v.CanIterateElements() {
				byKey = map[string]cty.Value{}
				for it := v.ElementIterator(); it.Next(); {
					k, e := it.Element()
					if v.Type().IsSetType() {
						k = e
					}
					if k.Type() == cty.String {
						byKey[k.AsString()] = obj
					}
				}
			}
			obj = cty.ObjectVal(byKey)
		}
		if counted {
			n := 2 // unknown count: any number will do for a placeholder
			if v := m.eval(b.Body.Attributes["count"].Expr); v.IsKnown() && !v.IsNull() && v.Type() == cty.Number {
				i, _ := v.AsBigFloat().Int64()
				n = int(i)
			}
			elems := make([]cty.Value, n)
			for i := range elems {
				elems[i] = obj
			}
			obj = cty.TupleVal(elems)
		}
		root := types
		if b.Type == "data" {
			root = data
		}
		if root[b.Labels[0]] == nil {
			root[b.Labels[0]] = map[string]cty.Value{}
		}
		root[b.Labels[0]][b.Labels[1]] = obj
	}
	for typ, byName := range types {
		m.ctx.Variables[typ] = cty.ObjectVal(byName)
	}
	dataRoot := map[string]cty.Value{}
	for typ, byName := range data {
		dataRoot[typ] = cty.ObjectVal(byName)
	}
	m.ctx.Variables["data"] = cty.ObjectVal(dataRoot)
}

func (m *tfModule) buildLocals() {
	locals := map[string]cty.Value{}
	for _, b := range m.find("locals") {
		for name, a := range b.Body.Attributes {
			locals[name] = m.eval(a.Expr)
		}
	}
	m.ctx.Variables["local"] = cty.ObjectVal(locals)
}

// eval evaluates expr in the module's context; what cannot be evaluated is
// unknown.
func (m *tfModule) eval(expr hcl.Expression) cty.Value {
	v, diags := expr.Value(m.ctx)
	if diags.HasErrors() {
		return cty.DynamicVal
	}
	return v
}

// find returns the top-level blocks of a type whose first labels are labels.
func (m *tfModule) find(typ string, labels ...string) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	for _, b := range m.blocks {
		if b.Type != typ || len(b.Labels) < len(labels) {
			continue
		}
		match := true
		for i, l := range labels {
			if b.Labels[i] != l {
				match = false
			}
		}
		if match {
			out = append(out, b)
		}
	}
	return out
}

// resource returns the block `resource "typ" "name"`.
func (m *tfModule) resource(tb testing.TB, typ, name string) *hclsyntax.Block {
	tb.Helper()
	bs := m.find("resource", typ, name)
	if len(bs) != 1 {
		tb.Fatalf("terraform/ has %d resource %q %q blocks, want 1", len(bs), typ, name)
	}
	return bs[0]
}

// dataSource returns the block `data "typ" "name"`.
func (m *tfModule) dataSource(tb testing.TB, typ, name string) *hclsyntax.Block {
	tb.Helper()
	bs := m.find("data", typ, name)
	if len(bs) != 1 {
		tb.Fatalf("terraform/ has %d data %q %q blocks, want 1", len(bs), typ, name)
	}
	return bs[0]
}

// attr is the expression of body's attribute name; the test fails when it
// is absent.
func attr(tb testing.TB, body *hclsyntax.Body, name string) hcl.Expression {
	tb.Helper()
	a, ok := body.Attributes[name]
	if !ok {
		tb.Fatalf("%s: attribute %q is missing", where(body), name)
	}
	return a.Expr
}

// known evaluates expr, failing the test when it is not wholly known.
func (m *tfModule) known(tb testing.TB, expr hcl.Expression, what string) cty.Value {
	tb.Helper()
	v, diags := expr.Value(m.ctx)
	if diags.HasErrors() {
		tb.Fatalf("%s: cannot evaluate: %s", what, diags.Error())
	}
	if !v.IsWhollyKnown() {
		tb.Fatalf("%s: value is not known without AWS", what)
	}
	return v
}

// str is the string value of body's attribute name.
func (m *tfModule) str(tb testing.TB, body *hclsyntax.Body, name string) string {
	tb.Helper()
	v := m.known(tb, attr(tb, body, name), where(body)+"."+name)
	s, err := convert.Convert(v, cty.String)
	if err != nil || s.IsNull() {
		tb.Fatalf("%s.%s = %#v is not a string", where(body), name, v)
	}
	return s.AsString()
}

// boolean is the bool value of body's attribute name.
func (m *tfModule) boolean(tb testing.TB, body *hclsyntax.Body, name string) bool {
	tb.Helper()
	v := m.known(tb, attr(tb, body, name), where(body)+"."+name)
	if v.Type() != cty.Bool || v.IsNull() {
		tb.Fatalf("%s.%s = %#v is not a bool", where(body), name, v)
	}
	return v.True()
}

// strList is the list-of-strings value of body's attribute name.
func (m *tfModule) strList(tb testing.TB, body *hclsyntax.Body, name string) []string {
	tb.Helper()
	return m.stringList(tb, attr(tb, body, name), where(body)+"."+name)
}

func (m *tfModule) stringList(tb testing.TB, expr hcl.Expression, what string) []string {
	tb.Helper()
	v := m.known(tb, expr, what)
	lv, err := convert.Convert(v, cty.List(cty.String))
	if err != nil {
		tb.Fatalf("%s = %#v is not a list of strings", what, v)
	}
	var out []string
	for _, e := range lv.AsValueSlice() {
		out = append(out, e.AsString())
	}
	return out
}

// stringMap is the map-of-strings value of expr.
func (m *tfModule) stringMap(tb testing.TB, expr hcl.Expression, what string) map[string]string {
	tb.Helper()
	v := m.known(tb, expr, what)
	mv, err := convert.Convert(v, cty.Map(cty.String))
	if err != nil {
		tb.Fatalf("%s = %#v is not a map of strings: %v", what, v, err)
	}
	out := map[string]string{}
	for k, e := range mv.AsValueMap() {
		out[k] = e.AsString()
	}
	return out
}

// nested returns body's nested blocks of a type.
func nested(body *hclsyntax.Body, typ string) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	for _, b := range body.Blocks {
		if b.Type == typ {
			out = append(out, b)
		}
	}
	return out
}

// one returns body's only nested block of a type.
func one(tb testing.TB, body *hclsyntax.Body, typ string) *hclsyntax.Block {
	tb.Helper()
	bs := nested(body, typ)
	if len(bs) != 1 {
		tb.Fatalf("%s has %d %q blocks, want 1", where(body), len(bs), typ)
	}
	return bs[0]
}

// refs renders the references of expr, e.g. "aws_dynamodb_table.users.name".
func refs(expr hcl.Expression) []string {
	var out []string
	for _, tr := range expr.Variables() {
		out = append(out, strings.Join(traversalNames(tr), "."))
	}
	sort.Strings(out)
	return out
}

// traversalNames is a traversal's root and attribute names (indexes
// dropped): aws_subnet.private[0].id -> [aws_subnet private id].
func traversalNames(tr hcl.Traversal) []string {
	var names []string
	for _, step := range tr {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			names = append(names, s.Name)
		case hcl.TraverseAttr:
			names = append(names, s.Name)
		}
	}
	return names
}

// walkAttrs calls f for every attribute of blocks, nested ones included.
func walkAttrs(blocks []*hclsyntax.Block, f func(*hclsyntax.Attribute)) {
	for _, b := range blocks {
		for _, a := range b.Body.Attributes {
			f(a)
		}
		walkAttrs(b.Body.Blocks, f)
	}
}

// where names a body's position for failure messages.
func where(body *hclsyntax.Body) string {
	r := body.SrcRange
	return fmt.Sprintf("%s:%d", filepath.Base(r.Filename), r.Start.Line)
}

// tfFunctions are the Terraform functions the module's values and its
// variables' validations use.
func tfFunctions() map[string]function.Function {
	return map[string]function.Function{
		"alltrue":    allTrueFunc,
		"can":        tryfunc.CanFunc,
		"ceil":       stdlib.CeilFunc,
		"regex":      stdlib.RegexFunc,
		"timeadd":    stdlib.TimeAddFunc,
		"timecmp":    timeCmpFunc,
		"try":        tryfunc.TryFunc,
		"coalesce":   stdlib.CoalesceFunc,
		"concat":     stdlib.ConcatFunc,
		"contains":   stdlib.ContainsFunc,
		"distinct":   stdlib.DistinctFunc,
		"format":     stdlib.FormatFunc,
		"join":       stdlib.JoinFunc,
		"jsonencode": stdlib.JSONEncodeFunc,
		"length":     stdlib.LengthFunc,
		"lower":      stdlib.LowerFunc,
		"merge":      stdlib.MergeFunc,
		"range":      stdlib.RangeFunc,
		"replace":    stdlib.ReplaceFunc,
		"slice":      stdlib.SliceFunc,
		"sort":       stdlib.SortFunc,
		"split":      stdlib.SplitFunc,
		"tobool":     stdlib.MakeToFunc(cty.Bool),
		"tonumber":   stdlib.MakeToFunc(cty.Number),
		"toset":      stdlib.MakeToFunc(cty.Set(cty.String)),
		"tostring":   stdlib.MakeToFunc(cty.String),
		"upper":      stdlib.UpperFunc,
	}
}

// allTrueFunc is Terraform's alltrue: whether every element is true.
var allTrueFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "list", Type: cty.List(cty.Bool)}},
	Type:   function.StaticReturnType(cty.Bool),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		for _, v := range args[0].AsValueSlice() {
			if v.IsNull() || !v.True() {
				return cty.False, nil
			}
		}
		return cty.True, nil
	},
})

// timeCmpFunc is Terraform's timecmp: -1, 0 or 1 as RFC 3339 timestamp a
// is before, equal to or after b.
var timeCmpFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "a", Type: cty.String}, {Name: "b", Type: cty.String}},
	Type:   function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		a, err := time.Parse(time.RFC3339, args[0].AsString())
		if err != nil {
			return cty.NilVal, err
		}
		b, err := time.Parse(time.RFC3339, args[1].AsString())
		if err != nil {
			return cty.NilVal, err
		}
		return cty.NumberIntVal(int64(a.Compare(b))), nil
	},
})

// validates reports whether every validation block of variable name holds
// in m (loaded with the value under test).
func (m *tfModule) validates(tb testing.TB, name string) bool {
	tb.Helper()
	bs := m.find("variable", name)
	if len(bs) != 1 {
		tb.Fatalf("no variable %s", name)
	}
	vs := nested(bs[0].Body, "validation")
	if len(vs) == 0 {
		tb.Fatalf("variable %s has no validation", name)
	}
	for _, v := range vs {
		ok, diags := attr(tb, v.Body, "condition").Value(m.ctx)
		if diags.HasErrors() || !ok.IsKnown() || ok.Type() != cty.Bool {
			tb.Fatalf("variable %s: validation condition does not evaluate to a bool: %s", name, diags.Error())
		}
		if ok.False() {
			return false
		}
	}
	return true
}

// readFile returns a repository file's content.
func readFile(tb testing.TB, rel string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(tb), rel))
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}
