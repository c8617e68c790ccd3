package resolvers

import (
	"context"
	"encoding/json"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/internal/respcache"
)

// cacheableRoots are the Query fields whose answer depends only on the
// caller's own data (their record, tasks and stats), which is what
// core.Service.ReadVersion versions.
var cacheableRoots = map[string]bool{"me": true, "tasks": true, "task": true, "__typename": true}

// responseCache answers a query whose root fields are all cacheableRoots
// from a per-process cache of the data it gave the same caller, when
// nothing the caller can read has changed since (same version), and runs
// it otherwise. gqlgen resolves every field of every list element with its
// own context and goroutine, so a page of 20 tasks costs thousands of
// allocations; a repeated read costs none of them. The query has passed
// parsing, validation and the limits before it gets here. Only complete
// answers without errors are kept; mutations, admin queries, introspection
// and @defer are never cached. With a store that cannot version
// (core.VersionedStore: only the Redis cache does) it does nothing.
type responseCache struct {
	svc   *core.Service
	cache *respcache.Cache
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = responseCache{}

func newResponseCache(svc *core.Service) responseCache {
	return responseCache{svc: svc, cache: respcache.New(0, 0, nil)}
}

func (responseCache) ExtensionName() string                   { return "ResponseCache" }
func (responseCache) Validate(graphql.ExecutableSchema) error { return nil }

func (c responseCache) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil || oc.Operation.Operation != ast.Query || !onlyCacheableRoots(oc.Operation.SelectionSet) {
		return next(ctx)
	}
	u, version, err := c.svc.ReadVersion(ctx)
	if err != nil || version == "" {
		return next(ctx) // unauthenticated callers get their error from the directives
	}
	vars, err := json.Marshal(oc.Variables) // map keys sorted: one spelling per value
	if err != nil {
		return next(ctx)
	}
	key := respcache.Key("graphql", u.ID, version, oc.OperationName, oc.RawQuery, string(vars))
	if data, ok := c.cache.Get(key); ok {
		return graphql.OneShot(&graphql.Response{Data: data})
	}
	responses := next(ctx)
	first := true
	return func(ctx context.Context) *graphql.Response {
		resp := responses(ctx)
		if first && resp != nil && len(resp.Errors) == 0 && resp.HasNext == nil && len(resp.Extensions) == 0 && len(resp.Data) > 0 {
			c.cache.Put(key, resp.Data)
		}
		first = false
		return resp
	}
}

// onlyCacheableRoots reports whether every root field the selection can
// select, through fragments too, is one of cacheableRoots.
func onlyCacheableRoots(set ast.SelectionSet) bool {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if !cacheableRoots[sel.Name] {
				return false
			}
		case *ast.InlineFragment:
			if !onlyCacheableRoots(sel.SelectionSet) {
				return false
			}
		case *ast.FragmentSpread:
			if sel.Definition == nil || !onlyCacheableRoots(sel.Definition.SelectionSet) {
				return false
			}
		default:
			return false
		}
	}
	return true
}
