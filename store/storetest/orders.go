package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskapi/taskapi/core"
)

// testTaskOrders walks every order (core.TaskKey), status filter, search
// and direction in pages of several sizes, after creates, title and status
// changes, due dates set and cleared, and a delete, and checks each walk
// against the list sorted and filtered here: every match exactly once, in
// key order, pages full, more exact. CountTasks agrees with the walks.
func testTaskOrders(t *testing.T, open func(*testing.T) core.Store) {
	s := open(t)
	u := MustCreateUser(t, s, UniqueEmail("orders"))
	other := MustCreateUser(t, s, UniqueEmail("others"))
	MustCreateTask(t, s, other.ID, "Café of someone else")

	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	titles := []string{"Café order", "write report", "naïve plan", "Straße", "groceries", "call Zoë", "CAFE again", "report draft"}
	statuses := []core.TaskStatus{core.StatusPending, core.StatusOngoing, core.StatusComplete, core.StatusPending}
	tasks := map[string]core.Task{}
	for i := range 20 {
		tk := NewTask(t, u.ID, titles[i%len(titles)])
		if i%3 != 0 { // a third without a due date; some dates shared
			d := base.AddDate(0, 0, (i*7)%11)
			tk.DueDate = &d
		}
		wantNoErr(t, s.CreateTask(t.Context(), tk, 0))
		// Updated times in an order of their own, some equal.
		p := core.TaskPatch{UpdatedAt: base.Add(time.Duration((i*13)%17) * time.Minute)}
		if st := statuses[i%len(statuses)]; st != core.StatusPending {
			p.Status = &st
		}
		got, err := s.UpdateTask(t.Context(), u.ID, tk.ID, p)
		wantNoErr(t, err)
		tasks[got.ID] = got
	}
	// Changes that must move a task in, out of, and between indexes.
	var ordered []string
	for id := range tasks {
		ordered = append(ordered, id)
	}
	slices.Sort(ordered)
	change := func(id string, p core.TaskPatch) {
		p.UpdatedAt = base.Add(time.Duration(len(tasks)) * time.Hour) // after the others
		got, err := s.UpdateTask(t.Context(), u.ID, id, p)
		wantNoErr(t, err)
		tasks[id] = got
	}
	renamed := core.Title("Renamed to cafe notes")
	change(ordered[1], core.TaskPatch{Title: &renamed})
	complete := core.StatusComplete
	change(ordered[2], core.TaskPatch{Status: &complete})
	change(ordered[4], core.TaskPatch{DueDate: &time.Time{}}) // cleared
	due := base.AddDate(0, 1, 0)
	change(ordered[3], core.TaskPatch{DueDate: &due})
	_, err := s.DeleteTask(t.Context(), u.ID, ordered[5])
	wantNoErr(t, err)
	delete(tasks, ordered[5])

	expected := func(st *core.TaskStatus, field core.TaskOrderField, search string, undated, reverse bool) []string {
		var keys []string
		for _, tk := range tasks {
			k := core.TaskKey(tk, field)
			if (st != nil && tk.Status != *st) || (search != "" && !core.SearchMatches(core.SearchText(tk), search)) ||
				(field == core.OrderDueDate && core.IsUndatedKey(k) != undated) {
				continue
			}
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if reverse {
			slices.Reverse(keys)
		}
		return keys
	}

	statusFilters := []*core.TaskStatus{nil, ptr(core.StatusPending), ptr(core.StatusOngoing), ptr(core.StatusComplete)}
	for _, st := range statusFilters {
		for _, field := range core.TaskOrderFields {
			for _, search := range []string{"", "cafe", "report", "zz"} {
				for _, undated := range []bool{false, true} {
					if undated && field != core.OrderDueDate {
						continue
					}
					for _, reverse := range []bool{false, true} {
						want := expected(st, field, search, undated, reverse)
						for _, size := range []int{1, 3, 7} {
							name := fmt.Sprintf("%s/%s/search=%q/undated=%v/reverse=%v/size=%d", deref(st), field, search, undated, reverse, size)
							var got []string
							after := ""
							for page := 0; ; page++ {
								q := core.TaskQuery{Status: st, Order: field, After: after, Limit: size, Reverse: reverse, Undated: undated, Search: search}
								list, more, err := s.ListTasks(t.Context(), u.ID, q)
								if err != nil {
									t.Fatalf("%s: page %d: %v", name, page, err)
								}
								left := len(want) - len(got)
								if len(list) != min(size, left) || more != (left > size) {
									t.Fatalf("%s: page %d has %d tasks (more %v) with %d of %d left", name, page, len(list), more, left, len(want))
								}
								for _, tk := range list {
									got = append(got, core.TaskKey(tk, field))
								}
								if !more {
									break
								}
								after = got[len(got)-1]
							}
							if !slices.Equal(got, want) {
								t.Fatalf("%s:\n got %s\nwant %s", name, strings.Join(got, " "), strings.Join(want, " "))
							}
						}
					}
				}
			}
		}
	}

	t.Run("CountTasks", func(t *testing.T) {
		for _, st := range statusFilters {
			for _, search := range []string{"cafe", "report", "zz", "e"} {
				n, err := s.CountTasks(t.Context(), u.ID, st, search)
				wantNoErr(t, err)
				if want := len(expected(st, core.OrderCreatedAt, search, false, false)); n != want {
					t.Errorf("CountTasks(%s, %q) = %d, want %d", deref(st), search, n, want)
				}
			}
		}
		if n, err := s.CountTasks(t.Context(), "VAH999999", nil, "cafe"); err != nil || n != 0 {
			t.Errorf("CountTasks(nobody) = %d, %v", n, err)
		}
		// Each write shows in the next count, however the store keeps them.
		count := func() int {
			n, err := s.CountTasks(t.Context(), u.ID, nil, "cafe")
			wantNoErr(t, err)
			return n
		}
		before := count()
		tk := MustCreateTask(t, s, u.ID, "one more café")
		if n := count(); n != before+1 {
			t.Errorf("after a matching create: %d, want %d", n, before+1)
		}
		other, about := core.Title("tea"), core.Description("")
		_, err := s.UpdateTask(t.Context(), u.ID, tk.ID, core.TaskPatch{Title: &other, Description: &about, UpdatedAt: time.Now()})
		wantNoErr(t, err)
		if n := count(); n != before {
			t.Errorf("after renaming it away: %d, want %d", n, before)
		}
		_, err = s.DeleteTask(t.Context(), u.ID, tk.ID)
		wantNoErr(t, err)
		if n := count(); n != before {
			t.Errorf("after deleting it: %d, want %d", n, before)
		}
	})
}
