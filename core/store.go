package core

import (
	"context"
	"time"
)

// Store is the persistence contract every store implements (the embedded
// one, DynamoDB, and the Redis cache that decorates either). It is defined
// here, by its consumer; store/storetest is its executable specification,
// and store/README.md says how to add one.
//
// A store keeps data and its invariants (uniqueness, counters, atomicity);
// it decides nothing a client sees. Values arrive parsed (see values.go),
// ids arrive well formed (core formats and parses them), and errors leave
// as the bare sentinels ErrNotFound, ErrConflict, ErrPrecondition or
// ErrUnavailable (wrapped with %w if the store adds context for logs),
// never with words of the store's own: core writes every client message.
// Every write is atomic: a task write and its owner's TaskStats change
// together or not at all.
type Store interface {
	// ReserveUserNumbers hands out n consecutive numbers of the user id
	// sequence, none of them handed out before (also under concurrency),
	// and returns the first. Core makes ids of them (UserID).
	ReserveUserNumbers(ctx context.Context, n int) (uint64, error)
	// CreateUser stores u, whose ID the caller chose, and returns it:
	// ErrConflict if another user has an email of the same Key.
	CreateUser(ctx context.Context, u User) (User, error)
	// GetUser returns the user with id, or ErrNotFound. Its PasswordHash
	// may be empty: a cache keeps no password hash (core reads it with
	// GetUserByEmail, the one read that must return it).
	GetUser(ctx context.Context, id string) (User, error)
	// GetUserByEmail returns the user whose email has key, with its
	// PasswordHash, or ErrNotFound.
	GetUserByEmail(ctx context.Context, key EmailKey) (User, error)
	// UpdateUser applies the set fields of p to user id and returns the
	// result: ErrNotFound; ErrConflict when the new email's key is taken;
	// ErrPrecondition when p.KeepActiveAdmin and the change would leave no
	// active admin (decided atomically with the write).
	UpdateUser(ctx context.Context, id string, p UserPatch) (User, error)
	// ListUsers returns up to limit users after the one with ID after (""
	// for the start), in a stable order, and whether more follow; users
	// whose deletion has begun are listed too (core hides them).
	ListUsers(ctx context.Context, after string, limit int) ([]User, bool, error)

	// CreateTask stores t (ID, UserID and every field set by the caller)
	// and counts it in its owner's stats: ErrPrecondition, and nothing
	// written, when limit > 0 and the owner already has limit tasks.
	CreateTask(ctx context.Context, t Task, limit int) error
	// GetTask returns userID's task taskID, or ErrNotFound (also when the
	// task belongs to someone else).
	GetTask(ctx context.Context, userID, taskID string) (Task, error)
	// UpdateTask applies p (with p.Apply), moving the task between stat
	// counters when its status changes, and returns the result.
	UpdateTask(ctx context.Context, userID, taskID string, p TaskPatch) (Task, error)
	// DeleteTask removes the task and uncounts it, and returns it as it was
	// when removed (no write in between), or returns ErrNotFound.
	DeleteTask(ctx context.Context, userID, taskID string) (Task, error)
	// ListTasks returns up to q.Limit of userID's tasks in ascending
	// TaskKey(t, q.Order) order, or descending with q.Reverse, with
	// q.Status only if set, matching q.Search if set, strictly after the key
	// q.After in that order ("" for the start), and whether more match. An
	// order other than creation is served by an index, never by reading
	// the whole list.
	ListTasks(ctx context.Context, userID string, q TaskQuery) ([]Task, bool, error)
	// CountTasks returns how many of userID's tasks (of status, if set)
	// match the folded search (FoldSearch; never ""), reading their
	// SearchText only.
	CountTasks(ctx context.Context, userID string, status *TaskStatus, search string) (int, error)
	// TaskStats returns userID's exact counts (zero for a user with none).
	TaskStats(ctx context.Context, userID string) (TaskStats, error)

	// DeleteTasks removes up to n of userID's tasks, oldest first, and
	// uncounts them in the same atomic write, so the counters are exact
	// after every batch; it returns how many it removed (0: none left).
	DeleteTasks(ctx context.Context, userID string, n int) (int, error)
	// DeleteUser removes user id with its email guard, task counters and
	// session records, atomically: ErrPrecondition, and nothing removed,
	// unless the user's deletion has begun (User.DeletedAt, set by
	// UpdateUser) and they have no task left; ErrNotFound if absent. The
	// id sequence is untouched: an id is never handed out again.
	DeleteUser(ctx context.Context, id string) error

	// WriteSessions changes user userID's sessions atomically: w.Change
	// gives the user's new SessionSet from the current one (it may run more
	// than once: it must be pure) and the sessions it ended, whose records
	// are removed; w.Put, if set, is stored (replacing its record) — with
	// w.IfHash, only if the stored record's RefreshHash is still w.IfHash
	// (ErrPrecondition otherwise, ErrNotFound if it is gone). It returns the
	// user's set as written; ErrNotFound for no such user.
	WriteSessions(ctx context.Context, userID string, w SessionWrite) (SessionSet, error)
	// GetSession returns session id's record, or ErrNotFound.
	GetSession(ctx context.Context, id string) (Session, error)
	// GetSessions returns the records of the sessions ids that exist, in
	// the order of ids.
	GetSessions(ctx context.Context, ids []string) ([]Session, error)

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
	Username         *Username
	Email            *Email
	PasswordHash     *string
	Role             *Role
	ActivationStatus *ActivationStatus
	// KeepActiveAdmin makes the write conditional on at least one active
	// admin remaining after it (see Store.UpdateUser).
	KeepActiveAdmin bool
	// EndSessionsAt, if set, ends every session of the user with the
	// write: their SessionSet becomes SessionSet.EndAll(EndSessionsAt) and
	// the sessions' records are removed.
	EndSessionsAt time.Time
	// MarkDeleted, if set, begins the user's deletion (User.DeletedAt).
	MarkDeleted time.Time
}

// SessionWrite is a change to a user's sessions (Store.WriteSessions).
type SessionWrite struct {
	Put    *Session
	IfHash string
	Change func(SessionSet) (SessionSet, []string)
	// Current, if set, is the user's set as the caller last read it: a
	// store may try the write conditioned on it before reading it again.
	Current *SessionSet
}

// Apply returns u with the set fields of p.
func (p UserPatch) Apply(u User) User {
	if p.Username != nil {
		u.Username = *p.Username
	}
	if p.Email != nil {
		if p.Email.Key() != u.Email.Key() {
			u.DuplicateEmail = false // an address of its own now
		}
		u.Email = *p.Email
	}
	if p.PasswordHash != nil {
		u.PasswordHash = *p.PasswordHash
		u.NeedsPasswordReset = false
	}
	if p.Role != nil {
		u.Role = *p.Role
	}
	if p.ActivationStatus != nil {
		u.ActivationStatus = *p.ActivationStatus
	}
	if !p.EndSessionsAt.IsZero() {
		u.Sessions = u.Sessions.EndAll(p.EndSessionsAt)
	}
	if !p.MarkDeleted.IsZero() {
		u.DeletedAt = p.MarkDeleted
	}
	return u
}

// TaskPatch is a change to a task; nil fields stay as they are, UpdatedAt
// is always set.
type TaskPatch struct {
	Title       *Title
	Description *Description
	Status      *TaskStatus
	// DueDate: nil leaves it, a zero time clears it, another time sets it.
	DueDate   *time.Time
	UpdatedAt time.Time
}

// Apply returns t with the set fields of p: the one definition of what a
// patch does, which the stores follow.
func (p TaskPatch) Apply(t Task) Task {
	if p.Title != nil {
		t.Title = *p.Title
	}
	if p.Description != nil {
		t.Description = *p.Description
	}
	if p.Status != nil {
		t.Status = *p.Status
	}
	if p.DueDate != nil {
		t.DueDate = nil
		if !p.DueDate.IsZero() {
			d := *p.DueDate
			t.DueDate = &d
		}
	}
	if !p.UpdatedAt.IsZero() {
		t.UpdatedAt = p.UpdatedAt
	}
	return t
}

// TaskQuery selects a page of one user's tasks: a walk of one order's
// index (TaskKey), filtered by status and search.
type TaskQuery struct {
	Status  *TaskStatus    // nil: every status
	Order   TaskOrderField // "" or OrderCreatedAt: by ID, which is creation order
	After   string         // the TaskKey (in Order) to start after; "" for the start
	Limit   int            // > 0
	Reverse bool           // walk the keys in descending order
	// Undated, with OrderDueDate, walks the tasks without a due date
	// (keys from UndatedKey); otherwise that order walks the others only.
	Undated bool
	// Search, folded by FoldSearch, keeps only the tasks whose SearchText
	// SearchMatches; "" keeps every task. A store walks on until it has
	// Limit matches or the walk ends, so a page is never short.
	Search string
}
