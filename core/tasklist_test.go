package core_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/taskapi/taskapi/core"
)

// TestTaskListOrdersAndSearch walks every order, direction, status filter
// and search, forward and backward, in pages of several sizes, and checks
// each walk against a list sorted and filtered independently: every
// matching task exactly once, in order, with full pages and exact
// hasNextPage / hasPreviousPage in the direction walked.
func TestTaskListOrdersAndSearch(t *testing.T) {
	f := newFixture(t)
	u, ctx := f.user(t, "sorter")
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	day := func(n int) *time.Time { d := base.AddDate(0, 0, n); return &d }
	specs := []struct {
		title, description string
		status             core.TaskStatus
		updated            int  // days after base
		due                *int // days after base
	}{
		{"Café order", "", core.StatusPending, 5, ptr(3)},
		{"write report", "about the CAFE", core.StatusOngoing, 1, nil},
		{"naïve plan", "", core.StatusPending, 9, ptr(3)},
		{"Straße", "Éclair for the café", core.StatusComplete, 2, ptr(1)},
		{"groceries", "", core.StatusPending, 7, nil},
		{"call Zoë", "", core.StatusPending, 3, ptr(10)},
		{"NAIVE again", "", core.StatusOngoing, 9, ptr(2)},
		{"untitled", "strasse", core.StatusPending, 0, nil},
		{"late", "", core.StatusPending, 4, ptr(30)},
	}
	var all []core.Task
	for i, s := range specs {
		id := uuid.Must(uuid.NewV7()).String()
		tk := core.Task{ID: id, UserID: u.ID, Title: core.Title(s.title), Description: core.Description(s.description),
			Status: s.status, CreatedAt: base.Add(time.Duration(i) * time.Minute), UpdatedAt: *day(s.updated)}
		if s.due != nil {
			tk.DueDate = day(*s.due)
		}
		if err := f.store.CreateTask(ctx, tk, 0); err != nil {
			t.Fatal(err)
		}
		all = append(all, tk)
	}
	other, otherCtx := f.user(t, "other")
	if _, err := f.svc.CreateTask(otherCtx, core.CreateTaskInput{Title: "café of someone else"}); err != nil {
		t.Fatal(err)
	}
	_ = other

	value := func(tk core.Task, field core.TaskOrderField) *time.Time {
		switch field {
		case core.OrderUpdatedAt:
			return &tk.UpdatedAt
		case core.OrderDueDate:
			return tk.DueDate
		}
		return &tk.CreatedAt
	}
	expected := func(field core.TaskOrderField, desc bool, st *core.TaskStatus) []string {
		var want []core.Task
		for _, tk := range all {
			if st == nil || tk.Status == *st {
				want = append(want, tk)
			}
		}
		sort.SliceStable(want, func(i, j int) bool {
			a, b := value(want[i], field), value(want[j], field)
			if (a == nil) != (b == nil) {
				return b == nil // with a value first, either way
			}
			if a != nil && !a.Equal(*b) {
				return a.Before(*b) != desc
			}
			return (want[i].ID < want[j].ID) != desc
		})
		ids := []string{}
		for _, tk := range want {
			ids = append(ids, tk.ID)
		}
		return ids
	}

	pending := core.StatusPending
	// Each search is spelt as a user might type it: other case, other
	// accents, ß as ss.
	searches := []struct{ typed string }{{""}, {"CAFÉ"}, {"naive"}, {"STRASSE"}, {"zoe"}, {"nothing like it"}}
	for _, field := range core.TaskOrderFields {
		for _, dir := range core.OrderDirections {
			for _, st := range []*core.TaskStatus{nil, &pending} {
				for _, s := range searches {
					want := expected(field, dir == core.Descending, st)
					if s.typed != "" {
						want = slices.DeleteFunc(want, func(id string) bool { return !folded(all, id, s.typed) })
					}
					for _, size := range []int{1, 2, 4} {
						name := fmt.Sprintf("%s/%s/status=%v/search=%q/size=%d", field, dir, st != nil, s.typed, size)
						t.Run(name, func(t *testing.T) {
							args := core.TaskListArgs{Status: st, OrderBy: &core.TaskOrder{Field: field, Direction: dir}, Search: &s.typed}
							if got := walk(t, f, ctx, args, size, false, len(want)); !slices.Equal(got, want) {
								t.Fatalf("forward: %v\nwant      %v", titles(all, got), titles(all, want))
							}
							if got := walk(t, f, ctx, args, size, true, len(want)); !slices.Equal(got, want) {
								t.Fatalf("backward: %v\nwant       %v", titles(all, got), titles(all, want))
							}
						})
					}
				}
			}
		}
	}

	t.Run("CursorsBelongToTheirList", func(t *testing.T) {
		byDue := core.TaskListArgs{OrderBy: &core.TaskOrder{Field: core.OrderDueDate, Direction: core.Ascending}, First: ptr(1)}
		c, err := f.svc.ListTasks(ctx, byDue)
		if err != nil {
			t.Fatal(err)
		}
		for name, args := range map[string]core.TaskListArgs{
			"OtherOrder":     {OrderBy: &core.TaskOrder{Field: core.OrderDueDate, Direction: core.Descending}, After: c.PageInfo.EndCursor},
			"DefaultOrder":   {After: c.PageInfo.EndCursor},
			"WithASearch":    {OrderBy: byDue.OrderBy, Search: ptr("cafe"), After: c.PageInfo.EndCursor},
			"AnotherUsers":   {OrderBy: byDue.OrderBy, After: c.PageInfo.EndCursor},
			"BadField":       {OrderBy: &core.TaskOrder{Field: "title", Direction: core.Ascending}},
			"BadDirection":   {OrderBy: &core.TaskOrder{Field: core.OrderDueDate, Direction: "up"}},
			"SearchTooLong":  {Search: ptr(strings.Repeat("a", core.MaxSearchLen+1))},
			"SearchBadUTF-8": {Search: ptr("caf\xff")},
		} {
			c := ctx
			if name == "AnotherUsers" {
				c = otherCtx
			}
			if _, err := f.svc.ListTasks(c, args); !isCode(err, core.CodeInvalid) {
				t.Errorf("%s: %v, want invalid input", name, err)
			}
		}
	})

	t.Run("ConcurrentSearchesOfAccentedText", func(t *testing.T) {
		// Folding keeps state per call: searches at once must not share
		// it (the race detector watches).
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				c, err := f.svc.ListTasks(ctx, core.TaskListArgs{Search: ptr("Naïve Straße")})
				if err != nil || len(c.Edges) != 0 {
					t.Errorf("%v, %v", c.Edges, err)
				}
				if _, err := f.svc.ListTasks(ctx, core.TaskListArgs{Search: ptr("CAFÉ")}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	})

	t.Run("SearchCountsItsMatches", func(t *testing.T) {
		c, err := f.svc.ListTasks(ctx, core.TaskListArgs{Search: ptr("  Cafe "), First: ptr(1)})
		if err != nil || count(c) != 3 || len(c.Edges) != 1 || !c.PageInfo.HasNextPage {
			t.Fatalf("%+v, %v", c, err)
		}
		if c, err := f.svc.ListTasks(ctx, core.TaskListArgs{Search: ptr("   ")}); err != nil || count(c) != len(all) {
			t.Fatalf("a blank search: %d tasks, %v", count(c), err)
		}
	})
}

// walk pages through a list and returns the ids in list order, checking
// that every page is full but the last and that the flags are exact.
func walk(t *testing.T, f *fixture, ctx context.Context, args core.TaskListArgs, size int, backward bool, total int) []string {
	t.Helper()
	var got []string
	var cursor *string
	for page := 0; page <= total+1; page++ {
		a := args
		if backward {
			a.Last, a.Before = &size, cursor
		} else {
			a.First, a.After = &size, cursor
		}
		c, err := f.svc.ListTasks(ctx, a)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		ids := make([]string, len(c.Edges))
		for i, e := range c.Edges {
			ids[i] = e.Node.ID
		}
		more := c.PageInfo.HasNextPage
		if backward {
			more = c.PageInfo.HasPreviousPage
			got = append(ids, got...)
		} else {
			got = append(got, ids...)
		}
		if remaining := total - len(got); more != (remaining > 0) || (more && len(ids) != size) {
			t.Fatalf("page %d: %d tasks, more %v, with %d left", page, len(ids), more, remaining)
		}
		if !more {
			return got
		}
		if backward {
			cursor = c.PageInfo.StartCursor
		} else {
			cursor = c.PageInfo.EndCursor
		}
	}
	t.Fatal("the walk did not end")
	return nil
}

// folded is the test's own accent and case folding, by hand for the
// letters used above.
func folded(all []core.Task, id, search string) bool {
	r := strings.NewReplacer("é", "e", "É", "e", "ï", "i", "ë", "e", "ß", "ss")
	norm := func(s string) string { return strings.ToLower(r.Replace(s)) }
	for _, tk := range all {
		if tk.ID == id {
			return strings.Contains(norm(string(tk.Title)), norm(search)) || strings.Contains(norm(string(tk.Description)), norm(search))
		}
	}
	return false
}

func isCode(err error, code core.Code) bool {
	var e *core.Error
	return errors.As(err, &e) && e.Code == code
}

func titles(all []core.Task, ids []string) []string {
	var out []string
	for _, id := range ids {
		for _, tk := range all {
			if tk.ID == id {
				out = append(out, string(tk.Title))
			}
		}
	}
	return out
}

// count reads a connection's totalCount, as the GraphQL field does.
func count(c core.TaskConnection) int {
	n, err := c.TotalCount(context.Background())
	if err != nil {
		panic(err)
	}
	return n
}

// TestSearchMatcherIsSearchMatches holds the fast matcher to the rule:
// for every text and search, the same answer as a substring test.
func TestSearchMatcherIsSearchMatches(t *testing.T) {
	texts := []string{"", "a", "task number 1234\x00something to do", "café\x00", "zzz", "number 1", "xnumber 12", "1", "aaab", "abab"}
	searches := []string{"", "a", "b", "number 1", "1234", "zz", "zzzz", "\x00", "ab", "aab", "caf", "é", "o, d", " "}
	for _, text := range texts {
		for _, q := range searches {
			if got, want := core.NewSearchMatcher(q).Match([]byte(text)), core.SearchMatches(text, q); got != want {
				t.Errorf("Match(%q, %q) = %v, want %v", text, q, got, want)
			}
		}
	}
}

func FuzzSearchMatcher(f *testing.F) {
	f.Add("task number 1234\x00something", "number 1")
	f.Add("aaab", "ab")
	f.Fuzz(func(t *testing.T, text, q string) {
		if got, want := core.NewSearchMatcher(q).Match([]byte(text)), core.SearchMatches(text, q); got != want {
			t.Fatalf("Match(%q, %q) = %v, want %v", text, q, got, want)
		}
	})
}
