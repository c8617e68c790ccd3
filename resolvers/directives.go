package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/graph"
)

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
