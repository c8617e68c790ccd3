package tracing

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/taskapi/taskapi/core"
)

// Store returns inner with a span per call: "store.<Method>", a child of
// the resolver's or route's span, and the parent of the DynamoDB calls
// (otelaws) that make it up. It goes under the cache, so its spans are
// the round trips a cache miss costs; a cache hit has none. Spans carry
// no argument (ids, email keys, patches): only the outcome, an error's
// kind for the codes core defines. The inner store's optional interfaces
// are kept: core.Auditor (taskapi verify) and Ping (/readyz).
func Store(inner core.Store, tp trace.TracerProvider) core.Store {
	s := &store{inner: inner, tracer: tp.Tracer(Name)}
	if a, ok := inner.(core.Auditor); ok {
		return auditor{s, a}
	}
	return s
}

type store struct {
	inner  core.Store
	tracer trace.Tracer
}

var _ core.Store = (*store)(nil)

type auditor struct {
	*store
	core.Auditor
}

func (s *store) start(ctx context.Context, method string) (context.Context, trace.Span) {
	return s.tracer.Start(ctx, "store."+method, trace.WithSpanKind(trace.SpanKindClient))
}

// end ends span with err's outcome. Not found and the conditional
// failures are answers, not failures: only other errors mark the span.
func end(span trace.Span, err error) {
	switch {
	case err == nil:
	case errors.Is(err, core.ErrNotFound):
		span.SetAttributes(KeyStoreResult.String("not_found"))
	case errors.Is(err, core.ErrConflict):
		span.SetAttributes(KeyStoreResult.String("conflict"))
	case errors.Is(err, core.ErrPrecondition):
		span.SetAttributes(KeyStoreResult.String("precondition"))
	case errors.Is(err, core.ErrUnavailable):
		span.SetStatus(codes.Error, "unavailable")
	default:
		// The error's text may name keys or tables: the log has it, the
		// span says only that it failed.
		span.SetStatus(codes.Error, "store error")
	}
	span.End()
}

// Ping is the inner store's Ping, untraced (readiness probes would be a
// trace each), or nil when it has none.
func (s *store) Ping(ctx context.Context) error {
	if p, ok := s.inner.(interface{ Ping(context.Context) error }); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (s *store) ReserveUserNumbers(ctx context.Context, n int) (uint64, error) {
	ctx, span := s.start(ctx, "ReserveUserNumbers")
	v, err := s.inner.ReserveUserNumbers(ctx, n)
	end(span, err)
	return v, err
}

func (s *store) CreateUser(ctx context.Context, u core.User) (core.User, error) {
	ctx, span := s.start(ctx, "CreateUser")
	v, err := s.inner.CreateUser(ctx, u)
	end(span, err)
	return v, err
}

func (s *store) GetUser(ctx context.Context, id string) (core.User, error) {
	ctx, span := s.start(ctx, "GetUser")
	v, err := s.inner.GetUser(ctx, id)
	end(span, err)
	return v, err
}

func (s *store) GetUserByEmail(ctx context.Context, key core.EmailKey) (core.User, error) {
	ctx, span := s.start(ctx, "GetUserByEmail")
	v, err := s.inner.GetUserByEmail(ctx, key)
	end(span, err)
	return v, err
}

func (s *store) UpdateUser(ctx context.Context, id string, p core.UserPatch) (core.User, error) {
	ctx, span := s.start(ctx, "UpdateUser")
	v, err := s.inner.UpdateUser(ctx, id, p)
	end(span, err)
	return v, err
}

func (s *store) ListUsers(ctx context.Context, after string, limit int) ([]core.User, bool, error) {
	ctx, span := s.start(ctx, "ListUsers")
	v, more, err := s.inner.ListUsers(ctx, after, limit)
	end(span, err)
	return v, more, err
}

func (s *store) CreateTask(ctx context.Context, t core.Task, limit int) error {
	ctx, span := s.start(ctx, "CreateTask")
	err := s.inner.CreateTask(ctx, t, limit)
	end(span, err)
	return err
}

func (s *store) GetTask(ctx context.Context, userID, taskID string) (core.Task, error) {
	ctx, span := s.start(ctx, "GetTask")
	v, err := s.inner.GetTask(ctx, userID, taskID)
	end(span, err)
	return v, err
}

func (s *store) UpdateTask(ctx context.Context, userID, taskID string, p core.TaskPatch) (core.Task, error) {
	ctx, span := s.start(ctx, "UpdateTask")
	v, err := s.inner.UpdateTask(ctx, userID, taskID, p)
	end(span, err)
	return v, err
}

func (s *store) DeleteTask(ctx context.Context, userID, taskID string) (core.Task, error) {
	ctx, span := s.start(ctx, "DeleteTask")
	v, err := s.inner.DeleteTask(ctx, userID, taskID)
	end(span, err)
	return v, err
}

func (s *store) ListTasks(ctx context.Context, userID string, q core.TaskQuery) ([]core.Task, bool, error) {
	ctx, span := s.start(ctx, "ListTasks")
	v, more, err := s.inner.ListTasks(ctx, userID, q)
	end(span, err)
	return v, more, err
}

func (s *store) CountTasks(ctx context.Context, userID string, status *core.TaskStatus, search string) (int, error) {
	ctx, span := s.start(ctx, "CountTasks")
	v, err := s.inner.CountTasks(ctx, userID, status, search)
	end(span, err)
	return v, err
}

func (s *store) TaskStats(ctx context.Context, userID string) (core.TaskStats, error) {
	ctx, span := s.start(ctx, "TaskStats")
	v, err := s.inner.TaskStats(ctx, userID)
	end(span, err)
	return v, err
}

func (s *store) DeleteTasks(ctx context.Context, userID string, n int) (int, error) {
	ctx, span := s.start(ctx, "DeleteTasks")
	v, err := s.inner.DeleteTasks(ctx, userID, n)
	end(span, err)
	return v, err
}

func (s *store) DeleteUser(ctx context.Context, id string) error {
	ctx, span := s.start(ctx, "DeleteUser")
	err := s.inner.DeleteUser(ctx, id)
	end(span, err)
	return err
}

func (s *store) WriteSessions(ctx context.Context, userID string, w core.SessionWrite) (core.SessionSet, error) {
	ctx, span := s.start(ctx, "WriteSessions")
	v, err := s.inner.WriteSessions(ctx, userID, w)
	end(span, err)
	return v, err
}

func (s *store) GetSession(ctx context.Context, id string) (core.Session, error) {
	ctx, span := s.start(ctx, "GetSession")
	v, err := s.inner.GetSession(ctx, id)
	end(span, err)
	return v, err
}

func (s *store) GetSessions(ctx context.Context, ids []string) ([]core.Session, error) {
	ctx, span := s.start(ctx, "GetSessions")
	v, err := s.inner.GetSessions(ctx, ids)
	end(span, err)
	return v, err
}

func (s *store) Close() error { return s.inner.Close() }
