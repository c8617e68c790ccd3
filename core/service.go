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

// DefaultMaxTasksPerUser is the default of Config.MaxTasksPerUser.
const DefaultMaxTasksPerUser = 10_000

// Service runs every use case of taskapi. It is safe for concurrent use.
type Service struct {
	store    Store
	hasher   *Hasher
	tokens   *Tokens
	cursors  cursors
	limiter  *Limiter
	userNums *userNumbers
	maxTasks int
	sessTTL  time.Duration
	idleTTL  time.Duration
	now      func() time.Time
	log      *slog.Logger
	obs      Observer
	authed   func(ctx context.Context, userID string)

	events        EventBus // committed changes, to subscriptions (events.go)
	subscriptions subscriptionSlots
	recheck       time.Duration
}

// Config holds a Service's dependencies. Store, Hasher and Tokens are
// required; CursorSecret keys the pagination cursors.
type Config struct {
	Store        Store
	Hasher       *Hasher
	Tokens       *Tokens
	CursorSecret []byte
	Limiter      *Limiter         // rate limits (limits.go); nil: none
	Now          func() time.Time // optional, for tests
	Logger       *slog.Logger     // optional
	Observer     Observer         // optional: counts rate-limit refusals and login failures
	// MaxTasksPerUser bounds how many tasks one user may keep (0:
	// DefaultMaxTasksPerUser; negative: no limit).
	MaxTasksPerUser int
	// UserIDBlock is how many user numbers one store round trip reserves
	// (0 or 1: one per registration, no gaps).
	UserIDBlock int
	// SessionTTL and SessionIdleTTL bound a session's life (0: the
	// defaults, 30 and 7 days; see session.go).
	SessionTTL, SessionIdleTTL time.Duration
	// Authenticated, if set, is told the user id of each request whose
	// token was accepted, once per request, and of each successful login
	// (the trace's user id: internal/tracing.SetUser). It must not block.
	Authenticated func(ctx context.Context, userID string)
	// Events carries committed changes to subscriptions (nil: within this
	// process, a LocalBus; store/cache's Redis bus across instances).
	Events EventBus
	// SubscriptionRecheck is how often a subscription checks its caller
	// again (0: SubscriptionRecheck); tests shorten it.
	SubscriptionRecheck time.Duration
}

// NewService returns a Service.
func NewService(c Config) *Service {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MaxTasksPerUser == 0 {
		c.MaxTasksPerUser = DefaultMaxTasksPerUser
	}
	if c.SessionTTL <= 0 {
		c.SessionTTL = DefaultSessionTTL
	}
	if c.SessionIdleTTL <= 0 {
		c.SessionIdleTTL = DefaultSessionIdleTTL
	}
	if c.Events == nil {
		c.Events = NewLocalBus()
	}
	if c.SubscriptionRecheck <= 0 {
		c.SubscriptionRecheck = SubscriptionRecheck
	}
	if c.Limiter != nil && c.Observer != nil {
		l := *c.Limiter // a copy: the caller's Limiter stays as it was given
		l.obs = c.Observer
		c.Limiter = &l
	}
	return &Service{
		obs:      c.Observer,
		store:    c.Store,
		hasher:   c.Hasher,
		tokens:   c.Tokens,
		cursors:  newCursors(c.CursorSecret),
		limiter:  c.Limiter,
		userNums: &userNumbers{block: max(c.UserIDBlock, 1)},
		maxTasks: c.MaxTasksPerUser,
		sessTTL:  c.SessionTTL,
		idleTTL:  min(c.SessionIdleTTL, c.SessionTTL),
		now:      func() time.Time { return c.Now().UTC().Truncate(time.Millisecond) },
		log:      c.Logger,
		authed:   c.Authenticated,
		events:   c.Events,
		recheck:  c.SubscriptionRecheck,
	}
}

// ---- who is asking ----

type authKey struct{}

// authState memoizes one request's authentication, so a GraphQL query that
// checks @auth on many fields loads the user once.
type authState struct {
	token     string
	clientIP  string
	userAgent string
	once      sync.Once
	user      User
	sessionID string // of the token, once authenticated ("" for a legacy token)
	version   string // VersionedStore's version of the user's data, or ""
	err       error
}

// WithRequest returns ctx carrying the request's bearer token ("" if none)
// and client address. Transports call it once per request; Service.Actor
// resolves the token lazily.
func WithRequest(ctx context.Context, bearerToken, clientIP string) context.Context {
	return context.WithValue(ctx, authKey{}, &authState{token: bearerToken, clientIP: clientIP})
}

// WithBearer returns ctx (made by WithRequest) with another bearer token:
// a WebSocket's, sent in its connection_init message rather than in a
// header. The client's address and User-Agent stay.
func WithBearer(ctx context.Context, bearerToken string) context.Context {
	next := &authState{token: bearerToken}
	if st, ok := ctx.Value(authKey{}).(*authState); ok {
		next.clientIP, next.userAgent = st.clientIP, st.userAgent
	}
	return context.WithValue(ctx, authKey{}, next)
}

// Renewed returns ctx with the same credentials and a fresh
// authentication: each operation of a long-lived connection (a WebSocket,
// whose context outlives its operations) is authorized as the store has
// its user when it runs, not as when the connection opened.
func Renewed(ctx context.Context) context.Context {
	st, ok := ctx.Value(authKey{}).(*authState)
	if !ok {
		return ctx
	}
	return context.WithValue(ctx, authKey{}, &authState{token: st.token, clientIP: st.clientIP, userAgent: st.userAgent})
}

// WithUserAgent records the client's User-Agent on a request's context made
// by WithRequest (sessions keep it, to be recognized in User.sessions).
func WithUserAgent(ctx context.Context, userAgent string) context.Context {
	if st, ok := ctx.Value(authKey{}).(*authState); ok {
		st.userAgent = userAgent
	}
	return ctx
}

func state(ctx context.Context) *authState {
	s, _ := ctx.Value(authKey{}).(*authState)
	if s == nil {
		return &authState{}
	}
	return s
}

// errNoCredentials is the answer when no credentials were sent.
var errNoCredentials = &Error{Code: CodeUnauthenticated, Message: "Not authenticated"}

// Actor returns the user whose token the request carries. It fails with
// CodeUnauthenticated when there is no token, the token is bad or expired,
// or its user is absent or no longer active: deactivation takes effect on
// the very next request.
func (s *Service) Actor(ctx context.Context) (User, error) {
	st := state(ctx)
	if st.token == "" {
		return User{}, errNoCredentials
	}
	st.once.Do(func() {
		st.user, st.sessionID, st.version, st.err = s.authenticate(ctx, st.token)
		if st.err == nil && s.authed != nil {
			s.authed(ctx, st.user.ID)
		}
	})
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

// errSessionEnded is the answer to a token whose session is over (logout,
// revocation, expiry, an admin's change): clients refresh or log in again.
var errSessionEnded = &Error{Code: CodeUnauthenticated, Message: "Session ended; log in again"}

func (s *Service) authenticate(ctx context.Context, token string) (u User, sessionID, version string, err error) {
	c, err := s.tokens.Parse(token)
	if err != nil {
		return User{}, "", "", err
	}
	if _, ok := ParseUserID(c.UserID); !ok {
		return User{}, "", "", errBadToken
	}
	if vs, ok := s.store.(VersionedStore); ok {
		u, version, err = vs.GetUserVersion(ctx, c.UserID)
	} else {
		u, err = s.store.GetUser(ctx, c.UserID)
	}
	switch {
	case errors.Is(err, ErrNotFound) || (err == nil && u.Deleted()):
		return User{}, "", "", errBadToken
	case err != nil:
		return User{}, "", "", err
	case !u.IsActive():
		return User{}, "", "", &Error{Code: CodeUnauthenticated, Message: "Inactive user"}
	case c.SessionID != "" && !u.Sessions.Live(c.SessionID, s.now()):
		return User{}, "", "", errSessionEnded
	case c.SessionID == "" && !u.Sessions.AcceptsLegacy(c.IssuedAt):
		return User{}, "", "", errSessionEnded
	}
	return u, c.SessionID, version, nil
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

var (
	errEmailTaken    = &Error{Code: CodeConflict, Message: "Email already registered"}
	errAdminOnly     = &Error{Code: CodeForbidden, Message: "Only an admin can create an admin"}
	errBadLogin      = &Error{Code: CodeUnauthenticated, Message: "Incorrect email or password"}
	errInactiveUser  = &Error{Code: CodeForbidden, Message: "Inactive user"}
	errPasswordReset = &Error{Code: CodePasswordResetRequired,
		Message: "Password reset required: this account's password was not carried over; ask an administrator to set a new one"}
)

// Register creates a user. Anyone may register as a user; only a request
// carrying an admin's token may create an admin.
func (s *Service) Register(ctx context.Context, in RegisterInput) (User, error) {
	r, err := ParseRegister(in)
	if err != nil {
		return User{}, err
	}
	if err := s.limiter.register(ctx, func() bool { _, err := s.Admin(ctx); return err == nil }); err != nil {
		return User{}, err
	}
	if r.Role == RoleAdmin {
		if _, err := s.Admin(ctx); err != nil {
			return User{}, &Error{Code: CodeForbidden, Message: errAdminOnly.Message, Err: err}
		}
	}
	hash, err := s.hasher.Hash(ctx, r.Password.Reveal())
	if err != nil {
		return User{}, err
	}
	return s.createUser(ctx, User{
		Username:         r.Username,
		Email:            r.Email,
		PasswordHash:     hash,
		Role:             r.Role,
		ActivationStatus: r.ActivationStatus,
		CreatedAt:        s.now(),
	})
}

// createUser gives u the next id and stores it.
func (s *Service) createUser(ctx context.Context, u User) (User, error) {
	n, err := s.userNums.take(ctx, s.store)
	if err != nil {
		return User{}, err
	}
	u.ID = UserID(n)
	created, err := s.store.CreateUser(ctx, u)
	if errors.Is(err, ErrConflict) && s.finishDeletionOf(ctx, u.Email.Key()) {
		created, err = s.store.CreateUser(ctx, u) // the address is free now
	}
	if errors.Is(err, ErrConflict) {
		return User{}, errEmailTaken
	}
	if err != nil {
		return User{}, err
	}
	s.userChanged(ctx, UserCreated, created)
	return created, nil
}

// finishDeletionOf finishes the deletion of the account holding email key,
// if one has begun (account.go), and reports whether it did.
func (s *Service) finishDeletionOf(ctx context.Context, key EmailKey) bool {
	u, err := s.store.GetUserByEmail(ctx, key)
	if err != nil || !u.Deleted() {
		return false
	}
	if err := s.finishDeletion(context.WithoutCancel(ctx), u.ID); err != nil {
		s.log.ErrorContext(ctx, "finishing an account deletion failed", "user_id", u.ID, "err", err)
		return false
	}
	return true
}

// Login checks an email and password and issues a token. An unknown email
// and a wrong password get the same answer after the same work, for an
// inactive account too. Only the right password of an inactive account
// answers "Inactive user" (legacy clients show it): that tells whoever
// already knows the password that the account is deactivated, and nothing
// to anyone else; guessing is bounded by the login rate limits as for any
// account (docs/graphql.md, docs/rest.md).
func (s *Service) Login(ctx context.Context, email, password string) (_ AuthPayload, err error) {
	if s.obs != nil {
		defer func() { s.loginFailed(err) }()
	}
	key := KeyOf(email)
	if err := s.limiter.login(ctx, string(key)); err != nil {
		return AuthPayload{}, err
	}
	if len(password) > 4*MaxPasswordLen || len(email) > MaxEmailLen {
		// No stored password can be this long: refuse without hashing it.
		return AuthPayload{}, errBadLogin
	}
	u, err := s.store.GetUserByEmail(ctx, key)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return AuthPayload{}, err
	}
	if u.Deleted() {
		u = User{} // gone: the same answer as an unknown email
	}
	if u.NeedsPasswordReset {
		// Its stored password is the legacy app's, which taskapi cannot
		// check: the same work as a login, then the documented answer.
		_, _ = s.hasher.Verify(ctx, password, "")
		return AuthPayload{}, errPasswordReset
	}
	ok, err := s.hasher.Verify(ctx, password, u.PasswordHash) // "" hash: dummy work
	switch {
	case err != nil:
		return AuthPayload{}, err
	case !ok:
		return AuthPayload{}, errBadLogin
	case !u.IsActive():
		return AuthPayload{}, errInactiveUser
	}
	if s.authed != nil {
		s.authed(ctx, u.ID) // the password was the credential
	}
	return s.startSession(ctx, u)
}

// loginFailed tells the Observer why a login failed, if it did for a
// reason of its own (a rate limit counts itself; a store error is not the
// caller's failure).
func (s *Service) loginFailed(err error) {
	switch {
	case err == nil:
	case errors.Is(err, errBadLogin):
		s.obs.LoginFailed(LoginFailureCredentials)
	case errors.Is(err, errInactiveUser):
		s.obs.LoginFailed(LoginFailureInactive)
	case errors.Is(err, errPasswordReset):
		s.obs.LoginFailed(LoginFailurePasswordReset)
	}
}

// passwordHash reads u's password hash from the store itself: the record
// an authenticated request holds may come from a cache, which keeps none
// (Store.GetUser).
func (s *Service) passwordHash(ctx context.Context, u User) (string, error) {
	fresh, err := s.store.GetUserByEmail(ctx, u.Email.Key())
	switch {
	case errors.Is(err, ErrNotFound) || (err == nil && fresh.ID != u.ID):
		return "", nil // gone or changed meanwhile: no password matches
	case err != nil:
		return "", err
	}
	return fresh.PasswordHash, nil
}

// Me returns the caller.
func (s *Service) Me(ctx context.Context) (User, error) { return s.Actor(ctx) }

// Node is what a global id names: a Task or a User (the GraphQL Node
// interface, for clients that refetch any object by its id alone).
type Node interface{ isNode() }

func (Task) isNode() {}
func (User) isNode() {}

// Node returns the task or user id names, under the rules of GetTask and
// GetUser, except that anyone may read themself; nil (no error) for an id
// that names nothing the caller may read, so that, as for GetTask, nobody
// learns what exists beyond it. Task ids (UUIDs) and user ids (VAH…) never
// look alike, so ids need no type prefix and stay the ones the rest of the
// API shows.
func (s *Service) Node(ctx context.Context, id string) (Node, error) {
	u, err := s.Actor(ctx)
	if err != nil {
		return nil, err
	}
	var n Node
	switch _, isTask := ParseTaskID(id); {
	case isTask:
		n, err = s.GetTask(ctx, id)
	case strings.TrimSpace(id) == u.ID:
		return u, nil
	case u.IsAdmin():
		n, err = s.GetUser(ctx, id)
	default:
		return nil, nil
	}
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return n, nil
}

// TaskOwner returns the owner of t, a task the caller read: the caller.
func (s *Service) TaskOwner(ctx context.Context, t Task) (User, error) {
	u, err := s.Actor(ctx)
	if err != nil {
		return User{}, err
	}
	if u.ID != t.UserID { // unreachable: tasks are only their owner's to read
		return User{}, errTaskNotFound
	}
	return u, nil
}

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

var errTaskNotFound = &Error{Code: CodeNotFound, Message: "Task not found"}

// CreateTask adds a pending task for the caller, within their task quota.
func (s *Service) CreateTask(ctx context.Context, in CreateTaskInput) (Task, error) {
	u, err := s.Actor(ctx)
	if err != nil {
		return Task{}, err
	}
	if err := s.limiter.write(ctx, u.ID); err != nil {
		return Task{}, err
	}
	nt, err := ParseCreateTask(in)
	if err != nil {
		return Task{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Task{}, err
	}
	now := s.now()
	t := Task{ID: id.String(), UserID: u.ID, Title: nt.Title, Description: nt.Description, Status: StatusPending, CreatedAt: now, UpdatedAt: now, DueDate: nt.DueDate}
	if err := s.store.CreateTask(ctx, t, max(s.maxTasks, 0)); err != nil {
		if errors.Is(err, ErrPrecondition) {
			return Task{}, Errorf(CodeInvalid, "Task limit reached: a user may keep at most %d tasks", s.maxTasks)
		}
		return Task{}, err
	}
	s.taskChanged(ctx, TaskCreated, t)
	return t, nil
}

// taskID checks the shape of a task id, so garbage never reaches a store.
func taskID(id string) (string, error) {
	if id, ok := ParseTaskID(id); ok {
		return id, nil
	}
	return "", errTaskNotFound
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
	if err := s.limiter.write(ctx, u.ID); err != nil {
		return Task{}, err
	}
	p, err := ParseUpdateTask(in)
	if err != nil {
		return Task{}, err
	}
	if id, err = taskID(id); err != nil {
		return Task{}, err
	}
	p.UpdatedAt = s.now()
	t, err := s.store.UpdateTask(ctx, u.ID, id, p)
	if err != nil {
		return Task{}, notFound(err, errTaskNotFound)
	}
	s.taskChanged(ctx, TaskUpdated, t)
	return t, nil
}

// DeleteTask removes the caller's task id.
func (s *Service) DeleteTask(ctx context.Context, id string) error {
	_, err := s.deleteTask(ctx, id)
	return err
}

// RemoveTask removes the caller's task id and returns it as it was, with
// the caller's counts after the removal (what a client cache needs).
func (s *Service) RemoveTask(ctx context.Context, id string) (DeletedTask, error) {
	t, err := s.deleteTask(ctx, id)
	if err != nil {
		return DeletedTask{}, err
	}
	// Not atomic with the delete: another write of the owner's in between
	// shows in these counts, which are then as fresh as a read can be.
	st, err := s.store.TaskStats(ctx, t.UserID)
	if err != nil {
		return DeletedTask{}, err
	}
	return DeletedTask{Task: t, Stats: st}, nil
}

func (s *Service) deleteTask(ctx context.Context, id string) (Task, error) {
	u, err := s.Actor(ctx)
	if err != nil {
		return Task{}, err
	}
	if err := s.limiter.write(ctx, u.ID); err != nil {
		return Task{}, err
	}
	if id, err = taskID(id); err != nil {
		return Task{}, err
	}
	t, err := s.store.DeleteTask(ctx, u.ID, id)
	if err != nil {
		return Task{}, notFound(err, errTaskNotFound)
	}
	s.taskChanged(ctx, TaskDeleted, t)
	return t, nil
}

// pageSize turns a client's `first` into a store limit.
func pageSize(first *int) (int, error) {
	switch {
	case first == nil:
		return DefaultPageSize, nil
	case *first < 0:
		return 0, Invalid(FieldError{Field: "first", Kind: KindRange, Min: 0, Input: *first})
	case *first > MaxPageSize:
		return MaxPageSize, nil
	}
	return *first, nil
}

// forField returns err, a one-field invalid input error, as the same error
// of another field (the errors it rewrites are shared values: not changed).
func forField(err error, field string) error {
	var e *Error
	if !errors.As(err, &e) || len(e.Fields) != 1 {
		return err
	}
	fe := e.Fields[0]
	fe.Field = field
	return Invalid(fe)
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
	}, func(t Task) string { return t.ID }, nil)
}

// ---- users (admins) ----

var errUserNotFound = &Error{Code: CodeNotFound, Message: "User not found"}

// GetUser returns user id to an admin.
func (s *Service) GetUser(ctx context.Context, id string) (User, error) {
	if _, err := s.Admin(ctx); err != nil {
		return User{}, err
	}
	id = strings.TrimSpace(id)
	if _, ok := ParseUserID(id); !ok {
		return User{}, errUserNotFound
	}
	u, err := s.getUser(ctx, id)
	return u, notFound(err, errUserNotFound)
}

// getUser is store.GetUser for a user that exists: one whose deletion has
// begun is ErrNotFound.
func (s *Service) getUser(ctx context.Context, id string) (User, error) {
	u, err := s.store.GetUser(ctx, id)
	if err == nil && u.Deleted() {
		return User{}, ErrNotFound
	}
	return u, err
}

// listUsers is store.ListUsers without the users whose deletion has begun
// (a page may come back shorter than limit; more still says what follows).
func (s *Service) listUsers(ctx context.Context, after string, limit int) ([]User, bool, error) {
	users, more, err := s.store.ListUsers(ctx, after, limit)
	if err != nil {
		return nil, false, err
	}
	kept := users[:0]
	for _, u := range users {
		if !u.Deleted() {
			kept = append(kept, u)
		}
	}
	if more && len(kept) == 0 && len(users) > 0 {
		return s.listUsers(ctx, users[len(users)-1].ID, limit)
	}
	return kept, more, nil
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
	users, more, err := s.listUsers(ctx, pos, max(limit, 1))
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
	}, func(u User) string { return u.ID }, func(u User) bool { return !u.Deleted() })
}

var (
	errAdminSelf      = &Error{Code: CodeForbidden, Message: "Admins cannot change their own role or activation status"}
	errAdminOverAdmin = &Error{Code: CodeForbidden, Message: "Admins cannot change another admin's email or password"}
	errLastAdmin      = &Error{Code: CodeConflict, Message: "At least one active admin must remain"}
)

// UpdateUser is an admin's change to user id. What an admin may do:
//   - to any user: change their username, role and activation status;
//   - to a user who is not an admin: also reset their password and email;
//   - never to themself: change their own role or activation status;
//   - never leave the system without an active admin (checked atomically
//     with the write, so two admins demoting each other cannot both win).
//
// Another admin's credentials are theirs, or the operator's (taskapi
// create-admin): an admin who could reset them could take the account over.
func (s *Service) UpdateUser(ctx context.Context, id string, in UpdateUserInput) (User, error) {
	admin, err := s.Admin(ctx)
	if err != nil {
		return User{}, err
	}
	c, err := ParseUpdateUser(in)
	if err != nil {
		return User{}, err
	}
	id = strings.TrimSpace(id)
	if _, ok := ParseUserID(id); !ok {
		return User{}, errUserNotFound
	}
	if id == admin.ID && ((c.Role != nil && *c.Role != admin.Role) || (c.ActivationStatus != nil && *c.ActivationStatus != admin.ActivationStatus)) {
		return User{}, errAdminSelf
	}
	target, err := s.getUser(ctx, id)
	if err != nil {
		return User{}, notFound(err, errUserNotFound)
	}
	if (c.Email != nil || c.Password != nil) && id != admin.ID && target.IsAdmin() {
		return User{}, errAdminOverAdmin
	}
	p := UserPatch{
		Username: c.Username, Email: c.Email, Role: c.Role, ActivationStatus: c.ActivationStatus,
		KeepActiveAdmin: (c.Role != nil && *c.Role != RoleAdmin) || (c.ActivationStatus != nil && *c.ActivationStatus != ActivationActive),
	}
	// A changed credential, address or role, or a deactivation, ends every
	// session of the user: their tokens must not outlive what they vouched for.
	if c.Password != nil || (c.Email != nil && c.Email.Key() != target.Email.Key()) ||
		(c.Role != nil && *c.Role != target.Role) || (c.ActivationStatus != nil && *c.ActivationStatus != ActivationActive) {
		p.EndSessionsAt = s.now()
	}
	if c.Password != nil {
		h, err := s.hasher.Hash(ctx, c.Password.Reveal())
		if err != nil {
			return User{}, err
		}
		p.PasswordHash = &h
	}
	u, err := s.store.UpdateUser(ctx, id, p)
	switch {
	case errors.Is(err, ErrConflict):
		return User{}, errEmailTaken
	case errors.Is(err, ErrPrecondition):
		return User{}, errLastAdmin
	case err != nil:
		return User{}, notFound(err, errUserNotFound)
	}
	s.userChanged(ctx, UserUpdated, u)
	return u, nil
}

// CreateAdmin creates an admin, or promotes (and reactivates) the user with
// that email, setting the given password. It is for the operator's
// command line, not for any API. created reports which.
func (s *Service) CreateAdmin(ctx context.Context, email, password, username string) (u User, created bool, err error) {
	if username == "" {
		username, _, _ = strings.Cut(strings.TrimSpace(email), "@")
	}
	r, err := ParseRegister(RegisterInput{Username: username, Email: email, Password: password})
	if err != nil {
		return User{}, false, err
	}
	hash, err := s.hasher.Hash(ctx, r.Password.Reveal())
	if err != nil {
		return User{}, false, err
	}
	role, active := RoleAdmin, ActivationActive
	existing, err := s.store.GetUserByEmail(ctx, r.Email.Key())
	if err == nil && existing.Deleted() && s.finishDeletionOf(ctx, existing.Email.Key()) {
		existing, err = User{}, ErrNotFound
	}
	switch {
	case err == nil:
		// Whatever the account could do before, with whatever tokens, ends:
		// an account registered in advance by someone else must not turn
		// into an admin session.
		u, err := s.store.UpdateUser(ctx, existing.ID, UserPatch{PasswordHash: &hash, Role: &role, ActivationStatus: &active, EndSessionsAt: s.now()})
		if err != nil {
			return User{}, false, notFound(err, errUserNotFound)
		}
		s.userChanged(ctx, UserUpdated, u)
		return u, false, nil
	case !errors.Is(err, ErrNotFound):
		return User{}, false, err
	}
	u, err = s.createUser(ctx, User{Username: r.Username, Email: r.Email, PasswordHash: hash, Role: role, ActivationStatus: active, CreatedAt: s.now()})
	return u, true, err
}

// collect gathers every page of a store listing: page returns the items
// after a position, id gives the position of an item, and keep (if set)
// says which items to return.
func collect[T any](page func(after string) ([]T, bool, error), id func(T) string, keep func(T) bool) ([]T, error) {
	all := []T{}
	for after := ""; ; {
		items, more, err := page(after)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			if keep == nil || keep(it) {
				all = append(all, it)
			}
		}
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
