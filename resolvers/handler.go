package resolvers

import (
	"log/slog"
	"net/http"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"go.opentelemetry.io/otel/trace"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/graph"
	"github.com/taskapi/taskapi/internal/tracing"
)

// Defaults of Options.
const (
	DefaultComplexityLimit = 200
	DefaultMaxDepth        = 10
	DefaultMaxBodyBytes    = core.MaxBodyBytes
	parserTokenLimit       = 10_000
	maxFields              = 2000                       // fields of one operation, fragments expanded
	passwordHashCost       = 20                         // complexity of a mutation that hashes a password
	wholeAccountCost       = DefaultComplexityLimit / 2 // a field that reads or removes a whole account
	searchCost             = DefaultComplexityLimit / 4 // a searched task list, which may read the whole list
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
	// APQCache keeps automatic persisted queries (nil: an in-memory LRU of
	// 1000). The handler stores only queries that validated, within the
	// limits, of at most 8 KiB and with no literal credential.
	APQCache graphql.Cache[string]
	// MaxBodyBytes bounds a request body (0: 1 MiB).
	MaxBodyBytes int64
	// LabelRequests fills the request's requestinfo.Info (operation and
	// result code) for the request metrics; off, nothing is added.
	LabelRequests bool
	// Tracer, if set, makes a span per operation and per resolver call
	// (tracing.go); nil: no tracing extension at all.
	Tracer trace.TracerProvider
	// Origins are the browser origins a subscription's WebSocket may come
	// from besides the API's own, as CORS allows them ("*": any).
	Origins []string
	// NoLive leaves out the subscription transports (server.Options'
	// NoSubscriptions).
	NoLive bool
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
	if !opts.NoLive {
		for _, t := range liveTransports(svc, opts.Origins) { // before httpTransport: they take their requests first
			srv.AddTransport(t)
		}
	}
	srv.AddTransport(httpTransport{live: !opts.NoLive})
	srv.AroundOperations(renewWSAuth) // first: every later step authorizes the operation as it runs
	docs := newDocCache(maxCachedDocs)
	srv.SetQueryCache(docs)
	srv.SetParserTokenLimit(parserTokenLimit)
	// Without introspection, "did you mean" suggestions would leak the schema.
	rules := validationRules(opts.Introspection)
	srv.SetDisableSuggestion(!opts.Introspection)
	srv.SetValidationRulesFn(rules)
	if opts.Introspection {
		srv.Use(extension.Introspection{})
	}
	// Order matters: the persisted query's text, then the gate (parse,
	// bound, validate), then the cost of the valid operation, and only
	// then is a new persisted query stored.
	srv.Use(persistedQueries{cache: opts.APQCache})
	limits := shapeLimits{tokens: parserTokenLimit, depth: opts.MaxDepth, fields: maxFields, work: maxValidationWork, selections: maxSelections, introspection: opts.Introspection}
	if opts.Introspection {
		limits.known = schemaNames(es.Schema())
	}
	srv.Use(&gate{schema: es.Schema(), rules: rules, docs: docs, limits: limits})
	srv.Use(extension.FixedComplexityLimit(opts.ComplexityLimit, complexity.WithFixedScalarValue(0)))
	srv.Use(persistCommit{cache: opts.APQCache})
	if opts.LabelRequests {
		srv.Use(requestLabels{}) // before the response cache: it counts cached answers too
	}
	if opts.Tracer != nil {
		srv.Use(tracer{opts.Tracer.Tracer(tracing.Name)}) // before the response cache too: a cached answer is an operation span with no resolver under it
	}
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
		if !opts.NoLive && isLive(r) {
			w = newLiveWriter(w)
		}
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
	c.Query.Tasks = func(child int, _ *core.TaskStatus, orderBy *core.TaskOrder, search *string, first *int, _ *string, last *int, _ *string) int {
		if last != nil {
			first = last
		}
		// A search may walk the whole list to fill its page
		// (core/tasklist.go): a quarter of a request. An order has an
		// index, so it costs what the default does.
		scan := 0
		if (core.TaskListArgs{OrderBy: orderBy, Search: search}).Scans() {
			scan = searchCost
		}
		return scan + pageSize(first)*child
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
	// Checking the current password and hashing the new one: two hashes.
	c.Mutation.ChangePassword = func(child int, _, _ string) int { return 2*passwordHashCost + child }
	// A session write each; a user's sessions are a store read.
	c.Mutation.RefreshToken = func(child int, _ string) int { return 5 + child }
	c.User.Sessions = func(child int) int { return 5 + child*core.MaxSessionsPerUser }
	// Deleting an account checks a password (an admin's deletion does not)
	// and removes up to MAX_TASKS_PER_USER tasks in batches; an export reads
	// them all. Each is worth a whole request: two at most per query.
	c.Mutation.DeleteAccount = func(child int, _ string) int { return wholeAccountCost + child }
	c.Mutation.DeleteUser = func(child int, _ string) int { return wholeAccountCost + child }
	c.Query.ExportMyData = func(child int) int { return wholeAccountCost + child }
	// An edge and its node are one item: count the node only.
	c.TaskConnection.Edges = func(child int) int { return child }
	c.UserConnection.Edges = func(child int) int { return child }
	return c
}

// flatCost lists the root fields that gqlgen's default prices right (1
// plus their selection): one bounded store call, no list, no hash. Every
// other root field has an entry in costs; resolvers/schema_test.go fails
// for a root field in neither.
var flatCost = []string{
	"Query.me", "Query.task", "Query.user", "Query.node",
	"Mutation.createTask", "Mutation.updateTask", "Mutation.deleteTask", "Mutation.removeTask",
	"Mutation.logout", "Mutation.logoutEverywhere", "Mutation.revokeSession",
	// One event at a time; what a subscription holds is bounded by
	// core.MaxSubscriptionsPerUser, not by cost.
	"Subscription.taskEvents", "Subscription.userEvents",
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
