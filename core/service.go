package core

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Page sizes for the Relay connections.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100 // a larger `first` is capped to this
	// scanPageSize is the store page size used to gather whole lists (the
	// legacy REST endpoints return every task, every user).
	scanPageSize = 500
)

// LoginLimiter bounds login attempts. Allow records one attempt for each key
// and returns how long the caller must wait when any key is over its limit
// (0 to go ahead). An error means the limiter could not decide; the service
// then lets the attempt through (the hash semaphore still bounds the cost).
type LoginLimiter interface {
	Allow(ctx context.Context, keys ...string) (time.Duration, error)
}

// Service runs every use case of taskapi. It is safe for concurrent use.
type Service struct {
	store   Store
	hasher  *Hasher
	tokens  *Tokens
	cursors cursors
	limiter LoginLimiter
	now     func() time.Time
	log     *slog.Logger
}

// Config holds a Service's dependencies. Store, Hasher and Tokens are
// required; CursorSecret keys the pagination cursors.
type Config struct {
	Store        Store
	Hasher       *Hasher
	Tokens       *Tokens
	CursorSecret []byte
	Limiter      LoginLimiter     // optional
	Now          func() time.Time // optional, for tests
	Logger       *slog.Logger     // optional
}

// NewService returns a Service.
func NewService(c Config) *Service {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{
		store:   c.Store,
		hasher:  c.Hasher,
		tokens:  c.Tokens,
		cursors: newCursors(c.CursorSecret),
		limiter: c.Limiter,
		now:     func() time.Time { return c.Now().UTC().Truncate(time.Millisecond) },
		log:     c.Logger,
	}
}

// ---- who is asking ----

type authKey struct{}

// authState memoizes one request's authentication, so a GraphQL query that
// checks @auth on many fields loads the user once.
type authState struct {
	token    string
	clientIP string
	once     sync.Once
	user     User
	version  string // VersionedStore's version of the user's data, or ""
	err      error
}

// WithRequest returns ctx carrying the request's bearer token ("" if none)
// and client address. Transports call it once per request; Service.Actor
// resolves the token lazily.
func WithRequest(ctx context.Context, bearerToken, clientIP string) context.Context {
	return context.WithValue(ctx, authKey{}, &authState{token: bearerToken, clientIP: clientIP})
}

func state(ctx context.Context) *authState {
	s, _ := ctx.Value(authKey{}).(*authState)
	if s == nil {
		return &authState{}
	}
	return s
}

// ErrNotAuthenticated is the answer when no credentials were sent.
var ErrNotAuthenticated = &Error{Code: CodeUnauthenticated, Message: "Not authenticated"}

// Actor returns the user whose token the request carries. It fails with
// CodeUnauthenticated when there is no token, the token is bad or expired,
// or its user is absent or no longer active: deactivation takes effect on
// the very next request.
func (s *Service) Actor(ctx context.Context) (User, error) {
	st := state(ctx)
	if st.token == "" {
		return User{}, ErrNotAuthenticated
	}
	st.once.Do(func() { st.user, st.version, st.err = s.authenticate(ctx, st.token) })
	return st.user, st.err
}

// ReadVersion returns the caller and an opaque version of everything they
// can read (their record, tasks and stats), taken when the request was
// authenticated, at no extra cost: it changes before any write to that data
// returns. Transports key per-user response caches on (user, version, what
// was asked). The version is "" when the store cannot tell (see
// VersionedStore): then nothing may be cached.
func (s *Service) ReadVersion(ctx context.Context) (User, string, error) {
	u, err := s.Actor(ctx)
	if err != nil {
		return User{}, "", err
	}
	return u, state(ctx).version, nil
}

// HasCredentials reports whether the request carries a bearer token at all.
func HasCredentials(ctx context.Context) bool { return state(ctx).token != "" }

func (s *Service) authenticate(ctx context.Context, token string) (User, string, error) {
	id, err := s.tokens.Parse(token)
	if err != nil {
		return User{}, "", err
	}
	var (
		u       User
		version string
	)
	if vs, ok := s.store.(VersionedStore); ok {
		u, version, err = vs.GetUserVersion(ctx, id)
	} else {
		u, err = s.store.GetUser(ctx, id)
	}
	switch {
	case errors.Is(err, ErrNotFound):
		return User{}, "", errBadToken
	case err != nil:
		return User{}, "", err
	case !u.IsActive():
		return User{}, "", &Error{Code: CodeUnauthenticated, Message: "Inactive user"}
	}
	return u, version, nil
}

// Admin returns the actor if they are an admin, else CodeForbidden (or
// CodeUnauthenticated when there is no valid token).
func (s *Service) Admin(ctx context.Context) (User, error) {
	u, err := s.Actor(ctx)
	if err != nil {
		return User{}, err
	}
	if !u.IsAdmin() {
		return User{}, errNotAdmin
	}
	return u, nil
}

var errNotAdmin = &Error{Code: CodeForbidden, Message: "Admin privileges required"}

// ---- accounts ----

// Register creates a user. Anyone may register as a user; only a request
// carrying an admin's token may create an admin.
func (s *Service) Register(ctx context.Context, in RegisterInput) (User, error) {
	in, err := ValidateRegister(in)
	if err != nil {
		return User{}, err
	}
	role, status := RoleUser, Active
	if in.Role != nil {
		role = *in.Role
	}
	if in.ActivationStatus != nil {
		status = *in.ActivationStatus
	}
	if role == RoleAdmin {
		if _, err := s.Admin(ctx); err != nil {
			return User{}, &Error{Code: CodeForbidden, Message: "Only an admin can create an admin", Err: err}
		}
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return User{}, err
	}
	return s.store.CreateUser(ctx, User{
		Username:         in.Username,
		Email:            in.Email,
		PasswordHash:     hash,
		Role:             role,
		ActivationStatus: status,
		CreatedAt:        s.now(),
	})
}

var errBadLogin = &Error{Code: CodeUnauthenticated, Message: "Incorrect email or password"}

// Login checks an email and password and issues a token. An unknown email
// and a wrong password get the same answer after the same work.
func (s *Service) Login(ctx context.Context, email, password string) (AuthPayload, error) {
	email = NormalizeEmail(email)
	if s.limiter != nil {
		keys := []string{"email:" + email}
		if ip := state(ctx).clientIP; ip != "" {
			keys = append(keys, "ip:"+ip)
		}
		wait, err := s.limiter.Allow(ctx, keys...)
		if err != nil {
			s.log.WarnContext(ctx, "login rate limiter unavailable; attempt allowed", "err", err)
		} else if wait > 0 {
			return AuthPayload{}, &Error{Code: CodeRateLimited, Message: "Too many login attempts; try again later", RetryAfter: wait}
		}
	}
	if len(password) > 4*MaxPasswordLen || len(email) > MaxEmailLen {
		// No stored password can be this long: refuse without hashing it.
		return AuthPayload{}, errBadLogin
	}
	u, err := s.store.GetUserByEmail(ctx, email)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return AuthPayload{}, err
	}
	ok, err := s.hasher.Verify(ctx, password, u.PasswordHash) // "" hash: dummy work
	if err != nil {
		return AuthPayload{}, err
	}
	if !ok {
		return AuthPayload{}, errBadLogin
	}
	if !u.IsActive() {
		return AuthPayload{}, &Error{Code: CodeForbidden, Message: "Inactive user"}
	}
	tok, err := s.tokens.Issue(u.ID)
	if err != nil {
		return AuthPayload{}, err
	}
	return AuthPayload{AccessToken: tok, TokenType: "bearer", ExpiresIn: int(s.tokens.TTL().Seconds()), User: u}, nil
}

// Me returns the caller.
func (s *Service) Me(ctx context.Context) (User, error) { return s.Actor(ctx) }

// Stats returns the task counts of user: a user reads their own, an admin
// anyone's (counts, not contents).
func (s *Service) Stats(ctx context.Context, userID string) (TaskStats, error) {
	u, err := s.Actor(ctx)
	if err != nil {
		return TaskStats{}, err
	}
	if u.ID != userID && !u.IsAdmin() {
		return TaskStats{}, &Error{Code: CodeForbidden, Message: "Task statistics are private to their owner"}
	}
	return s.store.TaskStats(ctx, userID)
}

// ---- tasks ----

// CreateTask adds a pending task for the caller.
func (s *Service) CreateTask(ctx context.Context, in CreateTaskInput) (Task, error) {
	u, err := s.Actor(ctx)
	if err != nil {
		return Task{}, err
	}
	if in, err = ValidateCreateTask(in); err != nil {
		return Task{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Task{}, err
	}
	now := s.now()
	t := Task{ID: id.String(), UserID: u.ID, Title: in.Title, Description: in.Description, Status: StatusPending, CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateTask(ctx, t); err != nil {
		return Task{}, err
	}
	return t, nil
}

var errTaskNotFound = &Error{Code: CodeNotFound, Message: "Task not found"}

// taskID checks the shape of a task id, so garbage never reaches a store.
func taskID(id string) (string, error) {
	u, err := uuid.Parse(strings.TrimSpace(id))
	if err != nil {
		return "", errTaskNotFound
	}
	return u.String(), nil
}

// GetTask returns the caller's task id; someone else's is ErrNotFound.
func (s *Service) GetTask(ctx context.Context, id string) (Task, error) {
	u, err := s.Actor(ctx)
	if err != nil {
		return Task{}, err
	}
	if id, err = taskID(id); err != nil {
		return Task{}, err
	}
	t, err := s.store.GetTask(ctx, u.ID, id)
	return t, notFound(err, errTaskNotFound)
}

// UpdateTask changes the caller's task id.
func (s *Service) UpdateTask(ctx context.Context, id string, in UpdateTaskInput) (Task, error) {
	u, err := s.Actor(ctx)
	if err != nil {
		return Task{}, err
	}
	if in, err = ValidateUpdateTask(in); err != nil {
		return Task{}, err
	}
	if id, err = taskID(id); err != nil {
		return Task{}, err
	}
	t, err := s.store.UpdateTask(ctx, u.ID, id, TaskPatch{Title: in.Title, Description: in.Description, Status: in.Status, UpdatedAt: s.now()})
	return t, notFound(err, errTaskNotFound)
}

// DeleteTask removes the caller's task id.
func (s *Service) DeleteTask(ctx context.Context, id string) error {
	u, err := s.Actor(ctx)
	if err != nil {
		return err
	}
	if id, err = taskID(id); err != nil {
		return err
	}
	return notFound(s.store.DeleteTask(ctx, u.ID, id), errTaskNotFound)
}

// pageSize turns a client's `first` into a store limit.
func pageSize(first *int) (int, error) {
	switch {
	case first == nil:
		return DefaultPageSize, nil
	case *first < 0:
		return 0, Invalid(FieldError{Field: "first", Type: "greater_than_equal", Msg: "Input should be greater than or equal to 0", Input: *first, Ctx: map[string]any{"ge": 0}})
	case *first > MaxPageSize:
		return MaxPageSize, nil
	}
	return *first, nil
}

// ListTasks returns a page of the caller's tasks, oldest first, optionally
// with one status only. first is capped at MaxPageSize.
func (s *Service) ListTasks(ctx context.Context, status *TaskStatus, first *int, after *string) (TaskConnection, error) {
	u, err := s.Actor(ctx)
	if err != nil {
		return TaskConnection{}, err
	}
	limit, err := pageSize(first)
	if err != nil {
		return TaskConnection{}, err
	}
	if status != nil && !status.Valid() {
		return TaskConnection{}, Invalid(FieldError{Field: "status", Type: "enum", Msg: "Input should be " + statusesAllowed, Input: string(*status)})
	}
	scope := "tasks\x00" + u.ID + "\x00"
	if status != nil {
		scope += string(*status)
	}
	pos, err := s.cursors.decode(scope, deref(after))
	if err != nil {
		return TaskConnection{}, err
	}
	q := TaskQuery{Status: status, After: pos, Limit: max(limit, 1)}
	tasks, more, err := s.store.ListTasks(ctx, u.ID, q)
	if err != nil {
		return TaskConnection{}, err
	}
	if limit == 0 {
		more, tasks = len(tasks) > 0, nil
	}
	stats, err := s.store.TaskStats(ctx, u.ID)
	if err != nil {
		return TaskConnection{}, err
	}
	c := TaskConnection{Edges: make([]TaskEdge, len(tasks)), TotalCount: stats.Total()}
	if status != nil {
		c.TotalCount = stats.Count(*status)
	}
	for i, t := range tasks {
		c.Edges[i] = TaskEdge{Cursor: s.cursors.encode(scope, t.ID), Node: t}
	}
	c.PageInfo.HasNextPage = more
	if n := len(c.Edges); n > 0 {
		c.PageInfo.EndCursor = &c.Edges[n-1].Cursor
	}
	return c, nil
}

// AllTasks returns every task of the caller, oldest first (the legacy
// fetch-task endpoint).
func (s *Service) AllTasks(ctx context.Context) ([]Task, error) {
	u, err := s.Actor(ctx)
	if err != nil {
		return nil, err
	}
	return collect(func(after string) ([]Task, bool, error) {
		return s.store.ListTasks(ctx, u.ID, TaskQuery{After: after, Limit: scanPageSize})
	}, func(t Task) string { return t.ID })
}

// ---- users (admins) ----

var errUserNotFound = &Error{Code: CodeNotFound, Message: "User not found"}

// GetUser returns user id to an admin.
func (s *Service) GetUser(ctx context.Context, id string) (User, error) {
	if _, err := s.Admin(ctx); err != nil {
		return User{}, err
	}
	u, err := s.store.GetUser(ctx, strings.TrimSpace(id))
	return u, notFound(err, errUserNotFound)
}

// ListUsers returns a page of users to an admin.
func (s *Service) ListUsers(ctx context.Context, first *int, after *string) (UserConnection, error) {
	if _, err := s.Admin(ctx); err != nil {
		return UserConnection{}, err
	}
	limit, err := pageSize(first)
	if err != nil {
		return UserConnection{}, err
	}
	const scope = "users"
	pos, err := s.cursors.decode(scope, deref(after))
	if err != nil {
		return UserConnection{}, err
	}
	users, more, err := s.store.ListUsers(ctx, pos, max(limit, 1))
	if err != nil {
		return UserConnection{}, err
	}
	if limit == 0 {
		more, users = len(users) > 0, nil
	}
	c := UserConnection{Edges: make([]UserEdge, len(users))}
	for i, u := range users {
		c.Edges[i] = UserEdge{Cursor: s.cursors.encode(scope, u.ID), Node: u}
	}
	c.PageInfo.HasNextPage = more
	if n := len(c.Edges); n > 0 {
		c.PageInfo.EndCursor = &c.Edges[n-1].Cursor
	}
	return c, nil
}

// AllUsers returns every user to an admin (the legacy admin/users endpoint).
func (s *Service) AllUsers(ctx context.Context) ([]User, error) {
	if _, err := s.Admin(ctx); err != nil {
		return nil, err
	}
	return collect(func(after string) ([]User, bool, error) {
		return s.store.ListUsers(ctx, after, scanPageSize)
	}, func(u User) string { return u.ID })
}

// UpdateUser is an admin's change to user id. An admin cannot change their
// own role or activation status, so the last admin cannot lock everyone out
// by mistake.
func (s *Service) UpdateUser(ctx context.Context, id string, in UpdateUserInput) (User, error) {
	admin, err := s.Admin(ctx)
	if err != nil {
		return User{}, err
	}
	if in, err = ValidateUpdateUser(in); err != nil {
		return User{}, err
	}
	id = strings.TrimSpace(id)
	if id == admin.ID && ((in.Role != nil && *in.Role != admin.Role) || (in.ActivationStatus != nil && *in.ActivationStatus != admin.ActivationStatus)) {
		return User{}, &Error{Code: CodeForbidden, Message: "Admins cannot change their own role or activation status"}
	}
	p := UserPatch{Username: in.Username, Email: in.Email, Role: in.Role, ActivationStatus: in.ActivationStatus}
	if in.Password != nil {
		h, err := s.hasher.Hash(ctx, *in.Password)
		if err != nil {
			return User{}, err
		}
		p.PasswordHash = &h
	}
	u, err := s.store.UpdateUser(ctx, id, p)
	return u, notFound(err, errUserNotFound)
}

// CreateAdmin creates an admin, or promotes (and reactivates) the user with
// that email, setting the given password. It is for the operator's
// command line, not for any API.
func (s *Service) CreateAdmin(ctx context.Context, email, password, username string) (User, bool, error) {
	if username == "" {
		username, _, _ = strings.Cut(strings.TrimSpace(email), "@")
	}
	in, err := ValidateRegister(RegisterInput{Username: username, Email: email, Password: password})
	if err != nil {
		return User{}, false, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return User{}, false, err
	}
	role, active := RoleAdmin, Active
	existing, err := s.store.GetUserByEmail(ctx, in.Email)
	switch {
	case err == nil:
		u, err := s.store.UpdateUser(ctx, existing.ID, UserPatch{PasswordHash: &hash, Role: &role, ActivationStatus: &active})
		return u, false, err
	case !errors.Is(err, ErrNotFound):
		return User{}, false, err
	}
	u, err := s.store.CreateUser(ctx, User{Username: in.Username, Email: in.Email, PasswordHash: hash, Role: role, ActivationStatus: active, CreatedAt: s.now()})
	return u, true, err
}

// collect gathers every page of a store listing: page returns the items
// after a position, and id gives the position of an item.
func collect[T any](page func(after string) ([]T, bool, error), id func(T) string) ([]T, error) {
	all := []T{}
	for after := ""; ; {
		items, more, err := page(after)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if !more || len(items) == 0 {
			return all, nil
		}
		after = id(items[len(items)-1])
	}
}

// notFound replaces a bare ErrNotFound with a message for the client.
func notFound(err, with error) error {
	if err != nil && errors.Is(err, ErrNotFound) {
		return with
	}
	return err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
