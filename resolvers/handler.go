package resolvers

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/graph"
)

// Defaults of Options.
const (
	DefaultComplexityLimit = 200
	DefaultMaxDepth        = 10
	DefaultMaxBodyBytes    = 1 << 20
	parserTokenLimit       = 10_000
	maxFields              = 2000 // fields of one operation, fragments expanded
	passwordHashCost       = 20   // complexity of a mutation that hashes a password
	queryCacheSize         = 1000
	apqCacheSize           = 1000
)

// Options configures NewHandler. The zero value is production-ready:
// introspection off, the default limits, in-memory APQ.
type Options struct {
	// Logger receives internal errors and panics (nil: discard).
	Logger *slog.Logger
	// Introspection enables __schema/__type queries (the playground needs it).
	Introspection bool
	// ComplexityLimit is the highest cost of one operation (0: 200). See
	// docs/graphql.md for how cost is counted.
	ComplexityLimit int
	// MaxDepth is the deepest selection allowed, introspection fields aside
	// (0: 10; the deepest useful query of the schema is 5).
	MaxDepth int
	// APQCache keeps automatic persisted queries (nil: an in-memory LRU).
	APQCache graphql.Cache[string]
	// MaxBodyBytes bounds a request body (0: 1 MiB).
	MaxBodyBytes int64
}

// NewHandler returns the /graphql endpoint: the executable schema served
// over POST and GET (queries only) as GraphQL over HTTP specifies (see
// httpTransport), with a parsed-query cache, automatic
// persisted queries, complexity and depth limits, the error presenter and a
// recover func. It expects requests to have passed through
// httpauth.Middleware, which puts the bearer token into the context.
func NewHandler(svc *core.Service, opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ComplexityLimit <= 0 {
		opts.ComplexityLimit = DefaultComplexityLimit
	}
	if opts.MaxDepth <= 0 {
		opts.MaxDepth = DefaultMaxDepth
	}
	if opts.APQCache == nil {
		opts.APQCache = lru.New[string](apqCacheSize)
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}

	es := graph.NewExecutableSchema(graph.Config{
		Resolvers:  &resolver{svc: svc},
		Directives: directives(svc),
		Complexity: costs(),
	})
	srv := handler.New(es)
	srv.AddTransport(transport.Options{AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodOptions}})
	srv.AddTransport(httpTransport{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](queryCacheSize))
	srv.SetParserTokenLimit(parserTokenLimit)
	// Without introspection, "did you mean" suggestions would leak the schema.
	srv.SetDisableSuggestion(!opts.Introspection)
	if opts.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: opts.APQCache})
	srv.Use(operationLimits{maxDepth: opts.MaxDepth, maxFields: maxFields, introspection: opts.Introspection})
	srv.Use(extension.FixedComplexityLimit(opts.ComplexityLimit, complexity.WithFixedScalarValue(0)))
	srv.Use(newResponseCache(svc)) // repeated reads of one's own data: see respcache.go
	srv.SetErrorPresenter(errorPresenter(opts.Logger))
	srv.SetRecoverFunc(recoverFunc(opts.Logger))

	limit := opts.MaxBodyBytes
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			_, _ = w.Write([]byte(`{"errors":[{"message":"request body too large","extensions":{"code":"BAD_REQUEST"}}]}`))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		srv.ServeHTTP(w, r)
	})
}

// costs prices the fields whose work grows with a page: a connection costs
// its page size (`first`, default 20, capped at 100 as the service caps it)
// times its selection, so each listed item counts 1 plus any nested work
// (User.stats is a store read per user). A mutation that hashes a password
// costs passwordHashCost. Scalars are free
// (complexity.WithFixedScalarValue(0)) and every other object field costs 1
// plus its selection, gqlgen's default.
func costs() graph.ComplexityRoot {
	var c graph.ComplexityRoot
	c.Query.Tasks = func(child int, _ *core.TaskStatus, first *int, _ *string) int {
		return pageSize(first) * child
	}
	c.Query.Users = func(child int, first *int, _ *string) int {
		return pageSize(first) * child
	}
	// Hashing a password costs tens of milliseconds and ~19 MiB: a batch of
	// aliased logins or registrations must stay small.
	c.Mutation.Login = func(child int, _, _ string) int { return passwordHashCost + child }
	c.Mutation.Register = func(child int, _ core.RegisterInput) int { return passwordHashCost + child }
	c.Mutation.UpdateUser = func(child int, _ string, in core.UpdateUserInput) int {
		if in.Password != nil {
			return passwordHashCost + child
		}
		return 1 + child
	}
	// An edge and its node are one item: count the node only.
	c.TaskConnection.Edges = func(child int) int { return child }
	c.UserConnection.Edges = func(child int) int { return child }
	return c
}

// pageSize is how many items a connection may return for first.
func pageSize(first *int) int {
	switch {
	case first == nil:
		return core.DefaultPageSize
	case *first < 1:
		return 1
	case *first > core.MaxPageSize:
		return core.MaxPageSize
	}
	return *first
}

// operationLimits checks an operation's shape after validation, before the
// complexity walk (which expands every fragment spread, so a kilobyte of
// fragments spreading each other twice would cost it exponential time):
//   - at most maxFields fields once fragments are expanded, counted with
//     each fragment measured once;
//   - no deeper than maxDepth, introspection fields aside (gqlparser's
//     MaxIntrospectionDepth rule bounds those);
//   - no __schema or __type when introspection is off (gqlgen would answer
//     those with an untyped error).
type operationLimits struct {
	maxDepth      int
	maxFields     int
	introspection bool
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = operationLimits{}

func (operationLimits) ExtensionName() string                   { return "OperationLimits" }
func (operationLimits) Validate(graphql.ExecutableSchema) error { return nil }

func (l operationLimits) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if opCtx.Operation == nil {
		return nil
	}
	w := walker{memo: map[string]shape{}, introspection: l.introspection}
	s := w.walk(opCtx.Operation.SelectionSet)
	var err *gqlerror.Error
	switch {
	case w.err != nil:
		return w.err
	case s.fields > l.maxFields:
		err = gqlerror.Errorf("operation selects %s fields once fragments are expanded, more than the limit of %d", countString(s.fields), l.maxFields)
		errcode.Set(err, CodeComplexityLimit)
	case s.depth > l.maxDepth:
		err = gqlerror.Errorf("operation has depth %d, which exceeds the limit of %d", s.depth, l.maxDepth)
		errcode.Set(err, CodeDepthLimit)
	}
	return err
}

// shape is what walker measures of a selection set.
type shape struct {
	depth  int // deepest field nesting, introspection fields aside
	fields int // fields with fragments expanded, saturating at maxCount
}

const maxCount = 1 << 30

func countString(n int) string {
	if n >= maxCount {
		return "over " + strconv.Itoa(maxCount)
	}
	return strconv.Itoa(n)
}

// walker measures selection sets, each fragment once (the validator has
// already refused fragment cycles).
type walker struct {
	memo          map[string]shape
	introspection bool
	err           *gqlerror.Error
}

func (w *walker) walk(set ast.SelectionSet) shape {
	var total shape
	for _, sel := range set {
		var s shape
		switch sel := sel.(type) {
		case *ast.Field:
			s = w.walk(sel.SelectionSet)
			s.fields++
			s.depth++
			if strings.HasPrefix(sel.Name, "__") { // __schema, __type, __typename
				s.depth = 0
				if !w.introspection && sel.Name != "__typename" && w.err == nil {
					w.err = gqlerror.ErrorPosf(sel.Position, "introspection is disabled on this server")
					errcode.Set(w.err, errcode.ValidationFailed)
				}
			}
		case *ast.InlineFragment:
			s = w.walk(sel.SelectionSet)
		case *ast.FragmentSpread:
			if sel.Definition == nil {
				continue
			}
			var ok bool
			if s, ok = w.memo[sel.Name]; !ok {
				s = w.walk(sel.Definition.SelectionSet)
				w.memo[sel.Name] = s
			}
		}
		total.depth = max(total.depth, s.depth)
		total.fields = min(total.fields+s.fields, maxCount)
	}
	return total
}
