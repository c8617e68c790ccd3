package rest_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/taskapi/taskapi/core"
)

// The account lifecycle's endpoints: DELETE /api/v1/auth/user (with the
// password), DELETE /api/v1/admin/delete-user/{user_id}, and
// GET /api/v1/auth/export.
func TestAccountLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.mustAdmin(t, "root")
	ann := e.mustUser(t, "ann")
	bob := e.mustUser(t, "bob")
	e.mustTask(t, ann, "first", core.StatusPending)
	e.mustTask(t, ann, "second", core.StatusComplete)
	e.mustTask(t, bob, "bob's", core.StatusPending)

	del := func(token, body string) req {
		return req{method: http.MethodDelete, path: "/api/v1/auth/user", token: token, body: body}
	}
	delUser := func(token, id string) req {
		return req{method: http.MethodDelete, path: "/api/v1/admin/delete-user/" + id, token: token}
	}
	export := func(token string) req { return req{method: http.MethodGet, path: "/api/v1/auth/export", token: token} }

	e.run(t, []tc{
		{name: "DeleteAccount/ErrUnauthenticated/NoToken", req: del("", `{"password":"`+password+`"}`), status: 401, want: detail("Not authenticated")},
		{name: "DeleteAccount/ErrInvalid/NoPassword", req: del(ann.token, `{}`), status: 422, want: vErrs(missing("password", obj{}))},
		{name: "DeleteAccount/ErrUnauthenticated/WrongPassword", req: del(ann.token, `{"password":"Wr0ng!pw"}`), status: 401, want: detail("Incorrect password")},
		{name: "DeleteAccount/ErrConflict/TheLastAdmin", req: del(admin.token, `{"password":"`+password+`"}`), status: 409, want: detail("At least one active admin must remain")},
		{name: "DeleteUser/ErrUnauthenticated", req: delUser("", ann.ID), status: 401, want: detail("Not authenticated")},
		{name: "DeleteUser/ErrForbidden/NotAnAdmin", req: delUser(bob.token, ann.ID), status: 403, want: detail("Admin privileges required")},
		{name: "DeleteUser/ErrNotFound/Unknown", req: delUser(admin.token, core.UserID(999_999)), status: 404, want: detail("User not found")},
		{name: "DeleteUser/ErrForbidden/Themself", req: delUser(admin.token, admin.ID), status: 403,
			want: detail("Admins cannot delete their own account here; use deleteAccount")},
		{name: "Export/ErrUnauthenticated", req: export(""), status: 401, want: detail("Not authenticated")},
	})

	// The export is one JSON document with the caller's data only.
	r := e.do(t, export(ann.token))
	if r.status != 200 || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("export: %d %s", r.status, r.raw)
	}
	var doc struct {
		Format string `json:"format"`
		User   struct {
			ID string `json:"id"`
		} `json:"user"`
		Tasks []struct {
			Title string `json:"title"`
		} `json:"tasks"`
	}
	if err := json.Unmarshal([]byte(r.raw), &doc); err != nil || doc.Format != core.ExportFormat || doc.User.ID != ann.ID ||
		len(doc.Tasks) != 2 || doc.Tasks[0].Title != "first" {
		t.Fatalf("export %s (%v)", r.raw, err)
	}

	// Ann leaves; an admin removes bob.
	e.check(t, e.do(t, del(ann.token, `{"password":"`+password+`"}`)), tc{status: 200, want: obj{"message": "Account deleted"}})
	e.check(t, e.do(t, delUser(admin.token, bob.ID)), tc{status: 200, want: obj{"message": "User deleted successfully"}})
	for _, a := range []account{ann, bob} {
		e.run(t, []tc{
			{name: "After/" + a.Username + "/TheTokenIsDead", req: req{method: http.MethodGet, path: "/api/v1/auth/user", token: a.token}, status: 401},
			{name: "After/" + a.Username + "/NoLogin", req: req{method: http.MethodPost, path: "/api/v1/auth/login", body: `{"email":"` + a.Email + `","password":"` + password + `"}`},
				status: 401, want: detail("Incorrect email or password")},
			{name: "After/" + a.Username + "/AdminSeesNothing", req: delUser(admin.token, a.ID), status: 404, want: detail("User not found")},
		})
	}
	users := e.do(t, req{method: http.MethodGet, path: "/api/v1/admin/users", token: admin.token})
	if list, ok := users.body.([]any); !ok || len(list) != 1 {
		t.Fatalf("users after the deletions: %s", users.raw)
	}
	// The address registers again.
	again := e.do(t, req{method: http.MethodPost, path: "/api/v1/auth/register",
		body: `{"username":"ann","email":"` + ann.Email + `","password":"` + password + `"}`})
	if again.status != 200 {
		t.Fatalf("re-register: %d %s", again.status, again.raw)
	}
}
