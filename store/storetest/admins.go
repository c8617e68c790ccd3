package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/taskapi/taskapi/core"
)

// testAdmins checks the writes core makes conditional: "at least one active
// admin remains" (UserPatch.KeepActiveAdmin) and the task quota
// (CreateTask's limit), decided atomically with the write.
func testAdmins(t *testing.T, open func(*testing.T) core.Store) {
	mustAdmin := func(t *testing.T, s core.Store, name string) core.User {
		t.Helper()
		in := NewUser(UniqueEmail(name))
		in.Role = core.RoleAdmin
		u, err := s.CreateUser(t.Context(), in)
		wantNoErr(t, err)
		return u
	}
	demote := core.UserPatch{Role: ptr(core.RoleUser), KeepActiveAdmin: true}
	deactivate := core.UserPatch{ActivationStatus: ptr(core.ActivationInactive), KeepActiveAdmin: true}

	t.Run("TheLastActiveAdminStays", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		a := mustAdmin(t, s, "only")
		for _, p := range []core.UserPatch{demote, deactivate} {
			_, err := s.UpdateUser(t.Context(), a.ID, p)
			wantErr(t, err, core.ErrPrecondition)
		}
		got, err := s.GetUser(t.Context(), a.ID)
		wantNoErr(t, err)
		wantUser(t, got, a)
	})

	t.Run("AnotherActiveAdminLetsOneGo", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		a, b := mustAdmin(t, s, "a"), mustAdmin(t, s, "b")
		got, err := s.UpdateUser(t.Context(), a.ID, deactivate)
		wantNoErr(t, err)
		if got.IsActive() {
			t.Fatal("deactivation not applied")
		}
		// a is inactive now: b is the last active admin.
		_, err = s.UpdateUser(t.Context(), b.ID, demote)
		wantErr(t, err, core.ErrPrecondition)
		// Reactivating a admin makes room again.
		_, err = s.UpdateUser(t.Context(), a.ID, core.UserPatch{ActivationStatus: ptr(core.ActivationActive)})
		wantNoErr(t, err)
		_, err = s.UpdateUser(t.Context(), b.ID, demote)
		wantNoErr(t, err)
	})

	t.Run("TheConditionOnlyConcernsActiveAdmins", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		mustAdmin(t, s, "keeper")
		u := MustCreateUser(t, s, UniqueEmail("plain"))
		_, err := s.UpdateUser(t.Context(), u.ID, deactivate)
		wantNoErr(t, err)
		_, err = s.UpdateUser(t.Context(), u.ID, core.UserPatch{Role: ptr(core.RoleAdmin)})
		wantNoErr(t, err)
		// An inactive admin may be demoted: it changes no active admin.
		_, err = s.UpdateUser(t.Context(), u.ID, demote)
		wantNoErr(t, err)
	})

	t.Run("TwoAdminsDemotingEachOtherCannotBothWin", func(t *testing.T) {
		t.Parallel()
		for round := range 3 {
			s := open(t) // two active admins, nobody else
			a, b := mustAdmin(t, s, fmt.Sprint("x", round)), mustAdmin(t, s, fmt.Sprint("y", round))
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, id := range []string{a.ID, b.ID} {
				wg.Go(func() { _, errs[i] = s.UpdateUser(t.Context(), id, demote) })
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil && !errors.Is(err, core.ErrPrecondition) {
					t.Fatalf("round %d: %v", round, err)
				}
			}
			active := 0
			users, _, err := s.ListUsers(t.Context(), "", 100)
			wantNoErr(t, err)
			for _, u := range users {
				if u.IsAdmin() && u.IsActive() {
					active++
				}
			}
			if active < 1 {
				t.Fatalf("round %d: no active admin left", round)
			}
		}
	})

	t.Run("TaskQuotaHoldsAndWritesNothingOver", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("quota"))
		for i := range 3 {
			wantNoErr(t, s.CreateTask(t.Context(), NewTask(t, u.ID, fmt.Sprint("t", i)), 3))
		}
		over := NewTask(t, u.ID, "one too many")
		wantErr(t, s.CreateTask(t.Context(), over, 3), core.ErrPrecondition)
		_, err := s.GetTask(t.Context(), u.ID, over.ID)
		wantErr(t, err, core.ErrNotFound)
		wantStats(t, s, u.ID, stats(3, 0, 0))
		// A deletion makes room; a status change does not use any.
		tasks, _, err := s.ListTasks(t.Context(), u.ID, core.TaskQuery{Limit: 10})
		wantNoErr(t, err)
		MustSetStatus(t, s, u.ID, tasks[0].ID, core.StatusComplete)
		wantErr(t, s.CreateTask(t.Context(), over, 3), core.ErrPrecondition)
		wantNoErr(t, errOf(s.DeleteTask(t.Context(), u.ID, tasks[1].ID)))
		wantNoErr(t, s.CreateTask(t.Context(), over, 3))
		wantStats(t, s, u.ID, stats(2, 0, 1))
	})

	t.Run("ConcurrentCreatesNeverPassTheQuota", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("quota-race"))
		const limit, tries = 4, 10
		var wg sync.WaitGroup
		errs := make([]error, tries)
		for i := range tries {
			wg.Go(func() { errs[i] = s.CreateTask(t.Context(), NewTask(t, u.ID, fmt.Sprint("r", i)), limit) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil && !errors.Is(err, core.ErrPrecondition) && !errors.Is(err, core.ErrUnavailable) {
				t.Fatal(err)
			}
		}
		st, err := s.TaskStats(t.Context(), u.ID)
		wantNoErr(t, err)
		if st.Total() > limit {
			t.Fatalf("%d tasks stored, limit %d", st.Total(), limit)
		}
	})
}

// testWording checks that expected outcomes leave a store as bare
// sentinels (wantErr rejects any message or field of the store's own).
func testWording(t *testing.T, open func(*testing.T) core.Store) {
	s := open(t)
	u := MustCreateUser(t, s, UniqueEmail("words"))
	task := MustCreateTask(t, s, u.ID, "here")
	_, err := s.GetUser(t.Context(), "VAH987654321")
	wantErr(t, err, core.ErrNotFound)
	_, err = s.GetUserByEmail(t.Context(), core.KeyOf("absent@example.com"))
	wantErr(t, err, core.ErrNotFound)
	_, err = s.UpdateUser(t.Context(), "VAH987654321", core.UserPatch{Username: ptr[core.Username]("x")})
	wantErr(t, err, core.ErrNotFound)
	_, err = s.CreateUser(t.Context(), NewUser(string(u.Email)))
	wantErr(t, err, core.ErrConflict)
	wantErr(t, s.CreateTask(t.Context(), task, 0), core.ErrConflict)
	_, err = s.GetTask(t.Context(), u.ID, NewTaskID(t))
	wantErr(t, err, core.ErrNotFound)
	_, err = s.UpdateTask(t.Context(), u.ID, NewTaskID(t), core.TaskPatch{Title: ptr[core.Title]("x")})
	wantErr(t, err, core.ErrNotFound)
	wantErr(t, errOf(s.DeleteTask(t.Context(), u.ID, NewTaskID(t))), core.ErrNotFound)
}
