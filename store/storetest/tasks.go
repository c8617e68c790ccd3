package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/taskapi/taskapi/core"
)

func testTasks(t *testing.T, open func(*testing.T) core.Store) {
	t.Run("CreateThenGetReturnsTheTask", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("owner"))
		in := NewTask(t, u.ID, "write the spec")
		in.Description = "ünïcødé ✓ and \"quotes\"\nnewline"
		in.CreatedAt = time.Date(2025, 1, 2, 3, 4, 5, 987654321, time.FixedZone("Y", -7*3600))
		in.UpdatedAt = in.CreatedAt.Add(time.Nanosecond)
		wantNoErr(t, s.CreateTask(t.Context(), in, 0))
		got, err := s.GetTask(t.Context(), u.ID, in.ID)
		wantNoErr(t, err)
		wantTask(t, got, in)
	})

	t.Run("CreateWithEmptyDescriptionIsOK", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("owner"))
		in := NewTask(t, u.ID, "bare")
		in.Description = ""
		wantNoErr(t, s.CreateTask(t.Context(), in, 0))
		got, err := s.GetTask(t.Context(), u.ID, in.ID)
		wantNoErr(t, err)
		wantTask(t, got, in)
	})

	t.Run("CreateWithTakenIDIsErrConflictAndChangesNothing", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("owner"))
		orig := MustCreateTask(t, s, u.ID, "original")
		dup := orig
		dup.Title, dup.Status = "impostor", core.StatusComplete
		wantErr(t, s.CreateTask(t.Context(), dup, 0), core.ErrConflict)
		got, err := s.GetTask(t.Context(), u.ID, orig.ID)
		wantNoErr(t, err)
		wantTask(t, got, orig)
		wantStats(t, s, u.ID, stats(1, 0, 0))
	})

	t.Run("GetUnknownIsErrNotFound", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("owner"))
		MustCreateTask(t, s, u.ID, "exists")
		for _, id := range []string{NewTaskID(t), "not-a-uuid"} {
			_, err := s.GetTask(t.Context(), u.ID, id)
			wantErr(t, err, core.ErrNotFound)
		}
		_, err := s.GetTask(t.Context(), "VAH999999", NewTaskID(t))
		wantErr(t, err, core.ErrNotFound)
	})

	t.Run("UpdateChangesOnlySetFields", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("owner"))
		task := MustCreateTask(t, s, u.ID, "draft")
		sibling := MustCreateTask(t, s, u.ID, "sibling")
		at := task.UpdatedAt
		steps := []struct {
			name  string
			patch core.TaskPatch
			apply func(*core.Task)
		}{
			{"nothing", core.TaskPatch{}, func(*core.Task) {}},
			{"title", core.TaskPatch{Title: ptr[core.Title]("final")}, func(t *core.Task) { t.Title = "final" }},
			{"description", core.TaskPatch{Description: ptr[core.Description]("longer text")}, func(t *core.Task) { t.Description = "longer text" }},
			{"empty description", core.TaskPatch{Description: ptr[core.Description]("")}, func(t *core.Task) { t.Description = "" }},
			{"status", core.TaskPatch{Status: ptr(core.StatusOngoing)}, func(t *core.Task) { t.Status = core.StatusOngoing }},
			{"same status", core.TaskPatch{Status: ptr(core.StatusOngoing)}, func(*core.Task) {}},
			{"all", core.TaskPatch{Title: ptr[core.Title]("done"), Description: ptr[core.Description]("d"), Status: ptr(core.StatusComplete)}, func(t *core.Task) {
				t.Title, t.Description, t.Status = "done", "d", core.StatusComplete
			}},
		}
		want := task
		for _, st := range steps {
			at = at.Add(time.Second)
			st.patch.UpdatedAt = at
			st.apply(&want)
			want.UpdatedAt = at
			got, err := s.UpdateTask(t.Context(), u.ID, task.ID, st.patch)
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			wantTask(t, got, want)
			stored, err := s.GetTask(t.Context(), u.ID, task.ID)
			wantNoErr(t, err)
			wantTask(t, stored, want)
		}
		got, err := s.GetTask(t.Context(), u.ID, sibling.ID)
		wantNoErr(t, err)
		wantTask(t, got, sibling)
		wantStats(t, s, u.ID, stats(1, 0, 1))
	})

	t.Run("UpdateUnknownIsErrNotFoundAndCreatesNothing", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("owner"))
		id := NewTaskID(t)
		_, err := s.UpdateTask(t.Context(), u.ID, id, core.TaskPatch{Title: ptr[core.Title]("ghost"), Status: ptr(core.StatusOngoing), UpdatedAt: time.Now()})
		wantErr(t, err, core.ErrNotFound)
		_, err = s.GetTask(t.Context(), u.ID, id)
		wantErr(t, err, core.ErrNotFound)
		wantStats(t, s, u.ID, core.TaskStats{})
		if got := allTasks(t, s, u.ID, nil, 10); len(got) != 0 {
			t.Fatalf("update of an unknown task created %v", ids(got, taskID))
		}
	})

	t.Run("DeleteRemovesTheTaskOnce", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("owner"))
		gone := MustCreateTask(t, s, u.ID, "gone")
		kept := MustCreateTask(t, s, u.ID, "kept")
		removed, err := s.DeleteTask(t.Context(), u.ID, gone.ID)
		wantNoErr(t, err)
		wantTask(t, removed, gone) // the task as it was removed
		_, err = s.GetTask(t.Context(), u.ID, gone.ID)
		wantErr(t, err, core.ErrNotFound)
		wantErr(t, errOf(s.DeleteTask(t.Context(), u.ID, gone.ID)), core.ErrNotFound)
		_, err = s.UpdateTask(t.Context(), u.ID, gone.ID, core.TaskPatch{Title: ptr[core.Title]("zombie"), UpdatedAt: time.Now()})
		wantErr(t, err, core.ErrNotFound)
		got, err := s.GetTask(t.Context(), u.ID, kept.ID)
		wantNoErr(t, err)
		wantTask(t, got, kept)
		wantStats(t, s, u.ID, stats(1, 0, 0))
		if got := allTasks(t, s, u.ID, nil, 10); !slices.Equal(ids(got, taskID), []string{kept.ID}) {
			t.Fatalf("tasks after delete: %v, want [%s]", ids(got, taskID), kept.ID)
		}
	})

	t.Run("DeleteUnknownIsErrNotFound", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("owner"))
		MustCreateTask(t, s, u.ID, "stays")
		wantErr(t, errOf(s.DeleteTask(t.Context(), u.ID, NewTaskID(t))), core.ErrNotFound)
		wantStats(t, s, u.ID, stats(1, 0, 0))
	})
}

func testTaskIsolation(t *testing.T, open func(*testing.T) core.Store) {
	t.Run("AnotherUsersTaskIsErrNotFoundAndUnchanged", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		owner := MustCreateUser(t, s, UniqueEmail("owner"))
		intruder := MustCreateUser(t, s, UniqueEmail("intruder"))
		task := MustCreateTask(t, s, owner.ID, "private")
		MustCreateTask(t, s, intruder.ID, "own")

		_, err := s.GetTask(t.Context(), intruder.ID, task.ID)
		wantErr(t, err, core.ErrNotFound)
		_, err = s.UpdateTask(t.Context(), intruder.ID, task.ID, core.TaskPatch{Title: ptr[core.Title]("pwned"), Status: ptr(core.StatusComplete), UpdatedAt: time.Now()})
		wantErr(t, err, core.ErrNotFound)
		wantErr(t, errOf(s.DeleteTask(t.Context(), intruder.ID, task.ID)), core.ErrNotFound)

		got, err := s.GetTask(t.Context(), owner.ID, task.ID)
		wantNoErr(t, err)
		wantTask(t, got, task)
		wantStats(t, s, owner.ID, stats(1, 0, 0))
		wantStats(t, s, intruder.ID, stats(1, 0, 0))
		for _, st := range []*core.TaskStatus{nil, ptr(core.StatusPending), ptr(core.StatusComplete)} {
			for _, tk := range allTasks(t, s, intruder.ID, st, 10) {
				if tk.ID == task.ID || tk.UserID != intruder.ID {
					t.Fatalf("intruder's list shows %+v", tk)
				}
			}
		}
	})

	t.Run("ListShowsOnlyTheOwnersTasks", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		a := MustCreateUser(t, s, UniqueEmail("a"))
		b := MustCreateUser(t, s, UniqueEmail("b"))
		var wantA, wantB []string
		for i := range 4 {
			wantA = append(wantA, MustCreateTask(t, s, a.ID, fmt.Sprint("a", i)).ID)
			wantB = append(wantB, MustCreateTask(t, s, b.ID, fmt.Sprint("b", i)).ID)
		}
		if got := ids(allTasks(t, s, a.ID, nil, 3), taskID); !slices.Equal(got, wantA) {
			t.Fatalf("a's tasks = %v, want %v", got, wantA)
		}
		if got := ids(allTasks(t, s, b.ID, nil, 3), taskID); !slices.Equal(got, wantB) {
			t.Fatalf("b's tasks = %v, want %v", got, wantB)
		}
		// A position taken from b's list leaks nothing of b into a's.
		tasks, _, err := s.ListTasks(t.Context(), a.ID, core.TaskQuery{After: wantB[0], Limit: 10})
		wantNoErr(t, err)
		for _, tk := range tasks {
			if tk.UserID != a.ID {
				t.Fatalf("a's list after b's task shows %+v", tk)
			}
		}
	})
}

func testListTasks(t *testing.T, open func(*testing.T) core.Store) {
	t.Run("NoTasksIsAnEmptyPage", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("idle"))
		for _, uid := range []string{u.ID, "VAH999999"} {
			for _, st := range []*core.TaskStatus{nil, ptr(core.StatusOngoing)} {
				tasks, more, err := s.ListTasks(t.Context(), uid, core.TaskQuery{Status: st, Limit: 5})
				wantNoErr(t, err)
				if len(tasks) != 0 || more {
					t.Fatalf("ListTasks(%s) = %v (more %v), want none", uid, ids(tasks, taskID), more)
				}
			}
		}
	})

	t.Run("PagesWalkEveryMatchInIDOrder", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("walker"))
		// 13 tasks; statuses cycle so every filter has gaps between matches.
		pattern := []core.TaskStatus{core.StatusPending, core.StatusOngoing, core.StatusPending, core.StatusComplete, core.StatusOngoing}
		var all []core.Task
		for i := range 13 {
			tk := MustCreateTask(t, s, u.ID, fmt.Sprint("t", i))
			if st := pattern[i%len(pattern)]; st != core.StatusPending {
				tk = MustSetStatus(t, s, u.ID, tk.ID, st)
			}
			all = append(all, tk)
		}
		filters := []*core.TaskStatus{nil, ptr(core.StatusPending), ptr(core.StatusOngoing), ptr(core.StatusComplete)}
		for _, st := range filters {
			var want []core.Task
			for _, tk := range all {
				if st == nil || tk.Status == *st {
					want = append(want, tk)
				}
			}
			for _, limit := range []int{1, 2, 3, 4, 5, len(want), len(want) + 1, 50} {
				if limit == 0 {
					continue
				}
				got := allTasks(t, s, u.ID, st, limit)
				if !slices.Equal(ids(got, taskID), ids(want, taskID)) {
					t.Fatalf("status %v limit %d: %v\nwant %v", deref(st), limit, ids(got, taskID), ids(want, taskID))
				}
				for i := range got {
					wantTask(t, got[i], want[i])
				}
			}
		}
	})

	t.Run("AfterADeletedTaskResumesAfterIt", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("resume"))
		var tasks []core.Task
		for i := range 6 {
			tasks = append(tasks, MustCreateTask(t, s, u.ID, fmt.Sprint("t", i)))
		}
		MustSetStatus(t, s, u.ID, tasks[4].ID, core.StatusComplete)
		wantNoErr(t, errOf(s.DeleteTask(t.Context(), u.ID, tasks[2].ID)))
		cases := []struct {
			name    string
			status  *core.TaskStatus
			limit   int
			want    []string
			more    bool
			reverse bool
		}{
			{"All", nil, 10, []string{tasks[3].ID, tasks[4].ID, tasks[5].ID}, false, false},
			{"AllLimited", nil, 2, []string{tasks[3].ID, tasks[4].ID}, true, false},
			{"Pending", ptr(core.StatusPending), 10, []string{tasks[3].ID, tasks[5].ID}, false, false},
			{"PendingLimited", ptr(core.StatusPending), 1, []string{tasks[3].ID}, true, false},
			{"Complete", ptr(core.StatusComplete), 1, []string{tasks[4].ID}, false, false},
			{"Ongoing", ptr(core.StatusOngoing), 10, nil, false, false},
			{"Reversed", nil, 10, []string{tasks[1].ID, tasks[0].ID}, false, true},
			{"ReversedLimited", nil, 1, []string{tasks[1].ID}, true, true},
			{"PendingReversed", ptr(core.StatusPending), 10, []string{tasks[1].ID, tasks[0].ID}, false, true},
			{"CompleteReversed", ptr(core.StatusComplete), 10, nil, false, true},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				got, more, err := s.ListTasks(t.Context(), u.ID, core.TaskQuery{Status: c.status, After: tasks[2].ID, Limit: c.limit, Reverse: c.reverse})
				wantNoErr(t, err)
				if !slices.Equal(ids(got, taskID), c.want) || more != c.more {
					t.Fatalf("got %v (more %v), want %v (more %v)", ids(got, taskID), more, c.want, c.more)
				}
			})
		}
	})

	t.Run("ReverseStartsFromTheNewest", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("newest"))
		var tasks []core.Task
		for i := range 4 {
			tasks = append(tasks, MustCreateTask(t, s, u.ID, fmt.Sprint("t", i)))
		}
		MustSetStatus(t, s, u.ID, tasks[3].ID, core.StatusOngoing)
		for _, c := range []struct {
			status *core.TaskStatus
			limit  int
			want   []string
			more   bool
		}{
			{nil, 3, []string{tasks[3].ID, tasks[2].ID, tasks[1].ID}, true},
			{nil, 4, []string{tasks[3].ID, tasks[2].ID, tasks[1].ID, tasks[0].ID}, false},
			{ptr(core.StatusPending), 5, []string{tasks[2].ID, tasks[1].ID, tasks[0].ID}, false},
			{ptr(core.StatusOngoing), 1, []string{tasks[3].ID}, false},
		} {
			got, more, err := s.ListTasks(t.Context(), u.ID, core.TaskQuery{Status: c.status, Limit: c.limit, Reverse: true})
			wantNoErr(t, err)
			if !slices.Equal(ids(got, taskID), c.want) || more != c.more {
				t.Errorf("status %v limit %d: got %v (more %v), want %v (more %v)", c.status, c.limit, ids(got, taskID), more, c.want, c.more)
			}
		}
	})

	t.Run("DueDateIsKeptSetAndCleared", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("due"))
		due := time.Date(2027, 3, 1, 17, 30, 0, 250e6, time.UTC)
		task := NewTask(t, u.ID, "with a due date")
		task.DueDate = &due
		wantNoErr(t, s.CreateTask(t.Context(), task, 0))
		got, err := s.GetTask(t.Context(), u.ID, task.ID)
		wantNoErr(t, err)
		wantTask(t, got, task)

		// A patch without a due date leaves it; one with a time sets it (with
		// a status change too, the path that moves counters); a zero time
		// clears it.
		later := due.Add(48 * time.Hour)
		steps := []struct {
			name  string
			patch core.TaskPatch
			want  *time.Time
		}{
			{"Untouched", core.TaskPatch{Title: ptr[core.Title]("renamed")}, &due},
			{"Set", core.TaskPatch{DueDate: &later}, &later},
			{"SetWithStatus", core.TaskPatch{DueDate: &due, Status: ptr(core.StatusOngoing)}, &due},
			{"UntouchedWithStatus", core.TaskPatch{Status: ptr(core.StatusComplete)}, &due},
			{"Cleared", core.TaskPatch{DueDate: &time.Time{}}, nil},
			{"StaysCleared", core.TaskPatch{Description: ptr[core.Description]("more")}, nil},
		}
		for _, st := range steps {
			st.patch.UpdatedAt = time.Now().UTC()
			updated, err := s.UpdateTask(t.Context(), u.ID, task.ID, st.patch)
			wantNoErr(t, err)
			read, err := s.GetTask(t.Context(), u.ID, task.ID)
			wantNoErr(t, err)
			listed := allTasks(t, s, u.ID, nil, 10)
			for what, got := range map[string]core.Task{"UpdateTask": updated, "GetTask": read, "ListTasks": listed[0]} {
				if (got.DueDate == nil) != (st.want == nil) || (got.DueDate != nil && !got.DueDate.Equal(*st.want)) {
					t.Errorf("%s: %s: DueDate = %v, want %v", st.name, what, got.DueDate, st.want)
				}
			}
		}
	})

	t.Run("AfterTheLastTaskIsEmpty", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("end"))
		first := MustCreateTask(t, s, u.ID, "first")
		last := MustCreateTask(t, s, u.ID, "last")
		for _, after := range []string{last.ID, NewTaskID(t)} {
			got, more, err := s.ListTasks(t.Context(), u.ID, core.TaskQuery{After: after, Limit: 5})
			wantNoErr(t, err)
			if len(got) != 0 || more {
				t.Fatalf("after %s: %v (more %v), want none", after, ids(got, taskID), more)
			}
		}
		got, more, err := s.ListTasks(t.Context(), u.ID, core.TaskQuery{After: first.ID, Limit: 1})
		wantNoErr(t, err)
		if !slices.Equal(ids(got, taskID), []string{last.ID}) || more {
			t.Fatalf("after first: %v (more %v), want [%s] and no more", ids(got, taskID), more, last.ID)
		}
	})

	t.Run("MoreIsFalseWhenTheLimitIsExactlyReached", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("exact"))
		for i := range 3 {
			MustCreateTask(t, s, u.ID, fmt.Sprint("t", i))
		}
		got, more, err := s.ListTasks(t.Context(), u.ID, core.TaskQuery{Limit: 3})
		wantNoErr(t, err)
		if len(got) != 3 || more {
			t.Fatalf("got %d tasks (more %v), want 3 and no more", len(got), more)
		}
		got, more, err = s.ListTasks(t.Context(), u.ID, core.TaskQuery{Limit: 2})
		wantNoErr(t, err)
		if len(got) != 2 || !more {
			t.Fatalf("got %d tasks (more %v), want 2 and more", len(got), more)
		}
	})

	t.Run("StatusChangeMovesTheTaskBetweenFilters", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("mover"))
		a := MustCreateTask(t, s, u.ID, "a")
		b := MustCreateTask(t, s, u.ID, "b")
		MustSetStatus(t, s, u.ID, a.ID, core.StatusOngoing)
		MustSetStatus(t, s, u.ID, a.ID, core.StatusComplete)
		MustSetStatus(t, s, u.ID, a.ID, core.StatusPending)
		MustSetStatus(t, s, u.ID, b.ID, core.StatusComplete)
		want := map[core.TaskStatus][]string{
			core.StatusPending:  {a.ID},
			core.StatusOngoing:  nil,
			core.StatusComplete: {b.ID},
		}
		for st, w := range want {
			if got := ids(allTasks(t, s, u.ID, &st, 2), taskID); !slices.Equal(got, w) {
				t.Fatalf("status %s: %v, want %v", st, got, w)
			}
		}
		wantNoErr(t, errOf(s.DeleteTask(t.Context(), u.ID, b.ID)))
		if got := allTasks(t, s, u.ID, ptr(core.StatusComplete), 2); len(got) != 0 {
			t.Fatalf("deleted task still listed as complete: %v", ids(got, taskID))
		}
	})
}

func deref(st *core.TaskStatus) string {
	if st == nil {
		return "<any>"
	}
	return string(*st)
}
