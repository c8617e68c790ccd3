package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskapi/taskapi/core"
)

// countListed counts userID's tasks per status by listing them.
func countListed(tb testing.TB, s core.Store, userID string) core.TaskStats {
	tb.Helper()
	var c core.TaskStats
	for _, tk := range allTasks(tb, s, userID, nil, 7) {
		c = c.Add(tk.Status, 1)
	}
	for _, st := range core.TaskStatuses {
		if n := len(allTasks(tb, s, userID, &st, 7)); n != c.Count(st) {
			tb.Fatalf("%d %s tasks through the status filter, %d in the full list", n, st, c.Count(st))
		}
	}
	return c
}

func testStats(t *testing.T, open func(*testing.T) core.Store) {
	t.Run("ZeroForAUserWithoutTasks", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("idle"))
		wantStats(t, s, u.ID, core.TaskStats{})
		wantStats(t, s, "VAH999999", core.TaskStats{})
	})

	t.Run("ExactAfterEveryWrite", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("counter"))
		other := MustCreateUser(t, s, UniqueEmail("other"))
		otherTask := MustCreateTask(t, s, other.ID, "theirs")
		var want core.TaskStats
		var tasks []core.Task
		check := func(step string) {
			t.Helper()
			got, err := s.TaskStats(t.Context(), u.ID)
			wantNoErr(t, err)
			if got != want {
				t.Fatalf("after %s: stats %+v, want %+v", step, got, want)
			}
			wantStats(t, s, other.ID, stats(1, 0, 0))
		}
		for i := range 5 {
			tasks = append(tasks, MustCreateTask(t, s, u.ID, fmt.Sprint("t", i)))
			want = want.Add(core.StatusPending, 1)
			check(fmt.Sprint("create ", i))
		}
		moves := []struct {
			i  int
			to core.TaskStatus
		}{
			{0, core.StatusOngoing}, {1, core.StatusOngoing}, {0, core.StatusComplete},
			{1, core.StatusOngoing}, {2, core.StatusComplete}, {0, core.StatusPending}, {3, core.StatusComplete},
		}
		status := map[string]core.TaskStatus{}
		for _, tk := range tasks {
			status[tk.ID] = tk.Status
		}
		for _, m := range moves {
			id := tasks[m.i].ID
			MustSetStatus(t, s, u.ID, id, m.to)
			want = want.Add(status[id], -1).Add(m.to, 1)
			status[id] = m.to
			check(fmt.Sprintf("task %d → %s", m.i, m.to))
		}
		_, err := s.UpdateTask(t.Context(), u.ID, tasks[4].ID, core.TaskPatch{Title: ptr[core.Title]("renamed"), UpdatedAt: time.Now()})
		wantNoErr(t, err)
		check("title change")
		for _, i := range []int{2, 0, 4} {
			wantNoErr(t, errOf(s.DeleteTask(t.Context(), u.ID, tasks[i].ID)))
			want = want.Add(status[tasks[i].ID], -1)
			check(fmt.Sprint("delete ", i))
		}
		// Failed writes change nothing.
		wantErr(t, errOf(s.DeleteTask(t.Context(), u.ID, tasks[0].ID)), core.ErrNotFound)
		_, err = s.UpdateTask(t.Context(), u.ID, tasks[0].ID, core.TaskPatch{Status: ptr(core.StatusOngoing), UpdatedAt: time.Now()})
		wantErr(t, err, core.ErrNotFound)
		_, err = s.UpdateTask(t.Context(), u.ID, otherTask.ID, core.TaskPatch{Status: ptr(core.StatusOngoing), UpdatedAt: time.Now()})
		wantErr(t, err, core.ErrNotFound)
		wantErr(t, errOf(s.DeleteTask(t.Context(), u.ID, otherTask.ID)), core.ErrNotFound)
		wantErr(t, s.CreateTask(t.Context(), tasks[1], 0), core.ErrConflict)
		check("failed writes")
		if listed := countListed(t, s, u.ID); listed != want {
			t.Fatalf("listed %+v, stats %+v", listed, want)
		}
	})

	t.Run("ExactUnderConcurrentWrites", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("busy"))
		bystander := MustCreateUser(t, s, UniqueEmail("bystander"))
		MustCreateTask(t, s, bystander.ID, "calm")
		const workers, perWorker = 6, 5
		var wg sync.WaitGroup
		errs := make(chan error, workers*perWorker*3)
		for w := range workers {
			wg.Go(func() {
				for i := range perWorker {
					tk := NewTask(t, u.ID, fmt.Sprintf("w%d-%d", w, i))
					if err := s.CreateTask(t.Context(), tk, 0); err != nil {
						errs <- err
						return
					}
					switch i % 3 {
					case 1:
						st := core.StatusOngoing
						if w%2 == 0 {
							st = core.StatusComplete
						}
						if _, err := s.UpdateTask(t.Context(), u.ID, tk.ID, core.TaskPatch{Status: &st, UpdatedAt: time.Now()}); err != nil {
							errs <- err
						}
					case 2:
						if _, err := s.DeleteTask(t.Context(), u.ID, tk.ID); err != nil {
							errs <- err
						}
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("concurrent write: %v", err)
		}
		listed := countListed(t, s, u.ID)
		wantStats(t, s, u.ID, listed)
		// Per worker: i = 0, 3 stay pending, 1 moves, 4 moves, 2 is deleted.
		if listed.Total() != workers*4 || listed.Pending() != workers*2 {
			t.Fatalf("listed %+v, want %d tasks of which %d pending", listed, workers*4, workers*2)
		}
		wantStats(t, s, bystander.ID, stats(1, 0, 0))
	})

	t.Run("ExactWhenWritesRaceOnOneTask", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("racer"))
		const tasks = 5
		var deletes atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, tasks*8)
		for i := range tasks {
			tk := MustCreateTask(t, s, u.ID, fmt.Sprint("contested", i))
			for _, st := range []core.TaskStatus{core.StatusOngoing, core.StatusComplete, core.StatusOngoing, core.StatusPending} {
				wg.Go(func() {
					_, err := s.UpdateTask(t.Context(), u.ID, tk.ID, core.TaskPatch{Status: &st, UpdatedAt: time.Now()})
					if err != nil && (i%2 == 0 || !errors.Is(err, core.ErrNotFound)) {
						errs <- fmt.Errorf("update %s: %w", tk.ID, err)
					}
				})
			}
			if i%2 == 1 {
				// Racing deletes: exactly one wins; updates that lose to it
				// must fail with ErrNotFound, never resurrect the task.
				for range 3 {
					wg.Go(func() {
						switch _, err := s.DeleteTask(t.Context(), u.ID, tk.ID); {
						case err == nil:
							deletes.Add(1)
						case !errors.Is(err, core.ErrNotFound):
							errs <- fmt.Errorf("delete %s: %w", tk.ID, err)
						}
					})
				}
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if got, want := deletes.Load(), int64(tasks/2); got != want {
			t.Fatalf("%d deletes succeeded, want exactly %d (one per deleted task)", got, want)
		}
		listed := countListed(t, s, u.ID)
		if listed.Total() != tasks-tasks/2 {
			t.Fatalf("%d tasks remain, want %d", listed.Total(), tasks-tasks/2)
		}
		wantStats(t, s, u.ID, listed)
	})
}

func testContext(t *testing.T, open func(*testing.T) core.Store) {
	t.Run("CanceledContextFailsAndWritesNothing", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("ctx"))
		task := MustCreateTask(t, s, u.ID, "stays pending")
		ctx, cancel := context.WithCancel(t.Context())
		cancel()

		email := UniqueEmail("never")
		if _, err := s.CreateUser(ctx, NewUser(email)); err == nil {
			t.Error("CreateUser with a canceled context succeeded")
		}
		if err := s.CreateTask(ctx, NewTask(t, u.ID, "never"), 0); err == nil {
			t.Error("CreateTask with a canceled context succeeded")
		}
		if _, err := s.UpdateTask(ctx, u.ID, task.ID, core.TaskPatch{Status: ptr(core.StatusComplete), UpdatedAt: time.Now()}); err == nil {
			t.Error("UpdateTask with a canceled context succeeded")
		}
		if _, err := s.DeleteTask(ctx, u.ID, task.ID); err == nil {
			t.Error("DeleteTask with a canceled context succeeded")
		}
		if _, err := s.UpdateUser(ctx, u.ID, core.UserPatch{Username: ptr[core.Username]("never")}); err == nil {
			t.Error("UpdateUser with a canceled context succeeded")
		}

		_, err := s.GetUserByEmail(t.Context(), core.KeyOf(email))
		wantErr(t, err, core.ErrNotFound)
		got, err := s.GetUser(t.Context(), u.ID)
		wantNoErr(t, err)
		wantUser(t, got, u)
		gotTask, err := s.GetTask(t.Context(), u.ID, task.ID)
		wantNoErr(t, err)
		wantTask(t, gotTask, task)
		wantStats(t, s, u.ID, stats(1, 0, 0))
	})
}
