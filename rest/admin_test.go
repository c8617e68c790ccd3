package rest_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/taskapi/taskapi/core"
)

func TestListUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.mustAdmin(t, "root")
	bob := e.mustUser(t, "bob")
	ann := e.mustUser(t, "ann")
	get := func(tok string) req { return req{method: http.MethodGet, path: "/api/v1/admin/users", token: tok} }

	e.run(t, []tc{
		{name: "OK", req: get(adm.token), status: 200, want: arr{userJSONOf(adm.User), userJSONOf(bob.User), userJSONOf(ann.User)}},
		{name: "ErrForbidden/User", req: get(bob.token), status: 403, want: detail("Admin privileges required")},
		{name: "ErrUnauthenticated", req: get(""), status: 401, want: detail("Not authenticated")},
	})
}

func TestUpdateUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.mustAdmin(t, "root")
	bob := e.mustUser(t, "bob")
	ann := e.mustUser(t, "ann")
	path := func(id string) string { return "/api/v1/admin/update-user/" + id }

	for _, method := range []string{http.MethodPut, http.MethodPatch} {
		t.Run(method, func(t *testing.T) {
			put := func(tok, id, body string) req { return req{method: method, path: path(id), token: tok, body: body} }
			cur, err := e.store.GetUser(context.Background(), bob.ID)
			if err != nil {
				t.Fatal(err)
			}
			renamed := userJSONOf(cur)
			renamed["username"] = "robert"
			moved := userJSONOf(cur)
			moved["username"], moved["email"] = "robert", "Robert-"+method+"@example.com"
			e.run(t, []tc{
				{name: "OK/Username", req: put(adm.token, bob.ID, `{"username":"robert"}`), status: 200, want: renamed},
				{name: "OK/Email", req: put(adm.token, bob.ID, `{"email":"Robert-`+method+`@Example.com","role":null}`), status: 200, want: moved},
				{name: "OK/Nothing", req: put(adm.token, bob.ID, `{}`), status: 200, want: moved},
				// bob's sessions ended with his email change: ann asks.
				{name: "ErrUnauthenticated/SessionEndedByEmailChange", req: put(bob.token, ann.ID, `{"username":"x"}`), status: 401, want: detail("Session ended; log in again")},
				{name: "ErrForbidden/User", req: put(ann.token, bob.ID, `{"username":"x"}`), status: 403, want: detail("Admin privileges required")},
				{name: "ErrForbidden/UserBeforeEmptyBody", req: req{method: method, path: path(bob.ID), token: ann.token, contentType: "application/json"}, status: 403, want: detail("Admin privileges required")},
				{name: "ErrForbidden/UserBeforeNotAnObject", req: put(ann.token, bob.ID, `"robert"`), status: 403, want: detail("Admin privileges required")},
				{name: "ErrForbidden/UserPromotesSelf", req: put(ann.token, ann.ID, `{"role":"admin"}`), status: 403, want: detail("Admin privileges required")},
				{name: "ErrForbidden/AdminDemotesSelf", req: put(adm.token, adm.ID, `{"role":"user"}`), status: 403, want: detail("Admins cannot change their own role or activation status")},
				{name: "ErrUnauthenticated", req: put("", bob.ID, `{"username":"x"}`), status: 401, want: detail("Not authenticated")},
				{name: "ErrNotFound", req: put(adm.token, "VAH999999", `{"username":"x"}`), status: 404, want: detail("User not found")},
				{name: "ErrConflict/EmailTaken", req: put(adm.token, bob.ID, `{"email":"`+string(ann.Email)+`"}`), status: 409, want: detail("Email already registered")},
				{name: "ErrInvalid/Email", req: put(adm.token, bob.ID, `{"email":"a@b"}`), status: 422,
					want: vErrs(vErr("value_error", arr{"body", "email"}, "value is not a valid email address: The part after the @-sign is not valid. It should have a period.", "a@b", obj{"reason": "The part after the @-sign is not valid. It should have a period."}))},
				{name: "ErrInvalid/WeakPassword", req: put(adm.token, bob.ID, `{"password":"weakpass"}`), status: 422,
					want: vErrs(vErr("value_error", arr{"body", "password"}, passwordRule, "", obj{"error": obj{}}))},
				{name: "ErrInvalid/TypesAndValues", req: put(adm.token, bob.ID, `{"username":"","email":5,"activation_status":"banned"}`), status: 422,
					want: vErrs(
						vErr("string_too_short", arr{"body", "username"}, "String should have at least 1 character", "", obj{"min_length": 1}),
						vErr("string_type", arr{"body", "email"}, "Input should be a valid string", 5, nil),
						vErr("enum", arr{"body", "activation_status"}, "Input should be 'active' or 'inactive'", "banned", obj{"expected": "'active' or 'inactive'"}),
					)},
				{name: "ErrInvalid/NotAnObject", req: put(adm.token, bob.ID, `"robert"`), status: 422,
					want: vErrs(vErr("model_attributes_type", arr{"body"}, "Input should be a valid dictionary or object to extract fields from", "robert", nil))},
			})
		})
	}

	t.Run("OK/PasswordAndDeactivation", func(t *testing.T) {
		put := func(body string) req {
			return req{method: http.MethodPut, path: path(ann.ID), token: adm.token, body: body}
		}
		login := func(pw string) req {
			return req{method: http.MethodPost, path: "/api/v1/auth/login", body: `{"email":"` + string(ann.Email) + `","password":"` + pw + `"}`}
		}
		inactive := userJSONOf(ann.User)
		inactive["activation_status"] = "inactive"
		e.run(t, []tc{
			{name: "SetPassword", req: put(`{"password":"N3wpass!"}`), status: 200, want: userJSONOf(ann.User)},
			{name: "OldPasswordRefused", req: login(password), status: 401, want: detail("Incorrect email or password")},
			{name: "NewPasswordWorks", req: login("N3wpass!"), status: 200, want: tokensJSON()},
			{name: "Deactivate", req: put(`{"activation_status":"inactive"}`), status: 200, want: inactive},
			{name: "OldTokenStopsAtOnce", req: req{method: http.MethodGet, path: "/api/v1/tasks/fetch-task", token: ann.token}, status: 401, want: detail("Inactive user")},
			{name: "LoginRefused", req: login("N3wpass!"), status: 403, want: detail("Inactive user")},
		})
	})

	t.Run("OK/Promote", func(t *testing.T) {
		carl := e.mustUser(t, "carl")
		r := e.do(t, req{method: http.MethodPatch, path: path(carl.ID), token: adm.token, body: `{"role":"ADMIN"}`})
		if r.status != 200 {
			t.Fatalf("promote: %d %s", r.status, r.raw)
		}
		u, err := e.svc.GetUser(core.WithRequest(context.Background(), adm.token, ""), carl.ID)
		if err != nil || u.Role != core.RoleAdmin {
			t.Errorf("carl is %+v (%v), want an admin", u.Role, err)
		}
		// A promotion ends the user's sessions: the admin logs in anew.
		if old := e.do(t, req{method: http.MethodGet, path: "/api/v1/admin/users", token: carl.token}); old.status != 401 {
			t.Errorf("a token from before the promotion: %d %s, want 401", old.status, old.raw)
		}
		p, err := e.svc.Login(context.Background(), carl.Email, password)
		if err != nil {
			t.Fatal(err)
		}
		users := e.do(t, req{method: http.MethodGet, path: "/api/v1/admin/users", token: p.AccessToken})
		if users.status != 200 {
			t.Errorf("promoted admin lists users: %d %s", users.status, users.raw)
		}
	})
}
