// Package resolvers is taskapi's GraphQL transport: the hand-written
// resolvers behind the generated executable schema in graph/, the @auth and
// @hasRole directives, the error presenter that maps domain errors to
// extensions.code, and NewHandler, the configured gqlgen server.
//
// Resolvers only translate: every rule runs in core.Service.
package resolvers

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/graph"
)

// resolver is the root of the resolver tree.
type resolver struct{ svc *core.Service }

var _ graph.ResolverRoot = (*resolver)(nil)

func (r *resolver) Query() graph.QueryResolver       { return (*queryResolver)(r) }
func (r *resolver) Mutation() graph.MutationResolver { return (*mutationResolver)(r) }
func (r *resolver) User() graph.UserResolver         { return (*userResolver)(r) }
func (r *resolver) Session() graph.SessionResolver   { return (*sessionResolver)(r) }
func (r *resolver) Task() graph.TaskResolver         { return (*taskResolver)(r) }
func (r *resolver) UpdateTaskInput() graph.UpdateTaskInputResolver {
	return (*updateTaskInputResolver)(r)
}

// ---- Query ----

type queryResolver resolver

// ExportMyData answers the document as a String: GraphQL has no stream, so
// it is held once here (REST's /api/v1/auth/export streams it).
func (r *queryResolver) ExportMyData(ctx context.Context) (string, error) {
	var b strings.Builder
	if err := r.svc.ExportMyData(ctx, &b); err != nil {
		return "", err
	}
	return b.String(), nil
}

var _ graph.QueryResolver = (*queryResolver)(nil)

func (r *queryResolver) Me(ctx context.Context) (core.User, error) { return r.svc.Me(ctx) }

func (r *queryResolver) Tasks(ctx context.Context, status *core.TaskStatus, orderBy *core.TaskOrder, search *string, first *int, after *string, last *int, before *string) (core.TaskConnection, error) {
	return r.svc.ListTasks(ctx, core.TaskListArgs{
		Status: status, OrderBy: orderBy, Search: search, First: first, After: after, Last: last, Before: before,
	})
}

func (r *queryResolver) Node(ctx context.Context, id string) (core.Node, error) {
	return r.svc.Node(ctx, id)
}

// Task answers null for a task that is absent or someone else's: the schema
// makes "not found" a value here, not an error.
func (r *queryResolver) Task(ctx context.Context, id string) (*core.Task, error) {
	t, err := r.svc.GetTask(ctx, id)
	if errors.Is(err, core.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &t, nil
}

func (r *queryResolver) Users(ctx context.Context, first *int, after *string) (core.UserConnection, error) {
	return r.svc.ListUsers(ctx, first, after)
}

// User answers null for an absent user, as Task does.
func (r *queryResolver) User(ctx context.Context, id string) (*core.User, error) {
	u, err := r.svc.GetUser(ctx, id)
	if errors.Is(err, core.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// ---- Mutation ----

type mutationResolver resolver

var _ graph.MutationResolver = (*mutationResolver)(nil)

func (r *mutationResolver) Register(ctx context.Context, input core.RegisterInput) (core.User, error) {
	return r.svc.Register(ctx, input)
}

func (r *mutationResolver) Login(ctx context.Context, email, password string) (core.AuthPayload, error) {
	return r.svc.Login(ctx, email, password)
}

func (r *mutationResolver) RefreshToken(ctx context.Context, token string) (core.AuthPayload, error) {
	return r.svc.Refresh(ctx, token)
}

func (r *mutationResolver) Logout(ctx context.Context) (bool, error) {
	return true, r.svc.Logout(ctx)
}

func (r *mutationResolver) LogoutEverywhere(ctx context.Context) (bool, error) {
	return true, r.svc.LogoutEverywhere(ctx)
}

func (r *mutationResolver) ChangePassword(ctx context.Context, current, next string) (core.AuthPayload, error) {
	return r.svc.ChangePassword(ctx, current, next)
}

func (r *mutationResolver) RevokeSession(ctx context.Context, id string) (bool, error) {
	return true, r.svc.RevokeSession(ctx, id)
}

func (r *mutationResolver) CreateTask(ctx context.Context, input core.CreateTaskInput) (core.Task, error) {
	return r.svc.CreateTask(ctx, input)
}

func (r *mutationResolver) UpdateTask(ctx context.Context, id string, input core.UpdateTaskInput) (core.Task, error) {
	return r.svc.UpdateTask(ctx, id, input)
}

// DeleteTask returns the id as the client sent it, so a normalized cache can
// evict the entry it holds under that id.
func (r *mutationResolver) DeleteTask(ctx context.Context, id string) (string, error) {
	if err := r.svc.DeleteTask(ctx, id); err != nil {
		return "", err
	}
	return id, nil
}

func (r *mutationResolver) RemoveTask(ctx context.Context, id string) (core.DeletedTask, error) {
	return r.svc.RemoveTask(ctx, id)
}

func (r *mutationResolver) UpdateUser(ctx context.Context, id string, input core.UpdateUserInput) (core.User, error) {
	return r.svc.UpdateUser(ctx, id, input)
}

func (r *mutationResolver) DeleteAccount(ctx context.Context, password string) (bool, error) {
	return true, r.svc.DeleteAccount(ctx, password)
}

func (r *mutationResolver) DeleteUser(ctx context.Context, id string) (bool, error) {
	return true, r.svc.DeleteUser(ctx, id)
}

// ---- User ----

type userResolver resolver

var _ graph.UserResolver = (*userResolver)(nil)

func (r *userResolver) Stats(ctx context.Context, u *core.User) (core.TaskStats, error) {
	return r.svc.Stats(ctx, u.ID)
}

func (r *userResolver) Sessions(ctx context.Context, u *core.User) ([]core.Session, error) {
	return r.svc.Sessions(ctx, u.ID)
}

// ---- Task ----

type taskResolver resolver

var _ graph.TaskResolver = (*taskResolver)(nil)

func (r *taskResolver) Owner(ctx context.Context, t *core.Task) (core.User, error) {
	return r.svc.TaskOwner(ctx, *t)
}

// updateTaskInputResolver tells an explicit `dueDate: null` (clear it)
// from an absent dueDate (leave it): gqlgen calls it only when the field is
// present, and core reads a zero time as "clear" (core.UpdateTaskInput).
type updateTaskInputResolver resolver

var _ graph.UpdateTaskInputResolver = (*updateTaskInputResolver)(nil)

func (r *updateTaskInputResolver) DueDate(_ context.Context, in *core.UpdateTaskInput, due *time.Time) error {
	switch {
	case due == nil:
		due = &time.Time{}
	case due.IsZero(): // year 1 would read as "clear": refuse it as out of range
		_, fe := core.ParseDueDate("dueDate", *due)
		return core.Invalid(*fe)
	}
	in.DueDate = due
	return nil
}

// ---- Session ----

type sessionResolver resolver

var _ graph.SessionResolver = (*sessionResolver)(nil)

func (r *sessionResolver) Current(ctx context.Context, s *core.Session) (bool, error) {
	return s.ID == r.svc.CurrentSession(ctx), nil
}
