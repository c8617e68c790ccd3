package resolvers

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	vcore "github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// Limits of the gate (see docs/graphql.md).
const (
	// maxValidationWork bounds what gqlparser's validator may spend on one
	// document, in the gate's work units (about a nanosecond each on the
	// reference machine: see docs/reliability.md). The largest documents
	// any client of the schema sends cost a few percent of it.
	maxValidationWork = 3_000_000
	// maxSelections bounds the fields selected in one place (the merged
	// selection of one object: fragments expanded, repeats counted):
	// gqlgen's executor collects them for each object it returns with a
	// search of the fields collected so far, so an object costs the square
	// of its selections; with lists of up to 100 objects.
	maxSelections = 64
	// maxNameBytes bounds every name and alias: "did you mean" suggestions
	// compute edit distances to each name of the schema, and an error
	// repeats the name.
	maxNameBytes = 256
	// maxReportedErrors: a document with more validation errors is answered
	// with this many (graphql-js stops validating at 100 as well).
	maxReportedErrors = 100
	// maxCachedDocs bounds the parsed-query cache by what its documents
	// hold (docWeight), not by their number: 1000 documents of 10 000
	// tokens would hold gigabytes.
	maxCachedDocs = 16 << 20
)

// Work units of what gqlparser's validator does, measured on the reference
// machine (docs/reliability.md): each visited field, fragment, directive or
// value runs every rule's observers; comparing two fields that share a
// response name (OverlappingFieldsCanBeMerged) is about a tenth of that; a
// lookup by name in a list is a string comparison.
const (
	costVisit  = 500
	costPair   = 40
	costLookup = 5
	// costFragmentPair: comparing two fragments spread together records
	// the pair in two maps first.
	costFragmentPair = 200
	// costSuggestByte: with suggestions on, a name the schema does not have
	// is compared (edit distance) with each name it could have been.
	costSuggestByte = 100
)

// gate is where a GraphQL document starts, before gqlgen's executor sees
// it. gqlgen parses, validates with every rule of gqlparser, and only then
// runs extensions on the operation; some rules are super-linear (comparing
// every pair of fields that share a response name; walking every fragment
// from every operation and from each fragment definition again; looking up
// variables and fragments by name in lists), so a 110 KB query of one
// repeated field cost seconds of CPU before any limit ran. The gate:
//
//  1. parses the query (gqlparser's parser: linear, at most tokenLimit
//     tokens);
//  2. measures it in one walk with every fragment expanded, that stops as
//     soon as a limit is passed (so its own cost is bounded by the limits,
//     whatever the document): at most maxFields fields per operation, no
//     deeper than maxDepth (introspection fields aside), no __schema or
//     __type when introspection is off, names of at most maxNameBytes, and
//     an upper bound of the validator's work (see measure) of at most
//     maxValidationWork;
//  3. validates it (the same rules as the executor) and hands the result
//     to the executor through the query cache, so the executor neither
//     parses nor validates it again.
//
// A document already in the query cache skips all of it. The checks run
// for every operation and fragment of the document, used or not, as the
// validator walks them all.
type gate struct {
	schema *ast.Schema
	rules  func() *rules.Rules
	docs   *docCache
	limits shapeLimits
}

type shapeLimits struct {
	tokens, depth, fields, work, selections int
	introspection                           bool
	// known holds every name of the schema when the validator suggests
	// names (nil when it does not): an unknown name costs suggestions.
	known map[string]bool
}

// schemaNames is every name a document can use that the validator looks
// up in the schema: types, fields, arguments, enum values, directives.
func schemaNames(s *ast.Schema) map[string]bool {
	names := map[string]bool{"__typename": true, "__schema": true, "__type": true}
	for name, t := range s.Types {
		names[name] = true
		for _, f := range t.Fields {
			names[f.Name] = true
			for _, a := range f.Arguments {
				names[a.Name] = true
			}
		}
		for _, v := range t.EnumValues {
			names[v.Name] = true
		}
	}
	for name, d := range s.Directives {
		names[name] = true
		for _, a := range d.Arguments {
			names[a.Name] = true
		}
	}
	return names
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = (*gate)(nil)

func (*gate) ExtensionName() string                   { return "QueryGate" }
func (*gate) Validate(graphql.ExecutableSchema) error { return nil }

// gated is a document the gate has validated, for the executor's query
// cache lookup of the same request (docCache.Get).
type gated struct {
	query string
	doc   *ast.QueryDocument
}

const gatedExtension = "taskapi.gated"

func (g *gate) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if p.Query == "" {
		return nil // the executor answers "no operation provided"
	}
	if g.docs.cached(p.Query) {
		return nil
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, g.limits.tokens)
	if err != nil {
		var gqlErr *gqlerror.Error
		if !errors.As(err, &gqlErr) {
			gqlErr = gqlerror.Wrap(err)
		}
		errcode.Set(gqlErr, errcode.ParseFailed)
		return gqlErr
	}
	if len(doc.Operations) == 0 {
		return nil // the executor answers "no operation provided"
	}
	if _, gqlErr := g.limits.check(doc); gqlErr != nil {
		return gqlErr
	}
	if errs := validator.ValidateWithRules(g.schema, doc, g.rules()); len(errs) > 0 {
		for _, e := range errs {
			errcode.Set(e, errcode.ValidationFailed)
		}
		return errorList(errs)
	}
	graphql.GetOperationContext(ctx).Stats.SetExtension(gatedExtension, &gated{query: p.Query, doc: doc})
	g.docs.add(p.Query, doc)
	return nil
}

// errorList carries every validation error of a document out of an
// OperationParameterMutator, which gqlgen lets return one error:
// httpTransport answers them all (expandErrors).
func errorList(errs gqlerror.List) *gqlerror.Error {
	if len(errs) > maxReportedErrors {
		errs = errs[:maxReportedErrors]
	}
	first := *errs[0]
	first.Err = listError(errs)
	return &first
}

type listError gqlerror.List

func (l listError) Error() string { return gqlerror.List(l).Error() }

// expandErrors replaces an errorList by the errors it carries.
func expandErrors(errs gqlerror.List) gqlerror.List {
	if len(errs) == 1 {
		if l, ok := errs[0].Err.(listError); ok {
			return gqlerror.List(l)
		}
	}
	return errs
}

// validationRules is gqlparser's default rule set, with every rule that
// suggests names of the schema ("did you mean ...?") swapped for its
// variant without suggestions when suggestions are off. gqlgen's own
// switch (SetDisableSuggestion) swaps only two of the five.
func validationRules(suggestions bool) func() *rules.Rules {
	return func() *rules.Rules {
		r := rules.NewDefaultRules()
		if suggestions {
			return r
		}
		for _, rule := range []vcore.Rule{
			rules.FieldsOnCorrectTypeRuleWithoutSuggestions,
			rules.KnownArgumentNamesRuleWithoutSuggestions,
			rules.KnownTypeNamesRuleWithoutSuggestions,
			rules.ScalarLeafsRuleWithoutSuggestions,
			rules.ValuesOfCorrectTypeRuleWithoutSuggestions,
		} {
			r.RemoveRule(strings.TrimSuffix(rule.Name, "WithoutSuggestions"))
			r.AddRule(rule.Name, rule.RuleFunc)
		}
		return r
	}
}

// ---- measuring a document ----

// check measures doc against the limits: the work it counted, and nil or
// the error that refuses doc.
func (l shapeLimits) check(doc *ast.QueryDocument) (int, *gqlerror.Error) {
	m := measure{limits: l, fragments: make(map[string]*ast.FragmentDefinition, len(doc.Fragments))}
	spreads := 0
	for _, f := range doc.Fragments {
		if _, ok := m.fragments[f.Name]; !ok {
			m.fragments[f.Name] = f
		}
		m.name(f.Name, f.Position)
		m.schemaName(f.TypeCondition, f.Position)
		m.directives(f.Directives)
		spreads += countSpreads(f.SelectionSet)
	}
	// NoFragmentCycles looks each spread of a fragment up by name in the
	// list of fragments; OverlappingFieldsCanBeMerged compares each pair of
	// fragments spread together once.
	m.add(sat(costLookup*len(doc.Fragments)*spreads) + sat(costFragmentPair*len(doc.Fragments)*len(doc.Fragments)))
	for _, op := range doc.Operations {
		m.name(op.Name, op.Position)
		uses := m.variableUses
		m.directives(op.Directives)
		for _, v := range op.VariableDefinitions {
			m.name(v.Variable, v.Position)
			m.typ(v.Type)
			m.value(v.DefaultValue)
			m.directives(v.Directives)
		}
		m.root(op.SelectionSet, true)
		// Each variable used is looked up in the operation's definitions.
		m.add(costLookup * sat(len(op.VariableDefinitions)*(m.variableUses-uses)))
	}
	for _, f := range doc.Fragments {
		// The validator walks each fragment definition on its own too.
		m.root(f.SelectionSet, false)
	}
	return m.work, m.err
}

func countSpreads(set ast.SelectionSet) int {
	n := 0
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			n += countSpreads(sel.SelectionSet)
		case *ast.InlineFragment:
			n += countSpreads(sel.SelectionSet)
		case *ast.FragmentSpread:
			n++
		}
	}
	return n
}

// measure walks a document with fragments expanded, adding up an upper
// bound of the validator's work. The bound follows the validator's code:
//   - it visits every field, fragment spread, inline fragment, directive
//     and value once per operation and once more per fragment definition
//     (fragments expanded counts at least that);
//   - OverlappingFieldsCanBeMerged compares every pair of fields that
//     share a response path (siblings, or children of fields compared),
//     fragments expanded; each comparison also reads the first field's
//     sub-selection, compares the two fields' arguments pairwise, and pairs
//     their fragment spreads; the selection set of every inline fragment
//     is compared within again, so a pair counts once more per inline
//     fragment that holds both (weight below); and within each selection
//     set every pair of fragment spreads is looked at.
//
// The walk merges the fields of one response path into a group, as the
// rule does, and stops as soon as the work or a limit is passed, so what
// it costs itself is bounded by the limits too.
type measure struct {
	limits       shapeLimits
	fragments    map[string]*ast.FragmentDefinition
	work         int
	fields       int // fields of the current operation, fragments expanded
	variableUses int
	err          *gqlerror.Error
	worst        *group // the group of the most costly comparisons so far
	worstCost    int
}

// entry is a selection set to walk: an operation's, a fragment's, or the
// sub-selection of one occurrence of a field.
type entry struct {
	set    ast.SelectionSet
	weight int    // 1 + inline fragments around it, the most of any ancestor's
	chain  *chain // fragments being expanded around it
	intro  bool   // inside an introspection field: depth is not counted
}

// chain is the fragments being expanded around a selection, innermost
// first: a spread of one of them is a cycle (the validator refuses it) and
// is not expanded again.
type chain struct {
	name string
	next *chain
}

// occurrence is one place a field is selected, fragments expanded.
type occurrence struct {
	field  *ast.Field
	weight int
	chain  *chain
	intro  bool
	args   int // argument value nodes
}

// group is the occurrences of one response name in one merged selection.
type group struct {
	name string
	occ  []occurrence
}

// setShape is what the comparison of two fields reads of a sub-selection.
type setShape struct {
	fields, spreads int
}

func (m *measure) add(n int) {
	m.work += n
	if m.err == nil && m.work > m.limits.work {
		m.refuseWork()
	}
}

func (m *measure) refuseWork() {
	msg := "the query would cost too much to validate"
	if m.worst != nil && len(m.worst.occ) > 1 {
		msg += ": " + strconv.Quote(m.worst.name) + " is selected " + strconv.Itoa(len(m.worst.occ)) + " times in one place, fragments expanded"
	}
	m.err = gqlerror.Errorf("%s", msg)
	errcode.Set(m.err, CodeComplexityLimit)
}

func (m *measure) root(set ast.SelectionSet, operation bool) {
	if m.err != nil {
		return
	}
	m.fields = 0
	_, depth := m.level([]entry{{set: set, weight: 1}}, operation)
	if m.err == nil && operation && depth > m.limits.depth {
		m.err = gqlerror.Errorf("operation has depth %d, which exceeds the limit of %d", depth, m.limits.depth)
		errcode.Set(m.err, CodeDepthLimit)
	}
}

// level walks the selection sets of entries as one merged selection (the
// root's, or the sub-selections of one group's occurrences), then each
// group's sub-selections. It returns what the comparisons read of each
// entry and the depth below.
func (m *measure) level(entries []entry, operation bool) ([]setShape, int) {
	shapes := make([]setShape, len(entries))
	var groups []*group
	index := map[string]int{}
	for i, e := range entries {
		var spreadWeights int
		m.flatten(e.set, e, 0, &shapes[i], &spreadWeights, &groups, index, operation)
		// Every pair of spreads in the set, and again in each inline
		// fragment holding both.
		m.add(costLookup * shapes[i].spreads * spreadWeights)
		if m.err != nil {
			return shapes, 0
		}
	}
	if n := len(groups); n > 0 {
		selected := 0
		for _, g := range groups {
			selected += len(g.occ)
		}
		if selected > m.limits.selections {
			g := groups[0]
			for _, h := range groups {
				if len(h.occ) > len(g.occ) {
					g = h
				}
			}
			m.err = gqlerror.ErrorPosf(g.occ[0].field.Position, "%d fields are selected in one place (fragments expanded, %q %d times), more than the limit of %d", selected, g.name, len(g.occ), m.limits.selections)
			errcode.Set(m.err, CodeComplexityLimit)
			return shapes, 0
		}
	}
	depth := 0
	for _, g := range groups {
		children := make([]entry, len(g.occ))
		counted, nested := false, false
		for i, o := range g.occ {
			intro := o.intro || strings.HasPrefix(o.field.Name, "__")
			counted = counted || !intro
			children[i] = entry{set: o.field.SelectionSet, weight: o.weight, chain: o.chain, intro: intro}
			nested = nested || len(o.field.SelectionSet) > 0
		}
		var sub []setShape
		childDepth := 0
		if nested {
			sub, childDepth = m.level(children, operation)
			if m.err != nil {
				return shapes, 0
			}
		} else {
			sub = make([]setShape, len(g.occ))
		}
		if counted {
			depth = max(depth, 1+childDepth)
		}
		if len(g.occ) > 1 {
			m.compare(g, sub)
			if m.err != nil {
				return shapes, 0
			}
		}
	}
	return shapes, depth
}

// compare adds the cost of comparing every pair of g's occurrences: for
// the pair (i, j), at most min(w_i, w_j) comparisons, each reading
// 1 + s_i + p_i + p_j and pairing p_i·p_j spreads and a_i·a_j arguments
// (s: sub-fields, p: sub-spreads, a: argument values). Bounded by
// k·Σw(1+s+2p) + Σw·Σ(1+s+2p) + Σw(p+a)·Σ(p+a), which is linear to add up.
func (m *measure) compare(g *group, sub []setShape) {
	k := len(g.occ)
	var sw, sa, swa, sb, swb int
	for i, o := range g.occ {
		a := 1 + sub[i].fields + 2*sub[i].spreads
		b := sub[i].spreads + o.args
		sw += o.weight
		sa += a
		swa += o.weight * a
		sb += b
		swb += o.weight * b
	}
	cost := costPair * sat(sat(k*swa+sw*sa)+sat(swb*sb))
	if cost > m.worstCost {
		m.worst, m.worstCost = g, cost
	}
	m.add(cost)
}

// sat keeps a product of counts from overflowing.
func sat(n int) int {
	if n < 0 || n > 1<<40 {
		return 1 << 40
	}
	return n
}

// flatten adds the fields of set (inline fragments and fragment spreads
// expanded) to groups, and counts what the comparisons read of it.
func (m *measure) flatten(set ast.SelectionSet, e entry, inline int, shape *setShape, spreadWeights *int, groups *[]*group, index map[string]int, operation bool) {
	for _, sel := range set {
		if m.err != nil {
			return
		}
		// Visited once, and collected again for each inline fragment
		// around it (each is a selection set compared within).
		m.add(costVisit + 2*costLookup*inline)
		switch sel := sel.(type) {
		case *ast.Field:
			m.name(sel.Alias, sel.Position)
			m.schemaName(sel.Name, sel.Position)
			if !m.limits.introspection && (sel.Name == "__schema" || sel.Name == "__type") {
				m.err = gqlerror.ErrorPosf(sel.Position, "introspection is disabled on this server")
				errcode.Set(m.err, errcode.ValidationFailed)
				return
			}
			if operation {
				m.fields++
				if m.fields > m.limits.fields {
					m.err = gqlerror.Errorf("operation selects over %d fields once fragments are expanded, more than the limit of %d", m.limits.fields, m.limits.fields)
					errcode.Set(m.err, CodeComplexityLimit)
					return
				}
			}
			args := 0
			for _, a := range sel.Arguments {
				m.schemaName(a.Name, a.Position)
				args += 1 + m.value(a.Value)
			}
			m.directives(sel.Directives)
			shape.fields++
			name := sel.Alias
			if name == "" {
				name = sel.Name
			}
			i, ok := index[name]
			if !ok {
				i = len(*groups)
				index[name] = i
				*groups = append(*groups, &group{name: name})
			}
			g := (*groups)[i]
			g.occ = append(g.occ, occurrence{field: sel, weight: max(e.weight, 1+inline), chain: e.chain, intro: e.intro, args: args})
		case *ast.InlineFragment:
			m.schemaName(sel.TypeCondition, sel.Position)
			m.directives(sel.Directives)
			m.flatten(sel.SelectionSet, e, inline+1, shape, spreadWeights, groups, index, operation)
		case *ast.FragmentSpread:
			m.name(sel.Name, sel.Position)
			m.directives(sel.Directives)
			shape.spreads++
			*spreadWeights += 1 + inline
			def := m.fragments[sel.Name]
			if def == nil {
				continue // KnownFragmentNames refuses it
			}
			cycle := false
			for c := e.chain; c != nil && !cycle; c = c.next {
				m.add(costLookup)
				cycle = c.name == sel.Name
			}
			if cycle {
				continue // NoFragmentCycles refuses it
			}
			inner := e
			inner.chain = &chain{name: sel.Name, next: e.chain}
			m.flatten(def.SelectionSet, inner, inline, shape, spreadWeights, groups, index, operation)
		}
	}
}

// directives counts directives (the validator visits each, and their
// arguments' values).
func (m *measure) directives(list ast.DirectiveList) {
	for _, d := range list {
		m.add(costVisit)
		m.schemaName(d.Name, d.Position)
		for _, a := range d.Arguments {
			m.schemaName(a.Name, a.Position)
			m.value(a.Value)
		}
	}
}

// value counts the nodes of an argument's value (the validator visits
// each) and returns how many.
func (m *measure) value(v *ast.Value) int {
	if v == nil {
		return 0
	}
	n := 1
	m.add(costVisit)
	switch v.Kind {
	case ast.Variable:
		m.variableUses++
		m.name(v.Raw, v.Position)
	case ast.EnumValue:
		m.schemaName(v.Raw, v.Position)
	}
	for _, c := range v.Children {
		if m.err != nil {
			return n
		}
		m.schemaName(c.Name, c.Position)
		n += m.value(c.Value)
	}
	return n
}

func (m *measure) typ(t *ast.Type) {
	for ; t != nil; t = t.Elem {
		m.schemaName(t.NamedType, t.Position)
	}
}

// schemaName is name for a name the validator looks up in the schema.
func (m *measure) schemaName(s string, pos *ast.Position) {
	m.name(s, pos)
	if m.limits.known != nil && s != "" && !m.limits.known[s] {
		m.add(costSuggestByte * len(s))
	}
}

// name refuses a name longer than maxNameBytes.
func (m *measure) name(s string, pos *ast.Position) {
	if len(s) > maxNameBytes && m.err == nil {
		m.err = gqlerror.ErrorPosf(pos, "a name is longer than %d bytes", maxNameBytes)
		errcode.Set(m.err, errcode.ValidationFailed)
	}
}

// ---- the parsed-query cache ----

// docCache is the executor's parsed-query cache: documents that passed the
// gate and validated, by query text, least recently used first out, bounded
// by the total of their docWeight (an estimate of the memory each holds).
// It also answers, for the request in ctx, the document the gate has just
// validated, whether it was kept or not.
type docCache struct {
	mu     sync.Mutex
	lru    *simplelru.LRU[string, cachedDoc]
	weight int
	max    int
}

type cachedDoc struct {
	doc    *ast.QueryDocument
	weight int
}

var _ graphql.Cache[*ast.QueryDocument] = (*docCache)(nil)

func newDocCache(maxWeight int) *docCache {
	c := &docCache{max: maxWeight}
	// The count is bounded by the weight; the LRU's own size only has to
	// be larger than any count the weight allows.
	c.lru, _ = simplelru.NewLRU[string, cachedDoc](maxWeight/docNodeBytes+1, func(_ string, v cachedDoc) { c.weight -= v.weight })
	return c
}

// Get returns the document for query: the one the gate validated for this
// request, or a cached one.
func (c *docCache) Get(ctx context.Context, query string) (*ast.QueryDocument, bool) {
	if graphql.HasOperationContext(ctx) {
		if g, ok := graphql.GetOperationContext(ctx).Stats.GetExtension(gatedExtension).(*gated); ok && g.query == query {
			return g.doc, true
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.lru.Get(query)
	return v.doc, ok
}

func (c *docCache) cached(query string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Contains(query)
}

// Add keeps doc, evicting the least recently used documents to make room.
// The executor calls it after validating a document itself, which only
// happens when the gate's document was evicted in between.
func (c *docCache) Add(_ context.Context, query string, doc *ast.QueryDocument) { c.add(query, doc) }

func (c *docCache) add(query string, doc *ast.QueryDocument) {
	w := docWeight(query, doc)
	if w > c.max/16 {
		return // one document may take a sixteenth of the cache at most
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lru.Contains(query) {
		return
	}
	for c.weight+w > c.max {
		if _, _, ok := c.lru.RemoveOldest(); !ok {
			break
		}
	}
	c.lru.Add(query, cachedDoc{doc: doc, weight: w})
	c.weight += w
}

// docNodeBytes is about what gqlparser allocates per node of a document
// (measured: 10 000 fields take 2.7 MB).
const docNodeBytes = 300

// docWeight estimates the bytes doc holds: its text (names and strings
// point into it) and its nodes.
func docWeight(query string, doc *ast.QueryDocument) int {
	nodes := 0
	var set func(ast.SelectionSet)
	var value func(*ast.Value)
	value = func(v *ast.Value) {
		if v == nil {
			return
		}
		nodes++
		for _, c := range v.Children {
			value(c.Value)
		}
	}
	dirs := func(ds ast.DirectiveList) {
		for _, d := range ds {
			nodes++
			for _, a := range d.Arguments {
				value(a.Value)
			}
		}
	}
	set = func(s ast.SelectionSet) {
		for _, sel := range s {
			nodes++
			switch sel := sel.(type) {
			case *ast.Field:
				for _, a := range sel.Arguments {
					value(a.Value)
				}
				dirs(sel.Directives)
				set(sel.SelectionSet)
			case *ast.InlineFragment:
				dirs(sel.Directives)
				set(sel.SelectionSet)
			case *ast.FragmentSpread:
				dirs(sel.Directives)
			}
		}
	}
	for _, op := range doc.Operations {
		nodes += 1 + len(op.VariableDefinitions)
		dirs(op.Directives)
		set(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		nodes++
		dirs(f.Directives)
		set(f.SelectionSet)
	}
	return len(query) + docNodeBytes*nodes
}
