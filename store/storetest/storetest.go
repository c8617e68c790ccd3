// Package storetest is the executable specification of core.Store: every
// store implementation (embedded, DynamoDB, the Redis cache decorator) runs
// Run against itself, so they all behave the same way.
package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/taskapi/taskapi/core"
)

// Run runs the contract suite. open returns a fresh, empty store each time it
// is called; subtests run in parallel, each with its own store, so open must
// be safe to call concurrently. Closing and removing the store is open's
// business, through t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) core.Store) {
	t.Helper()
	groups := []struct {
		name string
		run  func(*testing.T, func(*testing.T) core.Store)
	}{
		{"Users", testUsers},
		{"UserSequence", testUserSequence},
		{"Admins", testAdmins},
		{"Wording", testWording},
		{"Sessions", testSessions},
		{"ListUsers", testListUsers},
		{"Tasks", testTasks},
		{"TaskIsolation", testTaskIsolation},
		{"ListTasks", testListTasks},
		{"TaskOrders", testTaskOrders},
		{"Stats", testStats},
		{"Delete", testDelete},
		{"Context", testContext},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.run(t, open)
		})
	}
}

// ---- exported helpers ----

var emailSeq atomic.Int64

// UniqueEmail returns a fresh lowercase address containing name.
func UniqueEmail(name string) string {
	return fmt.Sprintf("%s-%d@example.com", strings.ToLower(name), emailSeq.Add(1))
}

var testUserNumber atomic.Uint64

// NewUserID returns an id no other NewUserID call of this process returns
// (far above what a test store's own sequence reaches).
func NewUserID() string { return core.UserID(1<<20 + testUserNumber.Add(1)) }

// NewUser returns a user ready for CreateUser, with a fresh ID (NewUserID):
// role user, active, created now.
func NewUser(email string) core.User {
	local, _, _ := strings.Cut(email, "@")
	return core.User{
		ID:               NewUserID(),
		Username:         core.Username(local),
		Email:            core.Email(email),
		PasswordHash:     "$argon2id$v=19$m=65536,t=1,p=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
		Role:             core.RoleUser,
		ActivationStatus: core.ActivationActive,
		CreatedAt:        time.Now().UTC(),
	}
}

// MustCreateUser registers a user with email (see NewUser) and returns it.
func MustCreateUser(tb testing.TB, s core.Store, email string) core.User {
	tb.Helper()
	u, err := s.CreateUser(tb.Context(), NewUser(email))
	if err != nil {
		tb.Fatalf("CreateUser(%q): %v", email, err)
	}
	return u
}

// NewTaskID returns a fresh UUIDv7: later calls sort after earlier ones.
func NewTaskID(tb testing.TB) string {
	tb.Helper()
	id, err := uuid.NewV7()
	if err != nil {
		tb.Fatalf("uuid.NewV7: %v", err)
	}
	return id.String()
}

// NewTask returns a pending task of userID with a fresh ID, ready for
// CreateTask.
func NewTask(tb testing.TB, userID, title string) core.Task {
	tb.Helper()
	now := time.Now().UTC()
	return core.Task{
		ID:          NewTaskID(tb),
		UserID:      userID,
		Title:       core.Title(title),
		Description: core.Description("about " + title),
		Status:      core.StatusPending,
		CreatedAt:   now,
		UpdatedAt:   now,
	}
}

// MustCreateTask stores a new pending task of userID (see NewTask) and
// returns it.
func MustCreateTask(tb testing.TB, s core.Store, userID, title string) core.Task {
	tb.Helper()
	t := NewTask(tb, userID, title)
	if err := s.CreateTask(tb.Context(), t, 0); err != nil {
		tb.Fatalf("CreateTask(%q): %v", title, err)
	}
	return t
}

// MustSetStatus moves userID's task taskID to status st and returns it.
func MustSetStatus(tb testing.TB, s core.Store, userID, taskID string, st core.TaskStatus) core.Task {
	tb.Helper()
	t, err := s.UpdateTask(tb.Context(), userID, taskID, core.TaskPatch{Status: &st, UpdatedAt: time.Now().UTC()})
	if err != nil {
		tb.Fatalf("UpdateTask(%s, status %s): %v", taskID, st, err)
	}
	return t
}

// ---- internal helpers ----

// wantErr checks that err is target, the bare sentinel: a store says what
// happened, never in words of its own (core writes every client message).
func wantErr(tb testing.TB, err, target error) {
	tb.Helper()
	if !errors.Is(err, target) {
		tb.Fatalf("got error %v, want %v", err, target)
	}
	if e, ok := core.AsError(err); ok && (e.Message != "" || e.Fields != nil) {
		tb.Fatalf("error %q carries the store's own wording; return the bare sentinel %v", e.Message, target)
	}
}

// errOf is the error of a call that also returns a task.
func errOf(_ core.Task, err error) error { return err }

func wantNoErr(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("unexpected error: %v", err)
	}
}

// wantUser compares a user read back with the one written. An empty
// PasswordHash is allowed: GetUser may omit it (a cache keeps none); the
// Users group checks that GetUserByEmail returns it.
func wantUser(tb testing.TB, got, want core.User) {
	tb.Helper()
	if got.PasswordHash == "" {
		want.PasswordHash = ""
	}
	if !got.CreatedAt.Equal(want.CreatedAt) {
		tb.Errorf("CreatedAt = %v, want %v", got.CreatedAt, want.CreatedAt)
	}
	got.CreatedAt, want.CreatedAt = time.Time{}, time.Time{}
	if got != want {
		tb.Errorf("user = %+v\nwant   %+v", got, want)
	}
}

func wantTask(tb testing.TB, got, want core.Task) {
	tb.Helper()
	if !got.CreatedAt.Equal(want.CreatedAt) {
		tb.Errorf("task %s CreatedAt = %v, want %v", want.ID, got.CreatedAt, want.CreatedAt)
	}
	if !got.UpdatedAt.Equal(want.UpdatedAt) {
		tb.Errorf("task %s UpdatedAt = %v, want %v", want.ID, got.UpdatedAt, want.UpdatedAt)
	}
	if (got.DueDate == nil) != (want.DueDate == nil) || (got.DueDate != nil && !got.DueDate.Equal(*want.DueDate)) {
		tb.Errorf("task %s DueDate = %v, want %v", want.ID, got.DueDate, want.DueDate)
	}
	got.CreatedAt, want.CreatedAt = time.Time{}, time.Time{}
	got.UpdatedAt, want.UpdatedAt = time.Time{}, time.Time{}
	got.DueDate, want.DueDate = nil, nil
	if got != want {
		tb.Errorf("task = %+v\nwant   %+v", got, want)
	}
}

func wantStats(tb testing.TB, s core.Store, userID string, want core.TaskStats) {
	tb.Helper()
	got, err := s.TaskStats(tb.Context(), userID)
	if err != nil {
		tb.Fatalf("TaskStats(%s): %v", userID, err)
	}
	if got != want {
		tb.Fatalf("TaskStats(%s) = %+v, want %+v", userID, got, want)
	}
}

func ids[T any](items []T, id func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = id(it)
	}
	return out
}

func taskID(t core.Task) string { return t.ID }
func userID(u core.User) string { return u.ID }

func ptr[T any](v T) *T { return &v }

// stats returns the counts pending, ongoing and complete.
func stats(pending, ongoing, complete int) core.TaskStats {
	return core.TaskStats{}.Add(core.StatusPending, pending).Add(core.StatusOngoing, ongoing).Add(core.StatusComplete, complete)
}

// allTasks lists every task of userID (with status st if non-nil) in pages
// of limit, checking each page's shape on the way.
func allTasks(tb testing.TB, s core.Store, userID string, st *core.TaskStatus, limit int) []core.Task {
	tb.Helper()
	var all []core.Task
	after := ""
	for page := 0; ; page++ {
		got, more, err := s.ListTasks(tb.Context(), userID, core.TaskQuery{Status: st, After: after, Limit: limit})
		if err != nil {
			tb.Fatalf("ListTasks(page %d, after %q, limit %d): %v", page, after, limit, err)
		}
		if len(got) > limit {
			tb.Fatalf("page %d has %d tasks, limit %d", page, len(got), limit)
		}
		if more && len(got) < limit {
			tb.Fatalf("page %d is short (%d of %d) but more = true", page, len(got), limit)
		}
		if !more && len(got) == 0 && page > 0 {
			tb.Fatalf("page %d is empty: the previous page said more = true wrongly", page)
		}
		all = append(all, got...)
		if !more {
			return all
		}
		after = got[len(got)-1].ID
		if page > 10000 {
			tb.Fatalf("ListTasks never ends")
		}
	}
}
