// Package core is taskapi's domain: users, tasks and their statistics, the
// rules every entry point shares (validation, who may do what), the closed set
// of domain errors, and Service, the one place those rules run. GraphQL
// resolvers and REST handlers are thin adapters over Service; stores implement
// Store. Nothing here imports HTTP, GraphQL, AWS or Redis.
package core

import (
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
	switch st := TaskStatus(strings.ToLower(s)); st {
	case StatusPending, StatusOngoing, StatusComplete:
		return st, nil
	}
	return "", fmt.Errorf("unknown task status %q", s)
}

// ActivationStatus says whether a user may log in and use their tokens.
type ActivationStatus string

const (
	Active   ActivationStatus = "active"
	Inactive ActivationStatus = "inactive"
)

// ParseActivationStatus accepts the legacy lowercase spelling and the GraphQL uppercase one.
func ParseActivationStatus(s string) (ActivationStatus, error) {
	switch a := ActivationStatus(strings.ToLower(s)); a {
	case Active, Inactive:
		return a, nil
	}
	return "", fmt.Errorf("unknown activation status %q", s)
}

// User is a person who keeps tasks. PasswordHash is an argon2id PHC string; it
// never leaves the service through any API.
type User struct {
	ID               string
	Username         string
	Email            string // always lowercase
	PasswordHash     string
	Role             Role
	ActivationStatus ActivationStatus
	CreatedAt        time.Time
}

// IsAdmin reports whether u may manage users.
func (u User) IsAdmin() bool { return u.Role == RoleAdmin }

// IsActive reports whether u may log in and use tokens.
func (u User) IsActive() bool { return u.ActivationStatus == Active }

// Task is one item of a user's work. ID is a UUIDv7, so ordering by ID is
// ordering by creation time.
type Task struct {
	ID          string
	UserID      string
	Title       string
	Description string
	Status      TaskStatus
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// TaskStats counts a user's tasks per status. Stores keep it exact after
// every write.
type TaskStats struct {
	Pending  int
	Ongoing  int
	Complete int
}

// Total is the number of tasks in every status.
func (s TaskStats) Total() int { return s.Pending + s.Ongoing + s.Complete }

// Count returns the number of tasks in status st.
func (s TaskStats) Count(st TaskStatus) int {
	switch st {
	case StatusPending:
		return s.Pending
	case StatusOngoing:
		return s.Ongoing
	case StatusComplete:
		return s.Complete
	}
	return 0
}

// Add returns s with n added to the count of st (n may be negative).
func (s TaskStats) Add(st TaskStatus, n int) TaskStats {
	switch st {
	case StatusPending:
		s.Pending += n
	case StatusOngoing:
		s.Ongoing += n
	case StatusComplete:
		s.Complete += n
	}
	return s
}

// RegisterInput is what a new user sends.
type RegisterInput struct {
	Username         string
	Email            string
	Password         string
	Role             *Role             // nil: RoleUser
	ActivationStatus *ActivationStatus // nil: Active
}

// CreateTaskInput is a new task; it starts pending.
type CreateTaskInput struct {
	Title       string
	Description string
}

// UpdateTaskInput changes the fields that are set.
type UpdateTaskInput struct {
	Title       *string
	Description *string
	Status      *TaskStatus
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
	Edges      []TaskEdge
	PageInfo   PageInfo
	TotalCount int
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

// PageInfo tells a client whether to ask for more.
type PageInfo struct {
	HasNextPage bool
	EndCursor   *string
}

// AuthPayload is the answer to a successful login.
type AuthPayload struct {
	AccessToken string
	TokenType   string // always "bearer"
	ExpiresIn   int    // seconds
	User        User
}
