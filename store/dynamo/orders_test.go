package dynamo_test

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/store/dynamo"
	"github.com/taskapi/taskapi/store/storetest"
)

// testIndexWalks walks every index the store has — each order, with and
// without a status, searched or not, both ways, dated and undated — in
// pages of several sizes, and compares each walk with the tasks sorted by
// core.TaskKey, after writes of every kind (each path of UpdateTask) have
// moved them. Beyond storetest's TaskOrders: searched walks of many small
// Query pages (the continuation a filter needs), and cursors of the other
// due-date segment.
func testIndexWalks(t *testing.T, client *dynamodb.Client) {
	s, tables := MustOpen(t, client)
	// The same tables, with searched walks of many small Query pages.
	small := dynamo.New(client, tables)
	dynamo.SetSearchPage(small, 2)
	ctx := t.Context()
	u := storetest.MustCreateUser(t, s, storetest.UniqueEmail("orders"))
	other := storetest.MustCreateUser(t, s, storetest.UniqueEmail("stranger"))
	storetest.MustCreateTask(t, s, other.ID, "alpha of someone else")

	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	words := []string{"alpha", "Beta", "gamma ALPHA", "delta"}
	var ids []string
	for i := range 30 {
		tk := storetest.NewTask(t, u.ID, fmt.Sprintf("%s %d", words[i%len(words)], i))
		tk.Status = core.TaskStatuses[i%len(core.TaskStatuses)]
		// Few distinct times, so that ties are ordered by id.
		tk.UpdatedAt = base.Add(time.Duration(i%7) * time.Minute).Add(time.Duration(i%2) * time.Microsecond)
		if i%3 != 0 {
			due := base.Add(time.Duration(i%5) * 24 * time.Hour)
			tk.DueDate = &due
		}
		if i%4 == 1 {
			tk.Description = "mentions Alpha"
		}
		if err := s.CreateTask(ctx, tk, 0); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tk.ID)
	}
	// Writes of every kind, each of which moves the task in some index.
	title, desc := core.Title("renamed alpha"), core.Description("plain")
	none, later := time.Time{}, base.Add(90*24*time.Hour)
	done := core.StatusComplete
	for i, p := range []core.TaskPatch{
		{Title: &title},                     // search_text from the stored description
		{Description: &desc},                // ... and from the stored title
		{Title: &title, Description: &desc}, // one UpdateItem
		{DueDate: &none},                    // undated now
		{DueDate: &later},
		{Status: &done, DueDate: &later}, // the transaction
		{},
	} {
		p.UpdatedAt = base.Add(time.Duration(i) * time.Second).Add(time.Hour)
		if _, err := s.UpdateTask(ctx, u.ID, ids[3*i+1], p); err != nil {
			t.Fatalf("UpdateTask %d: %v", i, err)
		}
	}
	var all []core.Task
	for _, id := range ids {
		tk, err := s.GetTask(ctx, u.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, tk)
	}

	statuses := []*core.TaskStatus{nil}
	for _, st := range core.TaskStatuses {
		statuses = append(statuses, &st)
	}
	for _, order := range []core.TaskOrderField{"", core.OrderCreatedAt, core.OrderUpdatedAt, core.OrderDueDate} {
		for _, undated := range []bool{false, true} {
			if undated && order != core.OrderDueDate {
				continue
			}
			for _, status := range statuses {
				for _, search := range []string{"", "alpha", "nothing matches"} {
					for _, reverse := range []bool{false, true} {
						q := core.TaskQuery{Status: status, Order: order, Undated: undated, Search: search, Reverse: reverse}
						want := expected(all, q)
						for _, size := range []int{1, 3, 7, 100} {
							q.Limit = size
							walkPages(t, s, u.ID, q, want)
							if search != "" {
								walkPages(t, small, u.ID, q, want)
							}
						}
					}
				}
			}
		}
	}

	t.Run("AKeyOfTheOtherDueDateSegment", func(t *testing.T) {
		dated, undated := expected(all, core.TaskQuery{Order: core.OrderDueDate}), expected(all, core.TaskQuery{Order: core.OrderDueDate, Undated: true})
		for _, c := range []struct {
			q    core.TaskQuery
			want []core.Task
		}{
			{core.TaskQuery{Undated: false, After: core.TaskKey(undated[0], core.OrderDueDate)}, nil},
			{core.TaskQuery{Undated: false, Reverse: true, After: core.TaskKey(undated[0], core.OrderDueDate)}, reversed(dated)},
			{core.TaskQuery{Undated: true, After: core.TaskKey(dated[0], core.OrderDueDate)}, undated},
			{core.TaskQuery{Undated: true, Reverse: true, After: core.TaskKey(dated[0], core.OrderDueDate)}, nil},
		} {
			c.q.Order, c.q.Limit = core.OrderDueDate, 100
			got, more, err := s.ListTasks(ctx, u.ID, c.q)
			if err != nil || more || !slices.Equal(taskIDs(got), taskIDs(c.want)) {
				t.Errorf("%+v: %v, %v, %v; want %v", c.q, taskIDs(got), more, err, taskIDs(c.want))
			}
		}
	})

	t.Run("AfterAKeyNoTaskHas", func(t *testing.T) {
		// A cursor's task may have moved or gone: the walk resumes at its
		// key all the same (a start key need not be an item's).
		gone := core.Task{ID: storetest.NewTaskID(t), UpdatedAt: base.Add(3*time.Minute + 30*time.Second)}
		after := core.TaskKey(gone, core.OrderUpdatedAt)
		for _, status := range statuses {
			for _, reverse := range []bool{false, true} {
				q := core.TaskQuery{Order: core.OrderUpdatedAt, Status: status, Reverse: reverse, After: after, Limit: 100}
				var want []core.Task
				for _, tk := range expected(all, q) {
					if k := core.TaskKey(tk, q.Order); (k > after) != reverse {
						want = append(want, tk)
					}
				}
				got, more, err := s.ListTasks(ctx, u.ID, q)
				if err != nil || more || len(want) == 0 || !slices.Equal(taskIDs(got), taskIDs(want)) {
					t.Errorf("%+v: %v, %v, %v; want %v", q, taskIDs(got), more, err, taskIDs(want))
				}
			}
		}
	})

	t.Run("CountTasks", func(t *testing.T) {
		for _, status := range statuses {
			for _, search := range []string{"alpha", "beta", "nothing matches", "a"} {
				want := len(expected(all, core.TaskQuery{Status: status, Search: search}))
				got, err := s.CountTasks(ctx, u.ID, status, search)
				if err != nil || got != want {
					t.Errorf("CountTasks(%v, %q) = %d, %v; want %d", status, search, got, err, want)
				}
			}
		}
	})
}

// expected is every task of all that q selects (its Limit and After
// aside), in q's order.
func expected(all []core.Task, q core.TaskQuery) []core.Task {
	var out []core.Task
	for _, tk := range all {
		key := core.TaskKey(tk, q.Order)
		if (q.Status != nil && tk.Status != *q.Status) ||
			(q.Search != "" && !core.SearchMatches(core.SearchText(tk), q.Search)) ||
			(q.Order == core.OrderDueDate && core.IsUndatedKey(key) != q.Undated) {
			continue
		}
		out = append(out, tk)
	}
	slices.SortFunc(out, func(a, b core.Task) int { return cmp.Compare(core.TaskKey(a, q.Order), core.TaskKey(b, q.Order)) })
	if q.Reverse {
		slices.Reverse(out)
	}
	return out
}

func reversed(ts []core.Task) []core.Task {
	out := slices.Clone(ts)
	slices.Reverse(out)
	return out
}

func taskIDs(ts []core.Task) []string {
	ids := make([]string, len(ts))
	for i, tk := range ts {
		ids[i] = tk.ID
	}
	return ids
}

// walkPages reads q's walk page by page and checks that it is want, every
// page full but the last, and more exact on each.
func walkPages(t *testing.T, s *dynamo.Store, userID string, q core.TaskQuery, want []core.Task) {
	t.Helper()
	var got []core.Task
	for range len(want) + 2 {
		page, more, err := s.ListTasks(t.Context(), userID, q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		got = append(got, page...)
		left := len(want) - len(got)
		if len(page) != min(q.Limit, len(want)-len(got)+len(page)) || more != (left > 0) {
			t.Errorf("%+v: page of %d, more %v, with %d left after it", q, len(page), more, left)
			return
		}
		if !more {
			break
		}
		q.After = core.TaskKey(page[len(page)-1], q.Order)
	}
	if !slices.Equal(taskIDs(got), taskIDs(want)) {
		t.Errorf("%+v walked\n%v\nwant\n%v", q, taskIDs(got), taskIDs(want))
		return
	}
	for i := range got {
		if !got[i].UpdatedAt.Equal(want[i].UpdatedAt) || got[i].Title != want[i].Title {
			t.Errorf("%+v: task %s read as %+v, stored %+v", q, got[i].ID, got[i], want[i])
		}
	}
}

// testBackfill: a task item written before the order indexes existed (no
// updated_key, due_key, user_status or search_text) is in none of them,
// and `verify -repair` (Audit, Reconcile) adds it, once.
func testBackfill(t *testing.T, client *dynamodb.Client) {
	s, tables := MustOpen(t, client)
	ctx := t.Context()
	u := storetest.MustCreateUser(t, s, storetest.UniqueEmail("old"))
	tk := storetest.MustCreateTask(t, s, u.ID, "Written Long Ago")
	due := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	tk.DueDate = &due
	old := map[string]types.AttributeValue{}
	for name, v := range map[string]string{
		"user_id": u.ID, "task_id": tk.ID, "title": string(tk.Title), "description": string(tk.Description),
		"status": string(tk.Status), "status_task_id": string(tk.Status) + "#" + tk.ID,
		"created_at": tk.CreatedAt.Format(time.RFC3339Nano), "updated_at": tk.UpdatedAt.Format(time.RFC3339Nano),
		"due_date": due.Format(time.RFC3339Nano),
	} {
		old[name] = &types.AttributeValueMemberS{Value: v}
	}
	if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &tables.Tasks, Item: old}); err != nil {
		t.Fatal(err)
	}
	queries := []core.TaskQuery{
		{Order: core.OrderUpdatedAt, Limit: 5},
		{Order: core.OrderDueDate, Limit: 5},
		{Order: core.OrderUpdatedAt, Status: &tk.Status, Limit: 5},
		{Order: core.OrderDueDate, Status: &tk.Status, Limit: 5, Reverse: true},
		{Search: "long ago", Limit: 5},
	}
	list := func(q core.TaskQuery) []string {
		got, _, err := s.ListTasks(ctx, u.ID, q)
		if err != nil {
			t.Fatal(err)
		}
		return taskIDs(got)
	}
	for _, q := range queries {
		if got := list(q); len(got) != 0 {
			t.Fatalf("%+v lists %v before the backfill: is the item not old?", q, got)
		}
	}

	var lines []string
	if _, _, err := s.Audit(ctx, false, func(l string) { lines = append(lines, l) }); err != nil {
		t.Fatal(err)
	}
	wantLine := "would task " + tk.ID + " of " + u.ID + ": set updated_key, due_key, user_status, search_text"
	if !slices.Contains(lines, wantLine) {
		t.Fatalf("Audit says %q, want %q", lines, wantLine)
	}
	if _, _, err := s.Audit(ctx, true, func(string) {}); err != nil {
		t.Fatal(err)
	}
	for _, q := range queries {
		if got := list(q); !slices.Equal(got, []string{tk.ID}) {
			t.Errorf("%+v lists %v after the backfill, want [%s]", q, got, tk.ID)
		}
	}
	if n, err := s.CountTasks(ctx, u.ID, nil, "long ago"); err != nil || n != 1 {
		t.Errorf("CountTasks = %d, %v; want 1", n, err)
	}
	item := rawItem(t, client, tables.Tasks, map[string]string{"user_id": u.ID, "task_id": tk.ID})
	for name, want := range map[string]string{
		"updated_key": core.TaskKey(tk, core.OrderUpdatedAt), "due_key": core.TaskKey(tk, core.OrderDueDate),
		"user_status": u.ID + "#" + string(tk.Status), "search_text": core.SearchText(tk),
	} {
		if item[name] != want {
			t.Errorf("backfilled %s = %#v, want %q", name, item[name], want)
		}
	}
	if problems, _, err := s.Audit(ctx, false, func(string) {}); err != nil || problems != 0 {
		t.Errorf("Audit after the repair: %d problems, %v; want none", problems, err)
	}
}
