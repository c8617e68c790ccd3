package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/taskapi/taskapi/core"
)

// NewSession returns a session of userID, ready for WriteSessions.
func NewSession(userID, id string) core.Session {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return core.Session{
		ID: id, UserID: userID, CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(24 * time.Hour),
		UserAgent: "storetest/1.0", IPAddress: "192.0.2.7", RefreshHash: "hash-of-" + id,
	}
}

// add is a SessionWrite.Change that makes session id live for an hour.
func add(id string) func(core.SessionSet) (core.SessionSet, []string) {
	return func(set core.SessionSet) (core.SessionSet, []string) {
		now := time.Now()
		return set.With(id, now.Add(time.Hour), now)
	}
}

func remove(ids ...string) func(core.SessionSet) (core.SessionSet, []string) {
	return func(set core.SessionSet) (core.SessionSet, []string) {
		return set.Without(time.Now(), ids...), ids
	}
}

func testSessions(t *testing.T, open func(*testing.T) core.Store) {
	t.Run("PutMakesItLiveAndReadable", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("sess"))
		sess := NewSession(u.ID, "s-one")
		got, err := s.WriteSessions(t.Context(), u.ID, core.SessionWrite{Put: &sess, Change: add(sess.ID)})
		wantNoErr(t, err)
		if !got.Live(sess.ID, time.Now()) {
			t.Fatalf("returned sessions %q lack %s", got.Encode(), sess.ID)
		}
		stored, err := s.GetUser(t.Context(), u.ID)
		wantNoErr(t, err)
		if stored.Sessions != got {
			t.Fatalf("stored sessions %q, returned %q", stored.Sessions.Encode(), got.Encode())
		}
		rec, err := s.GetSession(t.Context(), sess.ID)
		wantNoErr(t, err)
		wantSession(t, rec, sess)
		list, err := s.GetSessions(t.Context(), []string{"absent", sess.ID})
		wantNoErr(t, err)
		if len(list) != 1 {
			t.Fatalf("GetSessions = %v, want only %s", list, sess.ID)
		}
		wantSession(t, list[0], sess)
	})

	t.Run("UnknownIsErrNotFound", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		_, err := s.GetSession(t.Context(), "nothing-here")
		wantErr(t, err, core.ErrNotFound)
		sess := NewSession("VAH987654", "s-ghost")
		_, err = s.WriteSessions(t.Context(), "VAH987654", core.SessionWrite{Put: &sess, Change: add(sess.ID)})
		wantErr(t, err, core.ErrNotFound)
		_, err = s.GetSession(t.Context(), sess.ID)
		wantErr(t, err, core.ErrNotFound)
		list, err := s.GetSessions(t.Context(), []string{"a", "b"})
		wantNoErr(t, err)
		if len(list) != 0 {
			t.Fatalf("GetSessions of unknown ids = %v", list)
		}
	})

	t.Run("RotationIsConditionalOnTheHash", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("rot"))
		sess := NewSession(u.ID, "s-rot")
		_, err := s.WriteSessions(t.Context(), u.ID, core.SessionWrite{Put: &sess, Change: add(sess.ID)})
		wantNoErr(t, err)
		next := sess
		next.RefreshHash, next.LastUsedAt = "hash-2", sess.LastUsedAt.Add(time.Minute)
		_, err = s.WriteSessions(t.Context(), u.ID, core.SessionWrite{Put: &next, IfHash: sess.RefreshHash, Change: add(sess.ID)})
		wantNoErr(t, err)
		rec, err := s.GetSession(t.Context(), sess.ID)
		wantNoErr(t, err)
		wantSession(t, rec, next)
		// The old hash no longer matches: nothing is written.
		stale := next
		stale.RefreshHash = "hash-3"
		_, err = s.WriteSessions(t.Context(), u.ID, core.SessionWrite{Put: &stale, IfHash: sess.RefreshHash, Change: add(sess.ID)})
		wantErr(t, err, core.ErrPrecondition)
		rec, err = s.GetSession(t.Context(), sess.ID)
		wantNoErr(t, err)
		wantSession(t, rec, next)
		// A session that is gone cannot be rotated.
		gone := NewSession(u.ID, "s-gone")
		_, err = s.WriteSessions(t.Context(), u.ID, core.SessionWrite{Put: &gone, IfHash: "any", Change: add(gone.ID)})
		wantErr(t, err, core.ErrNotFound)
	})

	t.Run("ConcurrentRotationsOfOneHashExactlyOneWins", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("race"))
		sess := NewSession(u.ID, "s-race")
		_, err := s.WriteSessions(t.Context(), u.ID, core.SessionWrite{Put: &sess, Change: add(sess.ID)})
		wantNoErr(t, err)
		const n = 6
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				next := sess
				next.RefreshHash = fmt.Sprint("winner-", i)
				_, errs[i] = s.WriteSessions(t.Context(), u.ID, core.SessionWrite{Put: &next, IfHash: sess.RefreshHash, Change: add(sess.ID)})
			})
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, core.ErrPrecondition) && !errors.Is(err, core.ErrUnavailable):
				t.Fatal(err)
			}
		}
		if wins != 1 {
			t.Fatalf("%d rotations of one refresh token succeeded, want 1", wins)
		}
	})

	t.Run("RemovingEndsAndDeletes", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("rm"))
		for _, id := range []string{"s-a", "s-b", "s-c"} {
			sess := NewSession(u.ID, id)
			_, err := s.WriteSessions(t.Context(), u.ID, core.SessionWrite{Put: &sess, Change: add(id)})
			wantNoErr(t, err)
		}
		got, err := s.WriteSessions(t.Context(), u.ID, core.SessionWrite{Change: remove("s-b")})
		wantNoErr(t, err)
		if ids := got.IDs(time.Now()); !slices.Equal(ids, []string{"s-a", "s-c"}) {
			t.Fatalf("live sessions %v, want s-a and s-c", ids)
		}
		_, err = s.GetSession(t.Context(), "s-b")
		wantErr(t, err, core.ErrNotFound)
	})

	t.Run("AUserPatchCanEndEverySession", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("end"))
		for _, id := range []string{"s-x", "s-y"} {
			sess := NewSession(u.ID, id)
			_, err := s.WriteSessions(t.Context(), u.ID, core.SessionWrite{Put: &sess, Change: add(id)})
			wantNoErr(t, err)
		}
		at := time.Now().UTC()
		for _, p := range []core.UserPatch{
			{PasswordHash: ptr("rotated"), EndSessionsAt: at},
			{Role: ptr(core.RoleAdmin), EndSessionsAt: at},
		} {
			got, err := s.UpdateUser(t.Context(), u.ID, p)
			wantNoErr(t, err)
			if ids := got.Sessions.IDs(time.Now()); len(ids) != 0 || got.Sessions.AcceptsLegacy(at.Add(-time.Second)) {
				t.Fatalf("after the patch: sessions %v (%q)", ids, got.Sessions.Encode())
			}
			stored, err := s.GetUser(t.Context(), u.ID)
			wantNoErr(t, err)
			if stored.Sessions != got.Sessions {
				t.Fatalf("stored sessions %q, returned %q", stored.Sessions.Encode(), got.Sessions.Encode())
			}
		}
		for _, id := range []string{"s-x", "s-y"} {
			_, err := s.GetSession(t.Context(), id)
			wantErr(t, err, core.ErrNotFound)
		}
	})

	t.Run("OtherUsersAreUntouched", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		a := MustCreateUser(t, s, UniqueEmail("a"))
		b := MustCreateUser(t, s, UniqueEmail("b"))
		sess := NewSession(b.ID, "s-b-own")
		_, err := s.WriteSessions(t.Context(), b.ID, core.SessionWrite{Put: &sess, Change: add(sess.ID)})
		wantNoErr(t, err)
		_, err = s.UpdateUser(t.Context(), a.ID, core.UserPatch{PasswordHash: ptr("x"), EndSessionsAt: time.Now()})
		wantNoErr(t, err)
		got, err := s.GetUser(t.Context(), b.ID)
		wantNoErr(t, err)
		if !got.Sessions.Live(sess.ID, time.Now()) {
			t.Fatal("ending a's sessions ended b's")
		}
	})
}

func wantSession(tb testing.TB, got, want core.Session) {
	tb.Helper()
	for _, ts := range [][2]time.Time{{got.CreatedAt, want.CreatedAt}, {got.LastUsedAt, want.LastUsedAt}, {got.ExpiresAt, want.ExpiresAt}} {
		if !ts[0].Equal(ts[1]) {
			tb.Fatalf("session times %+v, want %+v", got, want)
		}
	}
	got.CreatedAt, got.LastUsedAt, got.ExpiresAt = want.CreatedAt, want.LastUsedAt, want.ExpiresAt
	if got != want {
		tb.Fatalf("session %+v\nwant    %+v", got, want)
	}
}
