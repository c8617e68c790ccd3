package rest

import (
	"io"
	"net/url"
	"time"

	"github.com/taskapi/taskapi/core"
)

// The legacy payloads. Request types read themselves from a decoded body
// (bind) and document themselves through their field tags (the OpenAPI
// document is derived from these very types, at build time: the schema
// adjustments tags cannot express are in models_openapi.go); response types
// are built from core values by the constructors below. Every rule on the
// values (lengths, email, password, who may do what) is core's; these types
// only know the legacy field names and JSON types.

// ---- requests ----

var (
	_ binder     = (*registerRequest)(nil)
	_ binder     = (*loginRequest)(nil)
	_ formBinder = (*loginRequest)(nil)
	_ binder     = (*createTaskRequest)(nil)
	_ binder     = (*updateTaskRequest)(nil)
	_ binder     = (*updateUserRequest)(nil)
	_ binder     = (*refreshRequest)(nil)
	_ binder     = (*changePasswordRequest)(nil)
	_ binder     = (*deleteAccountRequest)(nil)
)

type registerRequest struct {
	_                struct{} `additionalProperties:"true"`
	Username         string   `json:"username" doc:"Display name." example:"alice"`
	Email            string   `json:"email" format:"email" doc:"Unique, case-insensitive." example:"alice@example.com"`
	Password         string   `json:"password" doc:"The legacy password rule applies." example:"Passw0rd!"`
	Role             *string  `json:"role,omitempty" enum:"user,admin" doc:"Defaults to user; admin only with an admin's bearer token."`
	ActivationStatus *string  `json:"activation_status,omitempty" enum:"active,inactive" doc:"Defaults to active."`

	role   *core.Role
	status *core.ActivationStatus
}

func (in *registerRequest) bind(f *fields) {
	f.str("username", &in.Username)
	f.str("email", &in.Email)
	f.str("password", &in.Password)
	in.role = optEnum(f, "role", core.ParseRole, roles)
	in.status = optEnum(f, "activation_status", core.ParseActivationStatus, activationStatuses)
}

func (in *registerRequest) input() core.RegisterInput {
	return core.RegisterInput{Username: in.Username, Email: in.Email, Password: in.Password, Role: in.role, ActivationStatus: in.status}
}

func (in *registerRequest) check() error {
	_, err := core.ParseRegister(in.input())
	return err
}

type loginRequest struct {
	_        struct{} `additionalProperties:"true"`
	Email    string   `json:"email" example:"alice@example.com"`
	Password string   `json:"password" example:"Passw0rd!"`
}

func (in *loginRequest) bind(f *fields) {
	f.str("email", &in.Email)
	f.str("password", &in.Password)
}

func (in *loginRequest) check() error { return nil }

func (in *loginRequest) bindForm(form url.Values) (err error) {
	in.Email, in.Password, err = bindLoginForm(form)
	return err
}

type createTaskRequest struct {
	_           struct{} `additionalProperties:"true"`
	Title       string   `json:"title" example:"Write the report"`
	Description string   `json:"description,omitempty" default:"" example:"Quarterly numbers"`
}

func (in *createTaskRequest) bind(f *fields) {
	f.str("title", &in.Title)
	f.optStr("description", &in.Description)
}

func (in *createTaskRequest) input() core.CreateTaskInput {
	return core.CreateTaskInput{Title: in.Title, Description: in.Description}
}

func (in *createTaskRequest) check() error {
	_, err := core.ParseCreateTask(in.input())
	return err
}

type updateTaskRequest struct {
	_      struct{} `additionalProperties:"true"`
	Status string   `json:"status" enum:"pending,ongoing,complete"`

	status core.TaskStatus
}

func (in *updateTaskRequest) bind(f *fields) {
	if st := enum(f, "status", core.ParseTaskStatus, core.TaskStatuses[:]); st != nil {
		in.status = *st
	}
}

// check has nothing to add: status is the only field and bind checked it.
func (in *updateTaskRequest) check() error { return nil }

type updateUserRequest struct {
	_                struct{} `additionalProperties:"true"`
	Username         *string  `json:"username,omitempty"`
	Email            *string  `json:"email,omitempty" format:"email"`
	Password         *string  `json:"password,omitempty"`
	ActivationStatus *string  `json:"activation_status,omitempty" enum:"active,inactive"`
	Role             *string  `json:"role,omitempty" enum:"user,admin" doc:"Admins cannot change their own role or activation status."`

	role   *core.Role
	status *core.ActivationStatus
}

func (in *updateUserRequest) bind(f *fields) {
	in.Username = f.ptrStr("username")
	in.Email = f.ptrStr("email")
	in.Password = f.ptrStr("password")
	in.status = optEnum(f, "activation_status", core.ParseActivationStatus, activationStatuses)
	in.role = optEnum(f, "role", core.ParseRole, roles)
}

func (in *updateUserRequest) input() core.UpdateUserInput {
	return core.UpdateUserInput{Username: in.Username, Email: in.Email, Password: in.Password, ActivationStatus: in.status, Role: in.role}
}

func (in *updateUserRequest) check() error {
	_, err := core.ParseUpdateUser(in.input())
	return err
}

type refreshRequest struct {
	_            struct{} `additionalProperties:"true"`
	RefreshToken string   `json:"refresh_token" doc:"A refresh_token from login or an earlier refresh."`
}

func (in *refreshRequest) bind(f *fields) { f.str("refresh_token", &in.RefreshToken) }
func (in *refreshRequest) check() error   { return nil }

type changePasswordRequest struct {
	_               struct{} `additionalProperties:"true"`
	CurrentPassword string   `json:"current_password"`
	NewPassword     string   `json:"new_password"`
}

func (in *changePasswordRequest) bind(f *fields) {
	f.str("current_password", &in.CurrentPassword)
	f.str("new_password", &in.NewPassword)
}

func (in *changePasswordRequest) check() error {
	if _, fe := core.ParsePassword("newPassword", in.NewPassword); fe != nil {
		return core.Invalid(*fe)
	}
	return nil
}

type deleteAccountRequest struct {
	_        struct{} `additionalProperties:"true"`
	Password string   `json:"password" doc:"The caller's current password, confirming the deletion."`
}

func (in *deleteAccountRequest) bind(f *fields) { f.str("password", &in.Password) }
func (in *deleteAccountRequest) check() error   { return nil }

// exportResponse documents GET /api/v1/auth/export, whose body core writes
// as it reads the tasks (core.ExportMyData; the layout is in docs/rest.md).
type exportResponse struct {
	Format     string           `json:"format" example:"taskapi-export/1"`
	ExportedAt string           `json:"exportedAt" format:"date-time"`
	User       map[string]any   `json:"user" doc:"id, username, email, role, activationStatus, createdAt"`
	TaskStats  map[string]int   `json:"taskStats" doc:"pending, ongoing, complete, total"`
	Sessions   []map[string]any `json:"sessions" doc:"id, createdAt, lastUsedAt, expiresAt, userAgent, ipAddress, current"`
	Tasks      []map[string]any `json:"tasks" doc:"id, title, description, status, createdAt, updatedAt; oldest first"`

	write func(io.Writer) error
}

// noBody is the request of the endpoints that read none.
type noBody struct{}

var (
	roles              = core.Roles[:]
	activationStatuses = core.ActivationStatuses[:]
)

// ---- responses ----

type userResponse struct {
	UserID           string    `json:"user_id" example:"VAH1"`
	Username         string    `json:"username"`
	Email            string    `json:"email" format:"email"`
	Role             string    `json:"role" enum:"user,admin"`
	ActivationStatus string    `json:"activation_status" enum:"active,inactive"`
	CreatedAt        timestamp `json:"created_at"`
}

// newUser is the one place a core.User becomes JSON: it has no field for the
// password hash.
func newUser(u core.User) userResponse {
	return userResponse{
		UserID:           u.ID,
		Username:         string(u.Username),
		Email:            string(u.Email),
		Role:             string(u.Role),
		ActivationStatus: string(u.ActivationStatus),
		CreatedAt:        timestamp(u.CreatedAt),
	}
}

func newUsers(us []core.User) []userResponse {
	out := make([]userResponse, len(us))
	for i, u := range us {
		out[i] = newUser(u)
	}
	return out
}

type taskResponse struct {
	TaskID      string    `json:"task_id" format:"uuid"`
	UserID      string    `json:"user_id"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Status      string    `json:"status" enum:"pending,ongoing,complete"`
	CreatedAt   timestamp `json:"created_at"`
	UpdatedAt   timestamp `json:"updated_at"`
}

func newTask(t core.Task) taskResponse {
	return taskResponse{
		TaskID:      t.ID,
		UserID:      t.UserID,
		Title:       string(t.Title),
		Description: string(t.Description),
		Status:      string(t.Status),
		CreatedAt:   timestamp(t.CreatedAt),
		UpdatedAt:   timestamp(t.UpdatedAt),
	}
}

func newTasks(ts []core.Task) []taskResponse {
	out := make([]taskResponse, len(ts))
	for i, t := range ts {
		out[i] = newTask(t)
	}
	return out
}

// tokenResponse is the legacy login answer (access_token, token_type) and
// what sessions added after them: clients that know only the first two
// ignore the rest.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type" example:"bearer"`
	RefreshToken string `json:"refresh_token" doc:"Single use: POST it to /api/v1/auth/refresh for new tokens."`
	ExpiresIn    int    `json:"expires_in" doc:"Seconds until access_token expires." example:"3600"`
}

func newTokens(p core.AuthPayload) tokenResponse {
	return tokenResponse{AccessToken: p.AccessToken, TokenType: p.TokenType, RefreshToken: p.RefreshToken, ExpiresIn: p.ExpiresIn}
}

type statsResponse struct {
	Pending  int `json:"pending"`
	Ongoing  int `json:"ongoing"`
	Complete int `json:"complete"`
	Total    int `json:"total"`
}

type meResponse struct {
	TaskData statsResponse `json:"task_data"`
	UserData userResponse  `json:"user_data"`
}

type taskUpdatedResponse struct {
	Message string       `json:"message" example:"Task updated successfully"`
	Task    taskResponse `json:"task"`
}

type messageResponse struct {
	Message string `json:"message" example:"Task deleted successfully"`
}

// timestamp is a time as the REST shim writes it: ISO 8601 in UTC with
// exactly six fractional digits and an explicit +00:00 offset
// ("2026-12-02T14:00:00.123456+00:00"). Legacy clients parse it:
// Python's datetime.fromisoformat accepts it from 3.7 on (it refuses the
// "Z" suffix before 3.11) and returns an aware time; JavaScript's Date
// reads it as UTC (a naive time, as the legacy app wrote, it would read
// as local time). Fixed width, so the strings sort as the times do.
// GraphQL's DateTime stays RFC 3339 with "Z" and milliseconds.
type timestamp time.Time

const timestampLayout = "2006-01-02T15:04:05.000000+00:00"

func (t timestamp) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format(timestampLayout) + `"`), nil
}

// ---- errors, as FastAPI writes them ----

// httpError is FastAPI's HTTPException body.
type httpError struct {
	Detail string `json:"detail"`
}

// validationError is one item of a 422, in Pydantic v2's shape.
type validationError struct {
	Type  string         `json:"type" example:"missing"`
	Loc   []any          `json:"loc" doc:"Where: \"body\", then a field name (or, for malformed JSON, a character offset)."`
	Msg   string         `json:"msg" example:"Field required"`
	Input any            `json:"input"`
	Ctx   map[string]any `json:"ctx,omitempty"`
}

// httpValidationError is FastAPI's RequestValidationError body.
type httpValidationError struct {
	Detail []validationError `json:"detail"`
}
