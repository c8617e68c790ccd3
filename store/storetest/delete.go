package storetest

import (
	"testing"
	"time"

	"github.com/taskapi/taskapi/core"
)

// markDeleted is the write core makes to begin a deletion (core/account.go).
func markDeleted(t *testing.T, s core.Store, u core.User) core.User {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	got, err := s.UpdateUser(t.Context(), u.ID, core.UserPatch{
		ActivationStatus: ptr(core.ActivationInactive), KeepActiveAdmin: u.IsAdmin(),
		EndSessionsAt: now, MarkDeleted: now,
	})
	wantNoErr(t, err)
	if !got.Deleted() || !got.DeletedAt.Equal(now) {
		t.Fatalf("after the mark DeletedAt = %v, want %v", got.DeletedAt, now)
	}
	return got
}

// testDelete checks account deletion's steps: the mark (a UserPatch),
// DeleteTasks batches that keep the counters exact, and DeleteUser, which
// only removes a marked user with no task left, and everything of them.
func testDelete(t *testing.T, open func(*testing.T) core.Store) {
	t.Run("TheMarkIsStoredAndRead", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := markDeleted(t, s, MustCreateUser(t, s, UniqueEmail("marked")))
		for name, get := range map[string]func() (core.User, error){
			"GetUser":        func() (core.User, error) { return s.GetUser(t.Context(), u.ID) },
			"GetUserByEmail": func() (core.User, error) { return s.GetUserByEmail(t.Context(), u.Email.Key()) },
		} {
			got, err := get()
			wantNoErr(t, err)
			if !got.DeletedAt.Equal(u.DeletedAt) || got.IsActive() {
				t.Errorf("%s: DeletedAt %v active %v, want %v and inactive", name, got.DeletedAt, got.IsActive(), u.DeletedAt)
			}
		}
		users, _, err := s.ListUsers(t.Context(), "", 10)
		wantNoErr(t, err)
		if len(users) != 1 || !users[0].Deleted() {
			t.Errorf("ListUsers = %+v, want the marked user (core hides it, verify finds it)", users)
		}
	})

	t.Run("DeleteTasksKeepsCountersExactPerBatch", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("batches"))
		other := MustCreateUser(t, s, UniqueEmail("bystander"))
		kept := MustCreateTask(t, s, other.ID, "not mine")
		want := core.TaskStats{}
		for i := range 7 {
			task := MustCreateTask(t, s, u.ID, "t")
			st := core.TaskStatuses[i%len(core.TaskStatuses)]
			if st != core.StatusPending {
				MustSetStatus(t, s, u.ID, task.ID, st)
			}
			want = want.Add(st, 1)
		}
		left := 7
		for left > 0 {
			n, err := s.DeleteTasks(t.Context(), u.ID, 3)
			wantNoErr(t, err)
			if n < 1 || n > 3 {
				t.Fatalf("DeleteTasks(3) removed %d with %d left", n, left)
			}
			left -= n
			var got core.TaskStats
			for _, task := range allTasks(t, s, u.ID, nil, 100) {
				got = got.Add(task.Status, 1)
			}
			if got.Total() != left {
				t.Fatalf("%d tasks listed, want %d", got.Total(), left)
			}
			wantStats(t, s, u.ID, got)
		}
		n, err := s.DeleteTasks(t.Context(), u.ID, 3)
		wantNoErr(t, err)
		if n != 0 {
			t.Fatalf("DeleteTasks with none left removed %d", n)
		}
		got, err := s.GetTask(t.Context(), other.ID, kept.ID)
		wantNoErr(t, err)
		wantTask(t, got, kept)
		wantStats(t, s, other.ID, stats(1, 0, 0))
	})

	t.Run("DeleteUserNeedsTheMarkAndNoTasks", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("refused"))
		MustCreateTask(t, s, u.ID, "still here")
		wantErr(t, s.DeleteUser(t.Context(), u.ID), core.ErrPrecondition) // not marked
		markDeleted(t, s, u)
		wantErr(t, s.DeleteUser(t.Context(), u.ID), core.ErrPrecondition) // a task is left
		if _, err := s.GetUserByEmail(t.Context(), u.Email.Key()); err != nil {
			t.Fatalf("a refused DeleteUser removed the guard: %v", err)
		}
		wantStats(t, s, u.ID, stats(1, 0, 0))
		wantErr(t, s.DeleteUser(t.Context(), NewUserID()), core.ErrNotFound)
	})

	t.Run("DeleteUserRemovesEverything", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("leaver"))
		sess := NewSession(u.ID, "sess-leaver")
		_, err := s.WriteSessions(t.Context(), u.ID, core.SessionWrite{Put: &sess, Change: add(sess.ID)})
		wantNoErr(t, err)
		for range 120 { // more than one DynamoDB transaction holds
			MustCreateTask(t, s, u.ID, "t")
		}
		markDeleted(t, s, u)
		if _, err := s.GetSession(t.Context(), sess.ID); err == nil {
			t.Error("the mark left a session record")
		}
		total := 0
		for {
			n, err := s.DeleteTasks(t.Context(), u.ID, 100)
			wantNoErr(t, err)
			if n == 0 {
				break
			}
			total += n
		}
		if total != 120 {
			t.Fatalf("DeleteTasks removed %d in all, want 120", total)
		}
		wantNoErr(t, s.DeleteUser(t.Context(), u.ID))

		_, err = s.GetUser(t.Context(), u.ID)
		wantErr(t, err, core.ErrNotFound)
		_, err = s.GetUserByEmail(t.Context(), u.Email.Key())
		wantErr(t, err, core.ErrNotFound)
		wantErr(t, s.DeleteUser(t.Context(), u.ID), core.ErrNotFound)
		wantStats(t, s, u.ID, core.TaskStats{})
		users, _, err := s.ListUsers(t.Context(), "", 10)
		wantNoErr(t, err)
		if len(users) != 0 {
			t.Errorf("ListUsers after the deletion = %v", ids(users, userID))
		}
		// A write for the deleted user neither succeeds nor brings it back.
		if err := s.CreateTask(t.Context(), NewTask(t, u.ID, "late"), 0); err == nil {
			t.Error("CreateTask for a deleted user succeeded")
		}
		_, err = s.GetUser(t.Context(), u.ID)
		wantErr(t, err, core.ErrNotFound)
		// The address registers again, under a new id.
		again := MustCreateUser(t, s, string(u.Email))
		if again.ID == u.ID {
			t.Fatal("the new account reused the deleted id")
		}
	})

	t.Run("DeletingAnAdminKeepsTheAdminCountExact", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		var admins []core.User
		for _, name := range []string{"stays", "leaves"} {
			in := NewUser(UniqueEmail(name))
			in.Role = core.RoleAdmin
			a, err := s.CreateUser(t.Context(), in)
			wantNoErr(t, err)
			admins = append(admins, a)
		}
		markDeleted(t, s, admins[1])
		wantNoErr(t, s.DeleteUser(t.Context(), admins[1].ID))
		// One active admin is left, and the count knows it.
		_, err := s.UpdateUser(t.Context(), admins[0].ID, core.UserPatch{Role: ptr(core.RoleUser), KeepActiveAdmin: true})
		wantErr(t, err, core.ErrPrecondition)
	})

	t.Run("TheLastActiveAdminCannotBeMarked", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		in := NewUser(UniqueEmail("sole-admin"))
		in.Role = core.RoleAdmin
		a, err := s.CreateUser(t.Context(), in)
		wantNoErr(t, err)
		now := time.Now()
		_, err = s.UpdateUser(t.Context(), a.ID, core.UserPatch{
			ActivationStatus: ptr(core.ActivationInactive), KeepActiveAdmin: true, EndSessionsAt: now, MarkDeleted: now,
		})
		wantErr(t, err, core.ErrPrecondition)
		got, err := s.GetUser(t.Context(), a.ID)
		wantNoErr(t, err)
		if got.Deleted() || !got.IsActive() {
			t.Fatalf("a refused mark changed the admin: %+v", got)
		}
	})
}
