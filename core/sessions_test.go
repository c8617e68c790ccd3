package core_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/taskapi/taskapi/core"
)

// clock is a settable time for the session lifetimes.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func withClock(c *clock) func(*core.Config) {
	return func(cfg *core.Config) {
		cfg.Now = c.Now
		cfg.Tokens = core.NewTokens([]byte("service-test-secret-service-test"), time.Hour, c.Now)
	}
}

func bearer(token string) context.Context {
	return core.WithUserAgent(core.WithRequest(context.Background(), token, "198.51.100.9"), "test-agent/2")
}

func login(t *testing.T, f *fixture, email, password string) core.AuthPayload {
	t.Helper()
	p, err := f.svc.Login(core.WithUserAgent(core.WithRequest(context.Background(), "", "198.51.100.9"), "test-agent/1"), email, password)
	if err != nil {
		t.Fatalf("login %s: %v", email, err)
	}
	return p
}

// works reports whether an access token is accepted by the next request.
func works(f *fixture, token string) bool {
	_, err := f.svc.Me(bearer(token))
	return err == nil
}

func TestLoginStartsASession(t *testing.T) {
	f := newFixture(t)
	f.user(t, "ann")
	p := login(t, f, "ann@example.com", pw)
	if p.RefreshToken == "" || p.RefreshExpiresIn != int(core.DefaultSessionIdleTTL.Seconds()) || p.ExpiresIn != 3600 {
		t.Fatalf("payload %+v", p)
	}
	sessions, err := f.svc.Sessions(bearer(p.AccessToken), p.User.ID)
	if err != nil || len(sessions) != 2 { // f.user logged in once too
		t.Fatalf("sessions %+v, %v", sessions, err)
	}
	s := sessions[0]
	if s.UserAgent != "test-agent/1" || s.IPAddress != "198.51.100.9" || s.RefreshHash != "" || !s.CreatedAt.Equal(s.LastUsedAt) {
		t.Fatalf("newest session %+v", s)
	}
	if f.svc.CurrentSession(bearer(p.AccessToken)) != s.ID {
		t.Fatal("the token's session is not the newest")
	}
}

func TestRefresh(t *testing.T) {
	c := &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	f := newFixture(t, withClock(c))
	f.user(t, "ann")
	p := login(t, f, "ann@example.com", pw)

	c.advance(10 * time.Minute)
	next, err := f.svc.Refresh(bearer(""), p.RefreshToken)
	wantCode(t, err, "", "")
	if next.RefreshToken == p.RefreshToken || next.AccessToken == p.AccessToken || next.User.ID != p.User.ID {
		t.Fatalf("refresh gave %+v", next)
	}
	if !works(f, next.AccessToken) || !works(f, p.AccessToken) {
		t.Fatal("both access tokens of the live session should work until they expire")
	}
	sessions, _ := f.svc.Sessions(bearer(next.AccessToken), p.User.ID)
	if !sessions[0].LastUsedAt.Equal(c.Now().Truncate(time.Millisecond)) || sessions[0].UserAgent != "test-agent/2" {
		t.Fatalf("refresh did not touch the session: %+v", sessions[0])
	}

	for _, tc := range []struct{ name, token string }{
		{"ErrMalformed", "not-a-refresh-token"},
		{"ErrEmpty", ""},
		{"ErrUnknownSession", "AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{"ErrAccessTokenInstead", next.AccessToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.Refresh(bearer(""), tc.token)
			wantCode(t, err, core.CodeUnauthenticated, "Invalid or expired refresh token")
			if !works(f, next.AccessToken) {
				t.Fatal("a refused refresh ended the session")
			}
		})
	}

	t.Run("ReuseEndsTheWholeSession", func(t *testing.T) {
		_, err := f.svc.Refresh(bearer(""), p.RefreshToken) // already used
		wantCode(t, err, core.CodeUnauthenticated, "Refresh token already used: the session has been ended")
		if works(f, next.AccessToken) || works(f, p.AccessToken) {
			t.Fatal("the session's access tokens still work after reuse")
		}
		_, err = f.svc.Refresh(bearer(""), next.RefreshToken)
		wantCode(t, err, core.CodeUnauthenticated, "")
	})

	t.Run("IdleLifetime", func(t *testing.T) {
		q := login(t, f, "ann@example.com", pw)
		c.advance(core.DefaultSessionIdleTTL - time.Minute)
		r, err := f.svc.Refresh(bearer(""), q.RefreshToken)
		wantCode(t, err, "", "")
		c.advance(core.DefaultSessionIdleTTL + time.Minute)
		_, err = f.svc.Refresh(bearer(""), r.RefreshToken)
		wantCode(t, err, core.CodeUnauthenticated, "Invalid or expired refresh token")
	})

	t.Run("AbsoluteLifetime", func(t *testing.T) {
		q := login(t, f, "ann@example.com", pw)
		tok := q.RefreshToken
		for spent := time.Duration(0); spent < core.DefaultSessionTTL-6*24*time.Hour; spent += 6 * 24 * time.Hour {
			c.advance(6 * 24 * time.Hour)
			r, err := f.svc.Refresh(bearer(""), tok)
			wantCode(t, err, "", "")
			tok = r.RefreshToken
		}
		c.advance(6 * 24 * time.Hour) // past 30 days since login, though refreshed within 7
		_, err := f.svc.Refresh(bearer(""), tok)
		wantCode(t, err, core.CodeUnauthenticated, "")
	})

	t.Run("AccessTokensOutliveNothing", func(t *testing.T) {
		q := login(t, f, "ann@example.com", pw)
		c.advance(time.Hour + time.Minute) // JWT_TTL
		if works(f, q.AccessToken) {
			t.Fatal("an expired access token works")
		}
		r, err := f.svc.Refresh(bearer(""), q.RefreshToken)
		wantCode(t, err, "", "")
		if !works(f, r.AccessToken) {
			t.Fatal("the refreshed access token does not work")
		}
	})
}

func TestConcurrentRefreshesOfOneTokenEndTheSession(t *testing.T) {
	f := newFixture(t)
	f.user(t, "ann")
	p := login(t, f, "ann@example.com", pw)
	const n = 4
	got := make([]core.AuthPayload, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i], errs[i] = f.svc.Refresh(bearer(""), p.RefreshToken) })
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		if err == nil {
			won++
			if works(f, got[i].AccessToken) {
				t.Error("a token of a reused session still works")
			}
		}
	}
	if won > 1 {
		t.Fatalf("%d concurrent refreshes of one token succeeded", won)
	}
}

func TestLogout(t *testing.T) {
	f := newFixture(t)
	f.user(t, "ann")
	a := login(t, f, "ann@example.com", pw)
	b := login(t, f, "ann@example.com", pw)
	wantCode(t, f.svc.Logout(bearer(a.AccessToken)), "", "")
	if works(f, a.AccessToken) {
		t.Fatal("the logged-out access token works")
	}
	_, err := f.svc.Refresh(bearer(""), a.RefreshToken)
	wantCode(t, err, core.CodeUnauthenticated, "")
	if !works(f, b.AccessToken) {
		t.Fatal("logout ended another session")
	}
	wantCode(t, f.svc.Logout(bearer(a.AccessToken)), core.CodeUnauthenticated, "Session ended; log in again")
	wantCode(t, f.svc.Logout(bearer("")), core.CodeUnauthenticated, "Not authenticated")

	c := login(t, f, "ann@example.com", pw)
	wantCode(t, f.svc.LogoutEverywhere(bearer(b.AccessToken)), "", "")
	for _, p := range []core.AuthPayload{b, c} {
		if works(f, p.AccessToken) {
			t.Fatal("an access token works after logoutEverywhere")
		}
		_, err := f.svc.Refresh(bearer(""), p.RefreshToken)
		wantCode(t, err, core.CodeUnauthenticated, "")
	}
	if !works(f, login(t, f, "ann@example.com", pw).AccessToken) {
		t.Fatal("a new login after logoutEverywhere does not work")
	}
}

func TestChangePassword(t *testing.T) {
	f := newFixture(t)
	f.user(t, "ann")
	a := login(t, f, "ann@example.com", pw)
	other := login(t, f, "ann@example.com", pw)
	for _, tc := range []struct {
		name, current, next string
		code                core.Code
	}{
		{"ErrWrongCurrent", "Wr0ng!pw", "N3w!passw", core.CodeUnauthenticated},
		{"ErrWeakNew", pw, "weak", core.CodeInvalid},
		{"ErrCommonNew", pw, "password123", core.CodeInvalid},
		{"ErrSame", pw, pw, core.CodeInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.ChangePassword(bearer(a.AccessToken), tc.current, tc.next)
			wantCode(t, err, tc.code, "")
			if !works(f, a.AccessToken) || !works(f, other.AccessToken) {
				t.Fatal("a refused change ended a session")
			}
			login(t, f, "ann@example.com", pw) // the password is unchanged
		})
	}
	p, err := f.svc.ChangePassword(bearer(a.AccessToken), pw, "N3w!passw")
	wantCode(t, err, "", "")
	if !works(f, p.AccessToken) {
		t.Fatal("the fresh token does not work")
	}
	if works(f, a.AccessToken) || works(f, other.AccessToken) {
		t.Fatal("an old session survived the password change")
	}
	if _, err := f.svc.Login(context.Background(), "ann@example.com", pw); err == nil {
		t.Fatal("the old password still works")
	}
	login(t, f, "ann@example.com", "N3w!passw")
}

func TestRevokeSession(t *testing.T) {
	f := newFixture(t)
	_, adminCtx := f.admin(t, "root")
	f.user(t, "ann")
	f.user(t, "bob")
	a1 := login(t, f, "ann@example.com", pw)
	a2 := login(t, f, "ann@example.com", pw)
	bob := login(t, f, "bob@example.com", pw)
	id := func(p core.AuthPayload) string { return f.svc.CurrentSession(bearer(p.AccessToken)) }

	wantCode(t, f.svc.RevokeSession(bearer(bob.AccessToken), id(a2)), core.CodeNotFound, "Session not found")
	wantCode(t, f.svc.RevokeSession(bearer(a1.AccessToken), "no-such-session"), core.CodeNotFound, "Session not found")
	if !works(f, a2.AccessToken) {
		t.Fatal("someone else revoked ann's session")
	}
	a2id := id(a2)
	wantCode(t, f.svc.RevokeSession(bearer(a1.AccessToken), a2id), "", "")
	if works(f, a2.AccessToken) || !works(f, a1.AccessToken) {
		t.Fatal("revoking one's own other session")
	}
	// An admin may revoke anyone's, and read anyone's list (no hashes).
	wantCode(t, f.svc.RevokeSession(adminCtx, id(bob)), "", "")
	if works(f, bob.AccessToken) {
		t.Fatal("the admin's revocation did not take")
	}
	list, err := f.svc.Sessions(adminCtx, a1.User.ID)
	if err != nil || len(list) == 0 {
		t.Fatalf("admin reading ann's sessions: %v, %v", list, err)
	}
	for _, s := range list {
		if s.RefreshHash != "" || s.ID == a2id {
			t.Fatalf("listed %+v", s)
		}
	}
	_, err = f.svc.Sessions(bearer(a1.AccessToken), bob.User.ID)
	wantCode(t, err, core.CodeForbidden, "")
}

func TestAccountChangesEndEverySession(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   core.UpdateUserInput
		ends bool
	}{
		{"Password", core.UpdateUserInput{Password: ptr("An0ther!pw")}, true},
		{"Email", core.UpdateUserInput{Email: ptr("new.address@example.com")}, true},
		{"EmailOnlyRecased", core.UpdateUserInput{Email: ptr("VICTIM@example.com")}, false},
		{"Role", core.UpdateUserInput{Role: ptr(core.RoleAdmin)}, true},
		{"Deactivation", core.UpdateUserInput{ActivationStatus: ptr(core.ActivationInactive)}, true},
		{"Username", core.UpdateUserInput{Username: ptr("renamed")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			_, adminCtx := f.admin(t, "root")
			f.user(t, "victim")
			p := login(t, f, "victim@example.com", pw)
			if _, err := f.svc.UpdateUser(adminCtx, p.User.ID, tc.in); err != nil {
				t.Fatal(err)
			}
			if tc.in.ActivationStatus != nil { // reactivation revives nothing
				if _, err := f.svc.UpdateUser(adminCtx, p.User.ID, core.UpdateUserInput{ActivationStatus: ptr(core.ActivationActive)}); err != nil {
					t.Fatal(err)
				}
			}
			_, refreshErr := f.svc.Refresh(bearer(""), p.RefreshToken)
			if ended := !works(f, p.AccessToken) && refreshErr != nil; ended != tc.ends {
				t.Fatalf("session ended: %v, want %v (refresh: %v)", ended, tc.ends, refreshErr)
			}
		})
	}
}

func TestCreateAdminEndsThePromotedAccountsSessions(t *testing.T) {
	f := newFixture(t)
	// An attacker registers the address before the operator promotes it.
	f.user(t, "boss")
	p := login(t, f, "boss@example.com", pw)
	if _, err := f.svc.AllUsers(bearer(p.AccessToken)); err == nil {
		t.Fatal("a user lists users")
	}
	u, created, err := f.svc.CreateAdmin(context.Background(), "boss@example.com", "0perat0r!", "")
	if err != nil || created || !u.IsAdmin() {
		t.Fatal(u, created, err)
	}
	if _, err := f.svc.AllUsers(bearer(p.AccessToken)); err == nil {
		t.Fatal("the attacker's token became an admin token")
	}
	if _, err := f.svc.Refresh(bearer(""), p.RefreshToken); err == nil {
		t.Fatal("the attacker's refresh token survived the promotion")
	}
}

func TestLegacyTokensWithoutASession(t *testing.T) {
	c := &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	f := newFixture(t, withClock(c))
	u, _ := f.user(t, "old")
	issuer := core.NewTokens([]byte("service-test-secret-service-test"), time.Hour, c.Now)
	legacy, err := issuer.Issue(u.ID, "") // as the legacy app signed them: sub, iat, exp
	if err != nil {
		t.Fatal(err)
	}
	if !works(f, legacy) {
		t.Fatal("a legacy token is refused before it expires")
	}
	c.advance(time.Second)
	wantCode(t, f.svc.Logout(bearer(legacy)), "", "")
	if works(f, legacy) {
		t.Fatal("a logged-out legacy token still works")
	}
	fresh, _ := issuer.Issue(u.ID, "")
	c.advance(time.Second)
	p := login(t, f, "old@example.com", pw)
	if !works(f, fresh) || !works(f, p.AccessToken) {
		t.Fatal("logging out one legacy token ended later ones or new sessions")
	}
}

// A legacy token with no iat cannot be dated: accepted until the user's
// sessions are ended once, then never again.
func TestLegacyTokensWithoutAnIssueTime(t *testing.T) {
	c := &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	f := newFixture(t, withClock(c))
	u, ctx := f.user(t, "undated")
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": u.ID, "exp": c.Now().Add(time.Hour).Unix()}).
		SignedString([]byte("service-test-secret-service-test"))
	if err != nil {
		t.Fatal(err)
	}
	if !works(f, tok) {
		t.Fatal("an undated legacy token is refused")
	}
	c.advance(time.Second)
	wantCode(t, f.svc.LogoutEverywhere(ctx), "", "")
	if works(f, tok) {
		t.Fatal("an undated legacy token survived logoutEverywhere")
	}
}

func TestSessionsPerUserAreBounded(t *testing.T) {
	f := newFixture(t)
	f.user(t, "busy")
	var first core.AuthPayload
	for i := range core.MaxSessionsPerUser + 5 {
		p := login(t, f, "busy@example.com", pw)
		if i == 0 {
			first = p
		}
	}
	list, err := f.svc.Sessions(bearer(login(t, f, "busy@example.com", pw).AccessToken), first.User.ID)
	if err != nil || len(list) != core.MaxSessionsPerUser {
		t.Fatalf("%d sessions (%v), want %d", len(list), err, core.MaxSessionsPerUser)
	}
	if works(f, first.AccessToken) {
		t.Fatal("the oldest session survived past the limit")
	}
	if strings.Count(fmt.Sprint(list), "test-agent") != core.MaxSessionsPerUser {
		t.Fatal("sessions lost their user agent")
	}
}
