package metrics

import (
	"context"
	"errors"

	"github.com/taskapi/taskapi/core"
)

// StoreObserver counts store errors by kind (Kind): *Metrics (Prometheus)
// and *EMF (Lambda) are both one.
type StoreObserver interface {
	StoreError(kind string)
}

// Store returns inner counting its errors by kind with m
// (taskapi_store_errors_total, or StoreErrors in Lambda). It goes under the
// cache, so it counts what DynamoDB or the embedded file answered, not what
// Redis did. The inner store's optional interfaces are kept: core.Auditor
// (taskapi verify) and Ping (/readyz).
func Store(inner core.Store, m StoreObserver) core.Store {
	s := &store{inner: inner, m: m}
	if a, ok := inner.(core.Auditor); ok {
		return auditor{s, a}
	}
	return s
}

type store struct {
	inner core.Store
	m     StoreObserver
}

// count counts err, if it is one, by kind.
func (s *store) count(err error) {
	if err != nil {
		s.m.StoreError(Kind(err))
	}
}

var _ core.Store = (*store)(nil)

type auditor struct {
	*store
	core.Auditor
}

// Ping is the inner store's Ping, uncounted (readiness is /readyz's to
// report), or nil when it has none.
func (s *store) Ping(ctx context.Context) error {
	if p, ok := s.inner.(interface{ Ping(context.Context) error }); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (s *store) ReserveUserNumbers(ctx context.Context, n int) (uint64, error) {
	v, err := s.inner.ReserveUserNumbers(ctx, n)
	s.count(err)
	return v, err
}

func (s *store) CreateUser(ctx context.Context, u core.User) (core.User, error) {
	v, err := s.inner.CreateUser(ctx, u)
	s.count(err)
	return v, err
}

func (s *store) GetUser(ctx context.Context, id string) (core.User, error) {
	v, err := s.inner.GetUser(ctx, id)
	s.count(err)
	return v, err
}

func (s *store) GetUserByEmail(ctx context.Context, key core.EmailKey) (core.User, error) {
	v, err := s.inner.GetUserByEmail(ctx, key)
	s.count(err)
	return v, err
}

func (s *store) UpdateUser(ctx context.Context, id string, p core.UserPatch) (core.User, error) {
	v, err := s.inner.UpdateUser(ctx, id, p)
	s.count(err)
	return v, err
}

func (s *store) ListUsers(ctx context.Context, after string, limit int) ([]core.User, bool, error) {
	v, more, err := s.inner.ListUsers(ctx, after, limit)
	s.count(err)
	return v, more, err
}

func (s *store) CreateTask(ctx context.Context, t core.Task, limit int) error {
	err := s.inner.CreateTask(ctx, t, limit)
	s.count(err)
	return err
}

func (s *store) GetTask(ctx context.Context, userID, taskID string) (core.Task, error) {
	v, err := s.inner.GetTask(ctx, userID, taskID)
	s.count(err)
	return v, err
}

func (s *store) UpdateTask(ctx context.Context, userID, taskID string, p core.TaskPatch) (core.Task, error) {
	v, err := s.inner.UpdateTask(ctx, userID, taskID, p)
	s.count(err)
	return v, err
}

func (s *store) DeleteTask(ctx context.Context, userID, taskID string) (core.Task, error) {
	v, err := s.inner.DeleteTask(ctx, userID, taskID)
	s.count(err)
	return v, err
}

func (s *store) ListTasks(ctx context.Context, userID string, q core.TaskQuery) ([]core.Task, bool, error) {
	v, more, err := s.inner.ListTasks(ctx, userID, q)
	s.count(err)
	return v, more, err
}

func (s *store) CountTasks(ctx context.Context, userID string, status *core.TaskStatus, search string) (int, error) {
	v, err := s.inner.CountTasks(ctx, userID, status, search)
	s.count(err)
	return v, err
}

func (s *store) TaskStats(ctx context.Context, userID string) (core.TaskStats, error) {
	v, err := s.inner.TaskStats(ctx, userID)
	s.count(err)
	return v, err
}

func (s *store) DeleteTasks(ctx context.Context, userID string, n int) (int, error) {
	v, err := s.inner.DeleteTasks(ctx, userID, n)
	s.count(err)
	return v, err
}

func (s *store) DeleteUser(ctx context.Context, id string) error {
	err := s.inner.DeleteUser(ctx, id)
	s.count(err)
	return err
}

func (s *store) WriteSessions(ctx context.Context, userID string, w core.SessionWrite) (core.SessionSet, error) {
	v, err := s.inner.WriteSessions(ctx, userID, w)
	s.count(err)
	return v, err
}

func (s *store) GetSession(ctx context.Context, id string) (core.Session, error) {
	v, err := s.inner.GetSession(ctx, id)
	s.count(err)
	return v, err
}

func (s *store) GetSessions(ctx context.Context, ids []string) ([]core.Session, error) {
	v, err := s.inner.GetSessions(ctx, ids)
	s.count(err)
	return v, err
}

func (s *store) Close() error { return s.inner.Close() }

// Store error kinds (taskapi_store_errors_total{kind}).
const (
	KindNotFound     = "not_found"
	KindConflict     = "conflict"
	KindPrecondition = "precondition"
	KindUnavailable  = "unavailable"
	KindCanceled     = "canceled"
	KindOther        = "other"
)

// Kind is the kind of a store error, as taskapi_store_errors_total labels it.
func Kind(err error) string {
	switch {
	case errors.Is(err, core.ErrNotFound):
		return KindNotFound
	case errors.Is(err, core.ErrConflict):
		return KindConflict
	case errors.Is(err, core.ErrPrecondition):
		return KindPrecondition
	case errors.Is(err, core.ErrUnavailable):
		return KindUnavailable
	case errors.Is(err, context.Canceled):
		return KindCanceled
	}
	return KindOther
}
