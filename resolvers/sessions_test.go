package resolvers_test

import (
	"testing"
)

const authFields = `accessToken tokenType expiresIn refreshToken refreshExpiresIn user { id }`

type authJSON struct {
	AccessToken, TokenType, RefreshToken string
	ExpiresIn, RefreshExpiresIn          int
	User                                 struct{ ID string }
}

func TestSessionOperations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ann := e.mustRegister(t, "ann")
	admin := e.mustAdmin(t)
	login := func() authJSON {
		t.Helper()
		var r struct{ Login authJSON }
		e.post(t, "", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { `+authFields+` } }`,
			vars{"e": ann.Email, "p": testPassword}).decode(t, &r)
		if r.Login.RefreshToken == "" || r.Login.RefreshExpiresIn <= 0 || r.Login.User.ID != ann.ID {
			t.Fatalf("login = %+v", r.Login)
		}
		return r.Login
	}
	works := func(token string) bool {
		return len(e.post(t, token, `{ me { id } }`, nil).Errors) == 0
	}
	refresh := func(token string) response {
		return e.post(t, "", `mutation($t: String!) { refreshToken(refreshToken: $t) { `+authFields+` } }`, vars{"t": token})
	}

	a := login()
	t.Run("RefreshRotates", func(t *testing.T) {
		var r struct{ RefreshToken authJSON }
		refresh(a.RefreshToken).decode(t, &r)
		if r.RefreshToken.RefreshToken == a.RefreshToken || !works(r.RefreshToken.AccessToken) {
			t.Fatalf("refresh = %+v", r.RefreshToken)
		}
		wantCode(t, refresh(a.RefreshToken), "UNAUTHENTICATED") // reuse
		if works(r.RefreshToken.AccessToken) {
			t.Fatal("the session survived the reuse of its refresh token")
		}
		wantCode(t, refresh("garbage"), "UNAUTHENTICATED")
	})

	t.Run("SessionsListsWithoutSecrets", func(t *testing.T) {
		b := login()
		var r struct {
			Me struct {
				Sessions []struct {
					ID, UserAgent, IPAddress, CreatedAt, LastUsedAt string
					Current                                         bool
				}
			}
		}
		e.post(t, b.AccessToken, `{ me { sessions { id userAgent ipAddress createdAt lastUsedAt current } } }`, nil).decode(t, &r)
		current := 0
		for _, s := range r.Me.Sessions {
			if s.Current {
				current++
			}
			if s.ID == "" || s.CreatedAt == "" {
				t.Fatalf("session %+v", s)
			}
		}
		if current != 1 || len(r.Me.Sessions) < 2 {
			t.Fatalf("sessions %+v: want several, exactly one current", r.Me.Sessions)
		}
		// An admin may read them (nobody else reaches another user at all).
		var adm struct {
			User struct{ Sessions []struct{ ID string } }
		}
		e.post(t, admin.Token, `query($id: ID!) { user(id: $id) { sessions { id } } }`, vars{"id": ann.ID}).decode(t, &adm)
		if len(adm.User.Sessions) != len(r.Me.Sessions) {
			t.Fatalf("the admin sees %d sessions, ann %d", len(adm.User.Sessions), len(r.Me.Sessions))
		}
	})

	t.Run("RevokeSession", func(t *testing.T) {
		b, c := login(), login()
		var r struct {
			Me struct {
				Sessions []struct {
					ID      string
					Current bool
				}
			}
		}
		e.post(t, c.AccessToken, `{ me { sessions { id current } } }`, nil).decode(t, &r)
		var other string
		for _, s := range r.Me.Sessions {
			if !s.Current {
				other = s.ID
				break
			}
		}
		bob := e.mustRegister(t, "robert")
		wantCode(t, e.post(t, bob.Token, `mutation($id: ID!) { revokeSession(id: $id) }`, vars{"id": other}), "NOT_FOUND")
		var ok struct{ RevokeSession bool }
		e.post(t, c.AccessToken, `mutation($id: ID!) { revokeSession(id: $id) }`, vars{"id": other}).decode(t, &ok)
		if !ok.RevokeSession || !works(c.AccessToken) || works(b.AccessToken) && other == "" {
			t.Fatal("revoking another own session")
		}
	})

	t.Run("LogoutAndLogoutEverywhere", func(t *testing.T) {
		b, c := login(), login()
		var out struct{ Logout bool }
		e.post(t, b.AccessToken, `mutation { logout }`, nil).decode(t, &out)
		if !out.Logout || works(b.AccessToken) || !works(c.AccessToken) {
			t.Fatal("logout")
		}
		wantCode(t, refresh(b.RefreshToken), "UNAUTHENTICATED")
		var all struct{ LogoutEverywhere bool }
		e.post(t, c.AccessToken, `mutation { logoutEverywhere }`, nil).decode(t, &all)
		if !all.LogoutEverywhere || works(c.AccessToken) {
			t.Fatal("logoutEverywhere")
		}
		wantCode(t, e.post(t, c.AccessToken, `mutation { logout }`, nil), "UNAUTHENTICATED")
	})

	t.Run("ChangePassword", func(t *testing.T) {
		b := login()
		change := `mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { ` + authFields + ` } }`
		wantCode(t, e.post(t, b.AccessToken, change, vars{"c": "Wr0ng!pw", "n": "N3w!passw"}), "UNAUTHENTICATED")
		r := e.post(t, b.AccessToken, change, vars{"c": testPassword, "n": "short"})
		wantCode(t, r, "BAD_USER_INPUT")
		if f := r.Errors[0].Extensions["fields"].([]any)[0].(map[string]any); f["field"] != "newPassword" || f["kind"] != "weak" {
			t.Fatalf("fields %v", r.Errors[0].Extensions["fields"])
		}
		var ok struct{ ChangePassword authJSON }
		e.post(t, b.AccessToken, change, vars{"c": testPassword, "n": "N3w!passw"}).decode(t, &ok)
		if works(b.AccessToken) || !works(ok.ChangePassword.AccessToken) {
			t.Fatal("changePassword must end the old session and start a new one")
		}
	})
}
