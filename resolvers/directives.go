package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/graph"
)

// publicFields are the root fields anyone may call without a token: each
// decides in core what an anonymous caller may do (register refuses an
// admin role without an admin's token). Every other root field declares
// @auth or @hasRole; resolvers/schema_test.go fails for one that does
// neither.
var publicFields = []string{"Mutation.register", "Mutation.login", "Mutation.refreshToken"}

// directives implements the schema's access rules. Each one denies with a
// domain error (UNAUTHENTICATED or FORBIDDEN), never with a silent null.
// Service.Actor memoizes the request's user, so a query that crosses many
// guarded fields loads it once.
func directives(svc *core.Service) graph.DirectiveRoot {
	return graph.DirectiveRoot{
		Auth: func(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
			if _, err := svc.Actor(ctx); err != nil {
				return nil, err
			}
			return next(ctx)
		},
		HasRole: func(ctx context.Context, _ any, next graphql.Resolver, role core.Role) (any, error) {
			var err error
			switch role {
			case core.RoleAdmin:
				_, err = svc.Admin(ctx)
			case core.RoleUser: // every active user, admins included
				_, err = svc.Actor(ctx)
			default:
				err = core.Errorf(core.CodeForbidden, "Role %s required", role)
			}
			if err != nil {
				return nil, err
			}
			return next(ctx)
		},
	}
}
