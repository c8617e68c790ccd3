package dynamo_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"

	"github.com/taskapi/taskapi/core"
)

// calls counts DynamoDB operations by name.
type calls struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *calls) add(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[op]++
}

// during returns the operations fn made.
func (c *calls) during(fn func()) map[string]int {
	c.mu.Lock()
	c.n = map[string]int{}
	c.mu.Unlock()
	fn()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func format(m map[string]int) string {
	var parts []string
	for _, op := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s×%d", op, m[op]))
	}
	return strings.Join(parts, " ")
}

// testRoundTrips counts the DynamoDB round trips of each request through
// core.Service, with a fresh request context each time (so every
// authenticated request pays for loading its user once).
func testRoundTrips(t *testing.T, endpoint string) {
	c := &calls{n: map[string]int{}}
	client := newClient(t, endpoint, c.add)
	s, _ := MustOpen(t, client)
	svc := core.NewService(core.Config{
		Store:        s,
		Hasher:       core.NewHasher("", &argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}, 2),
		Tokens:       core.NewTokens([]byte("test-secret-test-secret-test-secret"), time.Hour, nil),
		CursorSecret: []byte("cursor"),
	})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var token, refresh string
	as := func() context.Context { return core.WithRequest(t.Context(), token, "") }
	var task core.Task
	ongoing := core.StatusOngoing

	steps := []struct {
		name string
		do   func()
		want map[string]int
	}{
		{"register", func() {
			_, err := svc.Register(t.Context(), core.RegisterInput{Username: "counted", Email: "counted@example.com", Password: "secret1!"})
			must(err)
		}, map[string]int{"UpdateItem": 1, "TransactWriteItems": 1}},
		{"login", func() {
			p, err := svc.Login(t.Context(), "counted@example.com", "secret1!")
			must(err)
			token, refresh = p.AccessToken, p.RefreshToken
		}, map[string]int{"GetItem": 2, "TransactWriteItems": 1}},
		{"refresh", func() {
			p, err := svc.Refresh(t.Context(), refresh)
			must(err)
			token = p.AccessToken
		}, map[string]int{"GetItem": 2, "TransactWriteItems": 1}},
		{"login, unknown email", func() {
			_, err := svc.Login(t.Context(), "nobody@example.com", "secret1!")
			if err == nil {
				t.Fatal("login of an unknown email succeeded")
			}
		}, map[string]int{"GetItem": 1}},
		{"authenticated request (me)", func() {
			_, err := svc.Me(as())
			must(err)
		}, map[string]int{"GetItem": 1}},
		{"create task", func() {
			var err error
			task, err = svc.CreateTask(as(), core.CreateTaskInput{Title: "count me"})
			must(err)
		}, map[string]int{"GetItem": 1, "TransactWriteItems": 1}},
		{"update task title", func() {
			// The stored description is read for the new search_text.
			title := string(task.Title)
			_, err := svc.UpdateTask(as(), task.ID, core.UpdateTaskInput{Title: &title})
			must(err)
		}, map[string]int{"GetItem": 2, "UpdateItem": 1}},
		{"update title, description", func() {
			title, desc := "counted", "both"
			_, err := svc.UpdateTask(as(), task.ID, core.UpdateTaskInput{Title: &title, Description: &desc})
			must(err)
		}, map[string]int{"GetItem": 1, "UpdateItem": 1}},
		{"update task due date", func() {
			due := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
			_, err := svc.UpdateTask(as(), task.ID, core.UpdateTaskInput{DueDate: &due})
			must(err)
		}, map[string]int{"GetItem": 1, "UpdateItem": 1}},
		{"update task status", func() {
			_, err := svc.UpdateTask(as(), task.ID, core.UpdateTaskInput{Status: &ongoing})
			must(err)
		}, map[string]int{"GetItem": 2, "TransactWriteItems": 1}},
		{"list tasks", func() {
			_, err := svc.ListTasks(as(), core.TaskListArgs{})
			must(err)
		}, map[string]int{"GetItem": 1, "Query": 1}},
		{"list tasks by status", func() {
			_, err := svc.ListTasks(as(), core.TaskListArgs{Status: &ongoing})
			must(err)
		}, map[string]int{"GetItem": 1, "Query": 1}},
		{"list by update, desc", func() {
			_, err := svc.ListTasks(as(), core.TaskListArgs{Status: &ongoing, OrderBy: &core.TaskOrder{Field: core.OrderUpdatedAt, Direction: core.Descending}})
			must(err)
		}, map[string]int{"GetItem": 1, "Query": 1}},
		{"list searched, counted", func() {
			// The walk saw the whole list: it counted the matches.
			search := "count"
			c, err := svc.ListTasks(as(), core.TaskListArgs{Search: &search})
			must(err)
			n, err := c.TotalCount(as())
			must(err)
			if n != 1 {
				t.Errorf("totalCount %d, want 1", n)
			}
		}, map[string]int{"GetItem": 1, "Query": 1}},
		{"count a search only", func() {
			// first: 0 walks one match to tell whether any follow; the
			// count is a COUNT Query.
			search, zero := "count", 0
			c, err := svc.ListTasks(as(), core.TaskListArgs{Search: &search, First: &zero})
			must(err)
			n, err := c.TotalCount(as())
			must(err)
			if n != 1 {
				t.Errorf("totalCount %d, want 1", n)
			}
		}, map[string]int{"GetItem": 1, "Query": 2}},
		{"stats", func() {
			u, err := svc.Me(as())
			must(err)
			_, err = s.TaskStats(t.Context(), u.ID) // what a `stats` field adds to `me`
			must(err)
		}, map[string]int{"GetItem": 2}},
		{"delete task", func() {
			must(svc.DeleteTask(as(), task.ID))
		}, map[string]int{"GetItem": 2, "TransactWriteItems": 1}},
		{"logout", func() {
			must(svc.Logout(as()))
		}, map[string]int{"GetItem": 1, "TransactWriteItems": 1}},
	}
	t.Log("DynamoDB round trips per request (authentication included):")
	for _, st := range steps {
		got := c.during(st.do)
		t.Logf("  %-28s %d  (%s)", st.name, total(got), format(got))
		if !maps.Equal(got, st.want) {
			t.Errorf("%s: %s, want %s", st.name, format(got), format(st.want))
		}
	}
}
