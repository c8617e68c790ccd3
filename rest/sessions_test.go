package rest_test

import (
	"net/http"
	"testing"
)

// The session endpoints sessions added beside the legacy nine: refresh,
// logout, logout-all and change-password, with FastAPI-style errors.
func TestSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bob := e.mustUser(t, "bob")
	login := func(pw string) resp {
		return e.do(t, req{method: http.MethodPost, path: "/api/v1/auth/login", body: `{"email":"` + bob.Email + `","password":"` + pw + `"}`})
	}
	tokens := func(r resp) (access, refresh string) {
		t.Helper()
		if r.status != 200 {
			t.Fatalf("status %d: %s", r.status, r.raw)
		}
		m := r.body.(map[string]any)
		return m["access_token"].(string), m["refresh_token"].(string)
	}
	post := func(path, token, body string) req {
		return req{method: http.MethodPost, path: "/api/v1/auth/" + path, token: token, body: body}
	}
	me := func(token string) req { return req{method: http.MethodGet, path: "/api/v1/auth/user", token: token} }
	access, refresh := tokens(login(password))

	unauthorized := map[string]string{"WWW-Authenticate": "Bearer"}
	e.run(t, []tc{
		{name: "Refresh/ErrInvalid/Missing", req: post("refresh", "", `{}`), status: 422, want: vErrs(missing("refresh_token", obj{}))},
		{name: "Refresh/ErrInvalid/NotAString", req: post("refresh", "", `{"refresh_token":5}`), status: 422,
			want: vErrs(vErr("string_type", arr{"body", "refresh_token"}, "Input should be a valid string", 5, nil))},
		{name: "Refresh/ErrUnauthenticated/Garbage", req: post("refresh", "", `{"refresh_token":"nope"}`), status: 401,
			want: detail("Invalid or expired refresh token"), header: unauthorized},
		{name: "Refresh/ErrUnauthenticated/AnAccessToken", req: post("refresh", "", `{"refresh_token":"`+access+`"}`), status: 401,
			want: detail("Invalid or expired refresh token")},
		{name: "Logout/ErrUnauthenticated", req: post("logout", "", ""), status: 401, want: detail("Not authenticated"), header: unauthorized},
		{name: "LogoutAll/ErrUnauthenticated", req: post("logout-all", "", ""), status: 401, want: detail("Not authenticated")},
		{name: "ChangePassword/ErrUnauthenticated", req: post("change-password", "", `{"current_password":"x","new_password":"N3w!passw"}`), status: 401, want: detail("Not authenticated")},
		{name: "ChangePassword/ErrInvalid/Missing", req: post("change-password", access, `{"current_password":"x"}`), status: 422,
			want: vErrs(missing("new_password", obj{"current_password": "x"}))},
		{name: "ChangePassword/ErrInvalid/Weak", req: post("change-password", access, `{"current_password":"`+password+`","new_password":"weak"}`), status: 422,
			want: vErrs(vErr("value_error", arr{"body", "new_password"}, passwordRule, "", obj{"error": obj{}}))},
		{name: "ChangePassword/ErrUnauthenticated/WrongCurrent", req: post("change-password", access, `{"current_password":"Wr0ng!pw","new_password":"N3w!passw"}`), status: 401,
			want: detail("Incorrect password")},
	})

	// Refresh rotates: the new pair works, the old refresh token is spent.
	r := e.do(t, post("refresh", "", `{"refresh_token":"`+refresh+`"}`))
	wantJSON(t, r.body, tokensJSON())
	access2, refresh2 := tokens(r)
	if refresh2 == refresh {
		t.Fatal("refresh did not rotate the refresh token")
	}
	if r := e.do(t, me(access2)); r.status != 200 {
		t.Fatalf("the refreshed token: %d %s", r.status, r.raw)
	}
	// Reuse of the spent one ends the whole session (a refusal that
	// changes the store, on purpose).
	r = e.do(t, post("refresh", "", `{"refresh_token":"`+refresh+`"}`))
	e.check(t, r, tc{status: 401, want: detail("Refresh token already used: the session has been ended")})
	for _, tok := range []string{access, access2} {
		if r := e.do(t, me(tok)); r.status != 401 {
			t.Fatalf("a token of the reused session: %d %s", r.status, r.raw)
		}
	}

	// Logout ends one session; logout-all every one.
	a1, _ := tokens(login(password))
	a2, r2 := tokens(login(password))
	if r := e.do(t, post("logout", a1, "")); r.status != 200 {
		t.Fatalf("logout: %d %s", r.status, r.raw)
	} else {
		wantJSON(t, r.body, obj{"message": "Logged out"})
	}
	e.run(t, []tc{{name: "AfterLogout/ErrUnauthenticated", req: me(a1), status: 401, want: detail("Session ended; log in again")}})
	if r := e.do(t, me(a2)); r.status != 200 {
		t.Fatalf("logout ended another session: %d", r.status)
	}
	a3, _ := tokens(login(password))
	if r := e.do(t, post("logout-all", a3, "")); r.status != 200 {
		t.Fatalf("logout-all: %d %s", r.status, r.raw)
	}
	for _, tok := range []string{a2, a3} {
		if r := e.do(t, me(tok)); r.status != 401 {
			t.Fatalf("after logout-all: %d", r.status)
		}
	}
	if r := e.do(t, post("refresh", "", `{"refresh_token":"`+r2+`"}`)); r.status != 401 {
		t.Fatalf("refresh after logout-all: %d", r.status)
	}

	// change-password answers fresh tokens and ends the other sessions.
	other, _ := tokens(login(password))
	cur, _ := tokens(login(password))
	r = e.do(t, post("change-password", cur, `{"current_password":"`+password+`","new_password":"N3w!passw"}`))
	wantJSON(t, r.body, tokensJSON())
	fresh, _ := tokens(r)
	for tok, want := range map[string]int{other: 401, cur: 401, fresh: 200} {
		if r := e.do(t, me(tok)); r.status != want {
			t.Fatalf("after change-password: %d, want %d", r.status, want)
		}
	}
	if r := login(password); r.status != 401 {
		t.Fatalf("the old password: %d", r.status)
	}
	tokens(login("N3w!passw"))
}
