package storetest

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/taskapi/taskapi/core"
)

// Versioned makes any store a core.VersionedStore, for tests of what is
// built on versions (the response caches) without Redis: each user's
// version is a counter bumped after every write to their record or tasks
// (failed ones too, as a real store must when the outcome is unknown).
// Reads counts the calls that read data, so a test can tell whether an
// answer came from a cache.
type Versioned struct {
	core.Store
	reads    atomic.Int64
	mu       sync.Mutex
	versions map[string]int
}

var _ core.VersionedStore = (*Versioned)(nil)

// NewVersioned wraps inner.
func NewVersioned(inner core.Store) *Versioned {
	return &Versioned{Store: inner, versions: map[string]int{}}
}

// Reads is how many data reads (tasks, stats, users lists) reached the store.
func (v *Versioned) Reads() int64 { return v.reads.Load() }

func (v *Versioned) bump(userID string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.versions[userID]++
}

// GetUserVersion returns the user and their counter.
func (v *Versioned) GetUserVersion(ctx context.Context, id string) (core.User, string, error) {
	v.mu.Lock()
	n := v.versions[id]
	v.mu.Unlock()
	u, err := v.Store.GetUser(ctx, id)
	return u, "v" + strconv.Itoa(n), err
}

func (v *Versioned) UpdateUser(ctx context.Context, id string, p core.UserPatch) (core.User, error) {
	defer v.bump(id)
	return v.Store.UpdateUser(ctx, id, p)
}

func (v *Versioned) CreateTask(ctx context.Context, t core.Task, limit int) error {
	defer v.bump(t.UserID)
	return v.Store.CreateTask(ctx, t, limit)
}

func (v *Versioned) UpdateTask(ctx context.Context, userID, taskID string, p core.TaskPatch) (core.Task, error) {
	defer v.bump(userID)
	return v.Store.UpdateTask(ctx, userID, taskID, p)
}

func (v *Versioned) DeleteTask(ctx context.Context, userID, taskID string) (core.Task, error) {
	defer v.bump(userID)
	return v.Store.DeleteTask(ctx, userID, taskID)
}

func (v *Versioned) ListTasks(ctx context.Context, userID string, q core.TaskQuery) ([]core.Task, bool, error) {
	v.reads.Add(1)
	return v.Store.ListTasks(ctx, userID, q)
}

func (v *Versioned) TaskStats(ctx context.Context, userID string) (core.TaskStats, error) {
	v.reads.Add(1)
	return v.Store.TaskStats(ctx, userID)
}

func (v *Versioned) GetTask(ctx context.Context, userID, taskID string) (core.Task, error) {
	v.reads.Add(1)
	return v.Store.GetTask(ctx, userID, taskID)
}

func (v *Versioned) ListUsers(ctx context.Context, after string, limit int) ([]core.User, bool, error) {
	v.reads.Add(1)
	return v.Store.ListUsers(ctx, after, limit)
}
