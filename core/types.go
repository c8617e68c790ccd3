// Package core is taskapi's domain: users, tasks and their statistics, the
// rules every entry point shares (validation, who may do what), the closed set
// of domain errors, and Service, the one place those rules run. GraphQL
// resolvers and REST handlers are thin adapters over Service; stores implement
// Store. Nothing here imports HTTP, GraphQL, AWS or Redis.
package core

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Role is what a user may do: manage their own tasks (RoleUser) or also
// manage users (RoleAdmin).
type Role string

const (
	RoleUser  Role = "user"
	RoleAdmin Role = "admin"
)

// ParseRole accepts the legacy lowercase spelling and the GraphQL uppercase one.
func ParseRole(s string) (Role, error) {
	switch r := Role(strings.ToLower(s)); r {
	case RoleUser, RoleAdmin:
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q", s)
}

// TaskStatus is where a task is in its life: pending → ongoing → complete.
type TaskStatus string

const (
	StatusPending  TaskStatus = "pending"
	StatusOngoing  TaskStatus = "ongoing"
	StatusComplete TaskStatus = "complete"
)

// TaskStatuses lists every status in workflow order.
var TaskStatuses = [...]TaskStatus{StatusPending, StatusOngoing, StatusComplete}

// ParseTaskStatus accepts the legacy lowercase spelling and the GraphQL uppercase one.
func ParseTaskStatus(s string) (TaskStatus, error) {
	if st := TaskStatus(strings.ToLower(s)); st.Valid() {
		return st, nil
	}
	return "", fmt.Errorf("unknown task status %q", s)
}

// ActivationStatus says whether a user may log in and use their tokens.
type ActivationStatus string

const (
	ActivationActive   ActivationStatus = "active"
	ActivationInactive ActivationStatus = "inactive"
)

// Roles and ActivationStatuses list the closed sets, in their usual order.
var (
	Roles              = [...]Role{RoleUser, RoleAdmin}
	ActivationStatuses = [...]ActivationStatus{ActivationActive, ActivationInactive}
)

// ParseActivationStatus accepts the legacy lowercase spelling and the GraphQL uppercase one.
func ParseActivationStatus(s string) (ActivationStatus, error) {
	switch a := ActivationStatus(strings.ToLower(s)); a {
	case ActivationActive, ActivationInactive:
		return a, nil
	}
	return "", fmt.Errorf("unknown activation status %q", s)
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleUser || r == RoleAdmin }

// Valid reports whether s is a known task status.
func (s TaskStatus) Valid() bool { return s.index() >= 0 }

func (s TaskStatus) index() int {
	for i, st := range TaskStatuses {
		if st == s {
			return i
		}
	}
	return -1
}

// Valid reports whether a is a known activation status.
func (a ActivationStatus) Valid() bool { return a == ActivationActive || a == ActivationInactive }

// User is a person who keeps tasks. PasswordHash is an argon2id PHC string; it
// never leaves the service through any API.
type User struct {
	ID               string
	Username         Username
	Email            Email
	PasswordHash     string
	Role             Role
	ActivationStatus ActivationStatus
	CreatedAt        time.Time
	Sessions         SessionSet // the live sessions (session.go)
	// DeletedAt is when the account's deletion began (account.go): from
	// then on it is gone for every purpose but finishing that deletion.
	DeletedAt time.Time
	// NeedsPasswordReset marks an account taken over from the legacy app
	// whose password could not be converted (docs/migration.md): it cannot
	// log in until a new password is set (an admin's update, create-admin).
	NeedsPasswordReset bool
	// DuplicateEmail marks an account the legacy app stored with the email
	// of an older one, which kept the address: it cannot log in until an
	// admin gives it an address of its own.
	DuplicateEmail bool
}

// Deleted reports whether u's deletion has begun (it may not be finished).
func (u User) Deleted() bool { return !u.DeletedAt.IsZero() }

// IsAdmin reports whether u may manage users.
func (u User) IsAdmin() bool { return u.Role == RoleAdmin }

// IsActive reports whether u may log in and use tokens.
func (u User) IsActive() bool { return u.ActivationStatus == ActivationActive }

// Task is one item of a user's work. ID is a UUIDv7, so ordering by ID is
// ordering by creation time.
type Task struct {
	ID          string
	UserID      string
	Title       Title
	Description Description
	Status      TaskStatus
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// DueDate is when the task should be done, nil for none. Its time is
	// at millisecond precision (ParseDueDate), as GraphQL shows it.
	DueDate *time.Time
}

// TaskStats counts a user's tasks per status (one count per TaskStatuses
// entry). Stores keep it exact after every write.
type TaskStats struct{ counts [len(TaskStatuses)]int }

// Count returns the number of tasks in status st.
func (s TaskStats) Count(st TaskStatus) int {
	if i := st.index(); i >= 0 {
		return s.counts[i]
	}
	return 0
}

// Add returns s with n added to the count of st (n may be negative).
func (s TaskStats) Add(st TaskStatus, n int) TaskStats {
	if i := st.index(); i >= 0 {
		s.counts[i] += n
	}
	return s
}

// Total is the number of tasks in every status.
func (s TaskStats) Total() int {
	t := 0
	for _, n := range s.counts {
		t += n
	}
	return t
}

// Valid reports whether no count is negative.
func (s TaskStats) Valid() bool {
	for _, n := range s.counts {
		if n < 0 {
			return false
		}
	}
	return true
}

// The GraphQL schema's TaskStats fields.
func (s TaskStats) Pending() int  { return s.Count(StatusPending) }
func (s TaskStats) Ongoing() int  { return s.Count(StatusOngoing) }
func (s TaskStats) Complete() int { return s.Count(StatusComplete) }

// RegisterInput is what a new user sends.
type RegisterInput struct {
	Username         string
	Email            string
	Password         string
	Role             *Role             // nil: RoleUser
	ActivationStatus *ActivationStatus // nil: ActivationActive
}

// CreateTaskInput is a new task; it starts pending.
type CreateTaskInput struct {
	Title       string
	Description string
	DueDate     *time.Time // nil: none
}

// UpdateTaskInput changes the fields that are set.
type UpdateTaskInput struct {
	Title       *string
	Description *string
	Status      *TaskStatus
	// DueDate: nil leaves it; a zero time clears it (GraphQL's explicit
	// `dueDate: null`); any other time sets it.
	DueDate *time.Time
}

// UpdateUserInput is an admin's change to a user; only set fields change.
type UpdateUserInput struct {
	Username         *string
	Email            *string
	Password         *string
	ActivationStatus *ActivationStatus
	Role             *Role
}

// TaskConnection is one page of a user's tasks, Relay style.
type TaskConnection struct {
	Edges    []TaskEdge
	PageInfo PageInfo
	count    func(context.Context) (int, error)
}

// TotalCount is how many tasks the whole list has (every page): the
// counters' figure, or a count of a search's matches. It is read only when
// asked for, so a page that does not show it costs no extra read.
func (c TaskConnection) TotalCount(ctx context.Context) (int, error) {
	if c.count == nil {
		return 0, nil
	}
	return c.count(ctx)
}

// TaskEdge is a task and the cursor that resumes after it.
type TaskEdge struct {
	Cursor string
	Node   Task
}

// UserConnection is one page of users, Relay style.
type UserConnection struct {
	Edges      []UserEdge
	PageInfo   PageInfo
	TotalCount *int // nil where counting would cost a scan
}

// UserEdge is a user and the cursor that resumes after it.
type UserEdge struct {
	Cursor string
	Node   User
}

// PageInfo tells a client whether to ask for more, in either direction.
type PageInfo struct {
	HasNextPage     bool
	HasPreviousPage bool
	StartCursor     *string
	EndCursor       *string
}

// DeletedTask is the answer to removing a task: the task as it was, and its
// owner's counts after the removal.
type DeletedTask struct {
	Task  Task
	Stats TaskStats
}

// DeletedTaskID is the removed task's id.
func (d DeletedTask) DeletedTaskID() string { return d.Task.ID }

// AuthPayload is the answer to a successful login or refresh.
type AuthPayload struct {
	AccessToken      string
	TokenType        string // always "bearer"
	ExpiresIn        int    // seconds
	RefreshToken     string
	RefreshExpiresIn int // seconds until the refresh token expires if unused
	User             User
}
