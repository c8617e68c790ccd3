package resolvers

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/taskapi/taskapi/graph"
)

// introspectionQuery is graphql-js's getIntrospectionQuery(), what
// GraphiQL sends when it opens.
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}`

// apolloQuery is what Apollo Client sends for a screen built of colocated
// fragments: __typename added to every selection, ids repeated.
const apolloQuery = `query Dashboard($first: Int, $after: String, $status: TaskStatus) {
  me { id __typename ...UserCard ...UserStats }
  pending: tasks(status: PENDING, first: 5) { ...TaskList __typename }
  tasks(status: $status, first: $first, after: $after) { ...TaskList __typename }
}
fragment UserCard on User { id __typename username email role activationStatus createdAt }
fragment UserStats on User { id __typename stats { __typename pending ongoing complete total } }
fragment TaskList on TaskConnection {
  __typename totalCount
  pageInfo { __typename hasNextPage endCursor }
  edges { __typename cursor node { id __typename ...TaskRow ...TaskDetail } }
}
fragment TaskRow on Task { id __typename title status }
fragment TaskDetail on Task { id __typename title description status createdAt updatedAt }`

func testLimits(introspection bool) shapeLimits {
	l := shapeLimits{tokens: parserTokenLimit, depth: DefaultMaxDepth, fields: maxFields, work: maxValidationWork, selections: maxSelections, introspection: introspection}
	if introspection {
		es := graph.NewExecutableSchema(graph.Config{Resolvers: &resolver{}})
		l.known = schemaNames(es.Schema())
	}
	return l
}

func parse(t testing.TB, q string) *ast.QueryDocument {
	t.Helper()
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: q}, parserTokenLimit)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc
}

// work is what the gate counts for q, or -1 when it refuses it.
func work(t testing.TB, l shapeLimits, q string) int {
	t.Helper()
	w, err := l.check(parse(t, q))
	if err != nil {
		return -1
	}
	return w
}

// The queries real clients send cost a few percent of the budget, with
// and without suggestions.
func TestGateLetsRealQueriesThrough(t *testing.T) {
	for _, c := range []struct {
		name, query   string
		introspection bool
	}{
		{"GraphiQLIntrospection", introspectionQuery, true},
		{"ApolloDashboard", apolloQuery, false},
		{"ApolloDashboardWithSuggestions", apolloQuery, true},
		{"FullTaskPage", `{ tasks(first: 100) { edges { cursor node { id title description status createdAt updatedAt } } pageInfo { hasNextPage endCursor } totalCount } }`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := work(t, testLimits(c.introspection), c.query)
			t.Logf("work %d, %.1f%% of the budget", w, 100*float64(w)/maxValidationWork)
			if w < 0 || w > maxValidationWork/10 {
				t.Fatalf("work %d, more than a tenth of the budget (%d)", w, maxValidationWork)
			}
		})
	}
}

// For each kind of document that makes gqlparser's validator super-linear,
// the gate lets a small one through and refuses a larger one: the largest
// of its kind the gate lets through (found by bisection) validates in
// milliseconds. The bound on that time is generous (the best of five runs,
// ten times what it takes on a loaded machine), so it never fails on a
// slow one; what it catches is a gate that lets seconds of work through.
func TestGateRefusesEachSuperLinearShape(t *testing.T) {
	same := func(n int, s string) string { return strings.Repeat(s+" ", n) }
	list := func(n int, f func(i int) string) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(f(i) + " ")
		}
		return b.String()
	}
	frags := func(n int, body func(i int) string) string {
		return list(n, func(i int) string { return fmt.Sprintf("fragment F%d on Query { %s }", i, body(i)) })
	}
	shapes := []struct {
		name string
		doc  func(n int) string
		// refusedBy is a size the gate must refuse; the attack as found
		// used 9 990 identical fields.
		refusedBy int
	}{
		{"IdenticalFields", func(n int) string { return "{ " + same(n, "__typename") + "}" }, 65},
		{"IdenticalNestedFields", func(n int) string { return "{ " + same(n, "me { "+same(n, "id")+"}") + "}" }, 30},
		{"IdenticalFieldsWithArguments", func(n int) string { return "{ " + same(n, `tasks(first: 1, after: "x") { totalCount }`) + "}" }, 65},
		{"SameFragmentSpread", func(n int) string { return "{ " + same(n, "...F") + "} fragment F on Query { __typename }" }, 200},
		{"DistinctFragments", func(n int) string {
			return "{ " + list(n, func(i int) string { return fmt.Sprintf("...F%d", i) }) + "} " + frags(n, func(int) string { return "__typename" })
		}, 200},
		{"FragmentChain", func(n int) string {
			return "{ ...F0 } " + frags(n, func(i int) string { return fmt.Sprintf("a%d: __typename ...F%d", i%60, i+1) }) + fmt.Sprintf("fragment F%d on Query { __typename }", n)
		}, 200},
		{"FragmentsOfFragments", func(n int) string {
			return "{ ...F0 } " + frags(n, func(i int) string {
				return list(min(n, 8), func(j int) string { return fmt.Sprintf("...F%d", (i+j+1)%n) })
			})
		}, 500},
		{"InlineFragmentSiblings", func(n int) string { return "{ " + same(n, "... { __typename }") + "}" }, 200},
		{"NestedInlineFragments", func(n int) string { return "{ " + same(n, "... {") + " __typename " + same(n, "}") + "}" }, 900},
		{"VariablesUsed", func(n int) string {
			return "query(" + list(n, func(i int) string { return fmt.Sprintf("$v%d: Boolean", i) }) + ") { " +
				list(n, func(i int) string { return fmt.Sprintf("a%d: tasks(first: 1) { totalCount @skip(if: $v%d) }", i%60, i) }) + "}"
		}, 900},
		{"OperationsSpreadingAFragment", func(n int) string {
			return list(n, func(i int) string { return fmt.Sprintf("query Q%d { ...F0 }", i) }) + frags(1, func(int) string {
				return list(60, func(i int) string { return fmt.Sprintf("a%d: __typename", i) })
			})
		}, 1000},
	}
	l := testLimits(false)
	schema := graph.NewExecutableSchema(graph.Config{Resolvers: &resolver{}}).Schema()
	for _, s := range shapes {
		t.Run(s.name, func(t *testing.T) {
			passes := func(n int) bool {
				doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: s.doc(n)}, parserTokenLimit)
				if err != nil {
					return false
				}
				_, gqlErr := l.check(doc)
				return gqlErr == nil
			}
			if !passes(1) {
				t.Fatal("refuses the smallest document of its kind")
			}
			if passes(s.refusedBy) {
				t.Fatalf("lets %d through", s.refusedBy)
			}
			lo, hi := 1, s.refusedBy
			for hi-lo > 1 {
				if mid := (lo + hi) / 2; passes(mid) {
					lo = mid
				} else {
					hi = mid
				}
			}
			doc := parse(t, s.doc(lo))
			best := time.Hour
			for range 5 {
				start := time.Now()
				validator.ValidateWithRules(schema, doc, validationRules(false)())
				best = min(best, time.Since(start))
			}
			t.Logf("largest let through: n = %d (%d bytes), validated in %v", lo, len(s.doc(lo)), best)
			if bound := 50 * time.Millisecond * raceSlowdown; best > bound {
				t.Fatalf("validating it takes %v, more than %v", best, bound)
			}
		})
	}
}

// The parsed-query cache holds documents up to a total weight, however
// many queries arrive, and keeps the most recently used.
func TestDocCacheIsBoundedByWeight(t *testing.T) {
	c := newDocCache(1 << 20)
	q := func(i int) string { return fmt.Sprintf("{ a%d: __typename %s}", i, strings.Repeat("__typename ", 20)) }
	for i := range 10_000 {
		c.add(q(i), parse(t, q(i)))
		if c.weight > c.max {
			t.Fatalf("weight %d over %d after %d queries", c.weight, c.max, i+1)
		}
	}
	if !c.cached(q(9999)) || c.cached(q(0)) {
		t.Fatal("the cache does not keep the most recent queries")
	}
	big := "{ " + strings.Repeat("__typename ", 3000) + "}"
	c.add(big, parse(t, big))
	if c.cached(big) {
		t.Fatal("a document heavier than a sixteenth of the cache was kept")
	}
}
