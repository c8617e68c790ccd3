package core

import (
	"context"
	"time"
)

// Store is the persistence contract every store implements (the embedded
// one, DynamoDB, and the Redis cache that decorates either). It is defined
// here, by its consumer; store/storetest is its executable specification.
//
// Every method returns domain errors for expected outcomes: ErrNotFound for
// an absent user or task (never a zero value and a nil error), ErrConflict
// for a taken email. Every write is atomic: a task write and its owner's
// TaskStats change together or not at all.
type Store interface {
	// CreateUser stores u with a new ID, "VAH" and the next number of a
	// sequence (unique under concurrency), and returns it. u.Email is
	// already normalized (lowercase); ErrConflict if another user has it.
	CreateUser(ctx context.Context, u User) (User, error)
	// GetUser returns the user with id, or ErrNotFound.
	GetUser(ctx context.Context, id string) (User, error)
	// GetUserByEmail returns the user with the normalized email, or ErrNotFound.
	GetUserByEmail(ctx context.Context, email string) (User, error)
	// UpdateUser applies the set fields of p to user id and returns the
	// result: ErrNotFound, or ErrConflict when the new email is taken.
	UpdateUser(ctx context.Context, id string, p UserPatch) (User, error)
	// ListUsers returns up to limit users after the one with ID after (""
	// for the start), in a stable order, and whether more follow.
	ListUsers(ctx context.Context, after string, limit int) ([]User, bool, error)

	// CreateTask stores t (ID, UserID and every field set by the caller)
	// and counts it in its owner's stats.
	CreateTask(ctx context.Context, t Task) error
	// GetTask returns userID's task taskID, or ErrNotFound (also when the
	// task belongs to someone else).
	GetTask(ctx context.Context, userID, taskID string) (Task, error)
	// UpdateTask applies the set fields of p, moving the task between stat
	// counters when its status changes, and returns the result.
	UpdateTask(ctx context.Context, userID, taskID string, p TaskPatch) (Task, error)
	// DeleteTask removes the task and uncounts it, or returns ErrNotFound.
	DeleteTask(ctx context.Context, userID, taskID string) error
	// ListTasks returns up to q.Limit of userID's tasks in ascending ID
	// order (creation order), with q.Status only if set, strictly after
	// the task with ID q.After ("" for the start), and whether more match.
	ListTasks(ctx context.Context, userID string, q TaskQuery) ([]Task, bool, error)
	// TaskStats returns userID's exact counts (zero for a user with none).
	TaskStats(ctx context.Context, userID string) (TaskStats, error)

	// Close releases the store's resources.
	Close() error
}

// VersionedStore is a Store that can also say, in the same call that
// loads a user (and so at no extra round trip), a version of everything
// that user can read: their record, their tasks and their stats. The
// version changes before any write to those returns, so a response built
// after reading version v may be served again to the same user for as long
// as the version is still v. The Redis cache implements it; a store that
// cannot tell cheaply does not, and nothing is cached on top of it.
type VersionedStore interface {
	Store
	// GetUserVersion is GetUser that also returns the user's version: ""
	// when it cannot be told right now (e.g. Redis is unavailable).
	GetUserVersion(ctx context.Context, id string) (User, string, error)
}

// UserPatch is a change to a user; nil fields stay as they are.
type UserPatch struct {
	Username         *string
	Email            *string // normalized
	PasswordHash     *string
	Role             *Role
	ActivationStatus *ActivationStatus
}

// TaskPatch is a change to a task; nil fields stay as they are, UpdatedAt
// is always set.
type TaskPatch struct {
	Title       *string
	Description *string
	Status      *TaskStatus
	UpdatedAt   time.Time
}

// TaskQuery selects a page of one user's tasks.
type TaskQuery struct {
	Status *TaskStatus // nil: every status
	After  string      // task ID; "" for the first page
	Limit  int         // > 0
}
