package resolvers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/taskapi/taskapi/core"
)

// TestDirectives checks every guarded field against every kind of caller.
func TestDirectives(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.mustAdmin(t)
	victim := e.mustRegister(t, "victim")
	victimTask := e.mustCreateTask(t, victim, "keep me")

	expired, err := core.NewTokens(testSecret, time.Hour, func() time.Time { return time.Now().Add(-3 * time.Hour) }).Issue(victim.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	forged, err := core.NewTokens([]byte("another-secret-0123456789abcdef!"), time.Hour, nil).Issue(victim.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	deactivated := e.mustRegister(t, "leaver")
	inactive := core.ActivationInactive
	if _, err := e.svc.UpdateUser(as(admin), deactivated.ID, core.UpdateUserInput{ActivationStatus: &inactive}); err != nil {
		t.Fatal(err)
	}

	// A caller is a token and, for valid ones, whose it is.
	type caller struct {
		name  string
		token func(t *testing.T) (string, *account)
		// what @auth and @hasRole(ADMIN) answer for this caller ("" = allowed)
		auth, admin string
	}
	fresh := func(t *testing.T) (string, *account) {
		a := e.mustRegister(t, "user")
		return a.Token, &a
	}
	callers := []caller{
		{"NoToken", func(*testing.T) (string, *account) { return "", nil }, "UNAUTHENTICATED", "UNAUTHENTICATED"},
		{"GarbageToken", func(*testing.T) (string, *account) { return "not.a.jwt", nil }, "UNAUTHENTICATED", "UNAUTHENTICATED"},
		{"ForgedToken", func(*testing.T) (string, *account) { return forged, nil }, "UNAUTHENTICATED", "UNAUTHENTICATED"},
		{"ExpiredToken", func(*testing.T) (string, *account) { return expired, nil }, "UNAUTHENTICATED", "UNAUTHENTICATED"},
		{"DeactivatedUser", func(*testing.T) (string, *account) { return deactivated.Token, nil }, "UNAUTHENTICATED", "UNAUTHENTICATED"},
		{"User", fresh, "", "FORBIDDEN"},
		{"Admin", func(*testing.T) (string, *account) { return admin.Token, &admin }, "", ""},
	}

	// A field: its operation, built for a caller (own task for the allowed ones).
	type field struct {
		name    string
		adminOn bool // @hasRole(role: ADMIN) rather than @auth
		op      func(t *testing.T, a *account) (string, vars)
	}
	ownTask := func(t *testing.T, a *account) string {
		if a == nil {
			return victimTask.ID
		}
		return e.mustCreateTask(t, *a, "mine").ID
	}
	fields := []field{
		{"me", false, func(*testing.T, *account) (string, vars) { return `{ me { id } }`, nil }},
		{"me.stats", false, func(*testing.T, *account) (string, vars) { return `{ me { stats { total } } }`, nil }},
		{"tasks", false, func(*testing.T, *account) (string, vars) { return `{ tasks { totalCount } }`, nil }},
		{"task", false, func(t *testing.T, a *account) (string, vars) {
			return `query($id: ID!) { task(id: $id) { id } }`, vars{"id": ownTask(t, a)}
		}},
		{"createTask", false, func(*testing.T, *account) (string, vars) {
			return `mutation { createTask(input: {title: "t"}) { id } }`, nil
		}},
		{"updateTask", false, func(t *testing.T, a *account) (string, vars) {
			return `mutation($id: ID!) { updateTask(id: $id, input: {status: COMPLETE}) { id } }`, vars{"id": ownTask(t, a)}
		}},
		{"deleteTask", false, func(t *testing.T, a *account) (string, vars) {
			return `mutation($id: ID!) { deleteTask(id: $id) }`, vars{"id": ownTask(t, a)}
		}},
		{"users", true, func(*testing.T, *account) (string, vars) { return `{ users { edges { node { id } } } }`, nil }},
		{"user", true, func(*testing.T, *account) (string, vars) {
			return `query($id: ID!) { user(id: $id) { id } }`, vars{"id": victim.ID}
		}},
		{"updateUser", true, func(*testing.T, *account) (string, vars) {
			return `mutation($id: ID!) { updateUser(id: $id, input: {username: "renamed"}) { id } }`, vars{"id": victim.ID}
		}},
	}

	for _, f := range fields {
		for _, c := range callers {
			want := c.auth
			if f.adminOn {
				want = c.admin
			}
			outcome := want
			if outcome == "" {
				outcome = "OK"
			}
			t.Run(f.name+"/"+c.name+"/"+outcome, func(t *testing.T) {
				token, a := c.token(t)
				query, v := f.op(t, a)
				r := e.post(t, token, query, v)
				if want == "" {
					if len(r.Errors) > 0 {
						t.Fatalf("want success, got %s", r.Body)
					}
					return
				}
				wantCode(t, r, want)
				if d := string(r.Data); d != "null" && !strings.HasSuffix(d, `":null}`) {
					t.Fatalf("denied call answered data %s", d)
				}
			})
		}
	}

	// Nothing the denied calls aimed at changed.
	got, err := e.store.GetTask(context.Background(), victim.ID, victimTask.ID)
	if err != nil || got != victimTask {
		t.Fatalf("victim's task = %+v, %v; want unchanged %+v", got, err, victimTask)
	}
}

func TestRegisterAdmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.mustAdmin(t)
	user := e.mustRegister(t, "user")
	const register = `mutation($in: RegisterInput!) { register(input: $in) { id role } }`
	in := func(email string) vars {
		return vars{"in": vars{"username": "mallory", "email": email, "password": testPassword, "role": "ADMIN"}}
	}
	for _, tc := range []struct{ name, token string }{
		{"FORBIDDEN/NoToken", ""},
		{"FORBIDDEN/BadToken", "garbage"},
		{"FORBIDDEN/UserToken", user.Token},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.countUsers(t)
			email := uniqueEmail("mallory")
			wantCode(t, e.post(t, tc.token, register, in(email)), "FORBIDDEN")
			if n := e.countUsers(t); n != before {
				t.Fatalf("users: %d, want %d", n, before)
			}
			if _, err := e.store.GetUserByEmail(context.Background(), core.KeyOf(email)); err == nil {
				t.Fatal("refused admin was stored")
			}
		})
	}
	t.Run("OK/AdminToken", func(t *testing.T) {
		var got struct{ Register struct{ ID, Role string } }
		e.post(t, admin.Token, register, in(uniqueEmail("deputy"))).decode(t, &got)
		if got.Register.Role != "ADMIN" {
			t.Fatalf("role = %q", got.Register.Role)
		}
	})
}

// TestOthersTask: nobody reaches a task that is not theirs, and the answer
// is the same as for a task that does not exist.
func TestOthersTask(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	owner := e.mustRegister(t, "owner")
	intruder := e.mustRegister(t, "intruder")
	admin := e.mustAdmin(t)
	task := e.mustCreateTask(t, owner, "private")

	for _, who := range []account{intruder, admin} {
		t.Run("task/Null/"+who.Username, func(t *testing.T) {
			r := e.post(t, who.Token, `query($id: ID!) { task(id: $id) { id title } }`, vars{"id": task.ID})
			if len(r.Errors) > 0 || string(r.Data) != `{"task":null}` {
				t.Fatalf("got %s", r.Body)
			}
		})
		t.Run("updateTask/NOT_FOUND/"+who.Username, func(t *testing.T) {
			wantCode(t, e.post(t, who.Token, `mutation($id: ID!) { updateTask(id: $id, input: {title: "mine now", status: COMPLETE}) { id } }`,
				vars{"id": task.ID}), "NOT_FOUND")
		})
		t.Run("deleteTask/NOT_FOUND/"+who.Username, func(t *testing.T) {
			wantCode(t, e.post(t, who.Token, `mutation($id: ID!) { deleteTask(id: $id) }`, vars{"id": task.ID}), "NOT_FOUND")
		})
		t.Run("tasks/Empty/"+who.Username, func(t *testing.T) {
			r := e.post(t, who.Token, `{ tasks { totalCount edges { node { id } } } }`, nil)
			if len(r.Errors) > 0 || string(r.Data) != `{"tasks":{"totalCount":0,"edges":[]}}` {
				t.Fatalf("got %s", r.Body)
			}
		})
	}
	t.Run("task/Null/MalformedID", func(t *testing.T) {
		r := e.post(t, owner.Token, `{ task(id: "../../etc") { id } }`, nil)
		if len(r.Errors) > 0 || string(r.Data) != `{"task":null}` {
			t.Fatalf("got %s", r.Body)
		}
	})

	got, err := e.store.GetTask(context.Background(), owner.ID, task.ID)
	if err != nil || got != task {
		t.Fatalf("owner's task = %+v, %v; want unchanged %+v", got, err, task)
	}
	stats, err := e.store.TaskStats(context.Background(), owner.ID)
	if err != nil || stats != (core.TaskStats{}.Add(core.StatusPending, 1)) {
		t.Fatalf("owner's stats = %+v, %v", stats, err)
	}
}
