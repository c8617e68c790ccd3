package resolvers_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/resolvers"
)

const userFields = `id username email role activationStatus createdAt`
const taskFields = `id title description status createdAt updatedAt`

type userJSON struct {
	ID               string `json:"id"`
	Username         string `json:"username"`
	Email            string `json:"email"`
	Role             string `json:"role"`
	ActivationStatus string `json:"activationStatus"`
	CreatedAt        string `json:"createdAt"`
	Stats            *struct {
		Pending, Ongoing, Complete, Total int
	} `json:"stats"`
}

type taskJSON struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Status      string `json:"status"`
	CreatedAt   string `json:"createdAt"`
	UpdatedAt   string `json:"updatedAt"`
}

var dateTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

func TestOperations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	email := uniqueEmail("Alice")

	// register
	var reg struct{ Register userJSON }
	e.post(t, "", `mutation($in: RegisterInput!) { register(input: $in) { `+userFields+` } }`,
		vars{"in": vars{"username": " alice ", "email": strings.ToUpper(email), "password": testPassword}}).decode(t, &reg)
	u := reg.Register
	// Names and emails come back as sent (the email's domain lowercased).
	local, domain, _ := strings.Cut(strings.ToUpper(email), "@")
	if u.ID == "" || u.Username != " alice " || u.Email != local+"@"+strings.ToLower(domain) || u.Role != "USER" || u.ActivationStatus != "ACTIVE" {
		t.Fatalf("register = %+v", u)
	}
	if !dateTime.MatchString(u.CreatedAt) {
		t.Fatalf("createdAt %q is not RFC 3339 UTC with milliseconds", u.CreatedAt)
	}

	// login
	var login struct {
		Login struct {
			AccessToken, TokenType string
			ExpiresIn              int
			User                   userJSON
		}
	}
	e.post(t, "", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken tokenType expiresIn user { id } } }`,
		vars{"e": email, "p": testPassword}).decode(t, &login)
	if login.Login.AccessToken == "" || login.Login.TokenType != "bearer" || login.Login.ExpiresIn != 3600 || login.Login.User.ID != u.ID {
		t.Fatalf("login = %+v", login.Login)
	}
	tok := login.Login.AccessToken

	// createTask
	var created struct{ CreateTask taskJSON }
	e.post(t, tok, `mutation($in: CreateTaskInput!) { createTask(input: $in) { `+taskFields+` } }`,
		vars{"in": vars{"title": "  Write tests ", "description": "all of them"}}).decode(t, &created)
	task := created.CreateTask
	if task.ID == "" || task.Title != "  Write tests " || task.Description != "all of them" || task.Status != "PENDING" ||
		!dateTime.MatchString(task.CreatedAt) || task.UpdatedAt != task.CreatedAt {
		t.Fatalf("createTask = %+v", task)
	}
	var second struct{ CreateTask taskJSON }
	e.post(t, tok, `mutation { createTask(input: {title: "No description"}) { id description } }`, nil).decode(t, &second)
	if second.CreateTask.Description != "" {
		t.Fatalf("default description = %q", second.CreateTask.Description)
	}

	// task
	var got struct{ Task *taskJSON }
	e.post(t, tok, `query($id: ID!) { task(id: $id) { `+taskFields+` } }`, vars{"id": task.ID}).decode(t, &got)
	if got.Task == nil || *got.Task != task {
		t.Fatalf("task = %+v, want %+v", got.Task, task)
	}

	// updateTask
	var upd struct{ UpdateTask taskJSON }
	e.post(t, tok, `mutation($id: ID!) { updateTask(id: $id, input: {status: ONGOING, description: "most"}) { `+taskFields+` } }`,
		vars{"id": task.ID}).decode(t, &upd)
	if upd.UpdateTask.Status != "ONGOING" || upd.UpdateTask.Description != "most" || upd.UpdateTask.Title != task.Title ||
		upd.UpdateTask.CreatedAt != task.CreatedAt || upd.UpdateTask.UpdatedAt < task.UpdatedAt {
		t.Fatalf("updateTask = %+v", upd.UpdateTask)
	}

	// tasks
	var list struct {
		Tasks struct {
			Edges []struct {
				Cursor string
				Node   taskJSON
			}
			PageInfo struct {
				HasNextPage bool
				EndCursor   *string
			}
			TotalCount int
		}
	}
	e.post(t, tok, `{ tasks { edges { cursor node { id status } } pageInfo { hasNextPage endCursor } totalCount } }`, nil).decode(t, &list)
	if l := list.Tasks; len(l.Edges) != 2 || l.TotalCount != 2 || l.PageInfo.HasNextPage || l.PageInfo.EndCursor == nil ||
		*l.PageInfo.EndCursor != l.Edges[1].Cursor || l.Edges[0].Node.ID != task.ID || l.Edges[0].Node.Status != "ONGOING" {
		t.Fatalf("tasks = %+v", l)
	}
	e.post(t, tok, `{ tasks(status: PENDING) { edges { node { id } } totalCount } }`, nil).decode(t, &list)
	if l := list.Tasks; len(l.Edges) != 1 || l.TotalCount != 1 || l.Edges[0].Node.ID != second.CreateTask.ID {
		t.Fatalf("pending tasks = %+v", l)
	}

	// me with stats
	var me struct{ Me userJSON }
	e.post(t, tok, `{ me { `+userFields+` stats { pending ongoing complete total } } }`, nil).decode(t, &me)
	if me.Me.ID != u.ID || me.Me.Stats == nil || *me.Me.Stats != (struct{ Pending, Ongoing, Complete, Total int }{1, 1, 0, 2}) {
		t.Fatalf("me = %+v stats %+v", me.Me, me.Me.Stats)
	}

	// deleteTask
	var del struct{ DeleteTask string }
	e.post(t, tok, `mutation($id: ID!) { deleteTask(id: $id) }`, vars{"id": task.ID}).decode(t, &del)
	if del.DeleteTask != task.ID {
		t.Fatalf("deleteTask = %q, want %q", del.DeleteTask, task.ID)
	}
	e.post(t, tok, `query($id: ID!) { task(id: $id) { id } }`, vars{"id": task.ID}).decode(t, &got)
	if got.Task != nil {
		t.Fatalf("deleted task still there: %+v", got.Task)
	}
	wantCode(t, e.post(t, tok, `mutation($id: ID!) { deleteTask(id: $id) }`, vars{"id": task.ID}), "NOT_FOUND")

	// admin: users, user, updateUser, register an admin
	admin := e.mustAdmin(t)
	var users struct {
		Users struct {
			Edges      []struct{ Node userJSON }
			PageInfo   struct{ HasNextPage bool }
			TotalCount *int
		}
	}
	e.post(t, admin.Token, `{ users(first: 10) { edges { node { id role stats { total } } } pageInfo { hasNextPage } totalCount } }`, nil).decode(t, &users)
	if n := len(users.Users.Edges); n != 2 || users.Users.PageInfo.HasNextPage {
		t.Fatalf("users = %+v", users.Users)
	}
	if s := users.Users.Edges[0].Node.Stats; users.Users.Edges[0].Node.ID != u.ID || s == nil || s.Total != 1 {
		t.Fatalf("first user = %+v (admins read every user's stats)", users.Users.Edges[0].Node)
	}
	var one struct{ User *userJSON }
	e.post(t, admin.Token, `query($id: ID!) { user(id: $id) { `+userFields+` } }`, vars{"id": u.ID}).decode(t, &one)
	if one.User == nil || *one.User != u {
		t.Fatalf("user = %+v, want %+v", one.User, u)
	}
	e.post(t, admin.Token, `{ user(id: "VAH999999") { id } }`, nil).decode(t, &one)
	if one.User != nil {
		t.Fatalf("absent user = %+v, want null", one.User)
	}
	var uu struct{ UpdateUser userJSON }
	e.post(t, admin.Token, `mutation($id: ID!, $in: UpdateUserInput!) { updateUser(id: $id, input: $in) { `+userFields+` } }`,
		vars{"id": u.ID, "in": vars{"username": "alice2", "role": "ADMIN", "activationStatus": "INACTIVE"}}).decode(t, &uu)
	if uu.UpdateUser.Username != "alice2" || uu.UpdateUser.Role != "ADMIN" || uu.UpdateUser.ActivationStatus != "INACTIVE" || uu.UpdateUser.Email != u.Email {
		t.Fatalf("updateUser = %+v", uu.UpdateUser)
	}
	wantCode(t, e.post(t, admin.Token, `mutation { updateUser(id: "VAH999999", input: {username: "x"}) { id } }`, nil), "NOT_FOUND")

	var newAdmin struct{ Register userJSON }
	e.post(t, admin.Token, `mutation($in: RegisterInput!) { register(input: $in) { role activationStatus } }`,
		vars{"in": vars{"username": "boss", "email": uniqueEmail("boss"), "password": testPassword, "role": "ADMIN", "activationStatus": "INACTIVE"}}).decode(t, &newAdmin)
	if newAdmin.Register.Role != "ADMIN" || newAdmin.Register.ActivationStatus != "INACTIVE" {
		t.Fatalf("admin's register = %+v", newAdmin.Register)
	}
}

func TestLoginErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.mustRegister(t, "bob")
	admin := e.mustAdmin(t)
	const login = `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }`

	t.Run("UNAUTHENTICATED/WrongPassword", func(t *testing.T) {
		r := e.post(t, "", login, vars{"e": a.Email, "p": "wrong!pass"})
		wantCode(t, r, "UNAUTHENTICATED")
		if string(r.Data) != "null" {
			t.Fatalf("data = %s, want null", r.Data)
		}
	})
	t.Run("UNAUTHENTICATED/UnknownEmail", func(t *testing.T) {
		wantCode(t, e.post(t, "", login, vars{"e": uniqueEmail("nobody"), "p": testPassword}), "UNAUTHENTICATED")
	})
	t.Run("FORBIDDEN/Inactive", func(t *testing.T) {
		in := core.ActivationInactive
		if _, err := e.svc.UpdateUser(as(admin), a.ID, core.UpdateUserInput{ActivationStatus: &in}); err != nil {
			t.Fatal(err)
		}
		wantCode(t, e.post(t, "", login, vars{"e": a.Email, "p": testPassword}), "FORBIDDEN")
	})
	t.Run("RATE_LIMITED", func(t *testing.T) {
		e := newEnv(t, func(c *envConfig) {
			c.limiter = core.NewLimiter(limiterFunc(func() time.Duration { return 2500 * time.Millisecond }), core.DefaultLimits())
		})
		r := e.post(t, "", login, vars{"e": uniqueEmail("x"), "p": testPassword})
		wantCode(t, r, "RATE_LIMITED")
		if got := r.Errors[0].Extensions["retryAfter"]; got != float64(3) {
			t.Fatalf("retryAfter = %v, want 3 (seconds, rounded up)", got)
		}
	})
}

type limiterFunc func() time.Duration

func (f limiterFunc) Allow(context.Context, string, core.Rate) time.Duration { return f() }

// TestLoginAnswerHasNoStats: the login request carries no token, so the
// user's stats (guarded by @auth) are refused while the token is returned.
func TestLoginAnswerHasNoStats(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.mustRegister(t, "carol")
	r := e.post(t, "", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken user { stats { total } } } }`,
		vars{"e": a.Email, "p": testPassword})
	wantCode(t, r, "UNAUTHENTICATED")
}

func TestPlayground(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	resolvers.Playground().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "/graphql") {
		t.Fatalf("playground: %d %s", rec.Code, rec.Body.String())
	}
}

var _ = errors.New
