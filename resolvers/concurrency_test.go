package resolvers_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/taskapi/taskapi/core"
)

func TestConcurrentRegistrationsOneEmail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	email := uniqueEmail("race")
	const n = 12
	codes := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			// Case differs per request: the email is unique case-insensitively.
			addr := email
			if i%2 == 1 {
				addr = strings.ToUpper(email)
			}
			r := e.post(t, "", `mutation($in: RegisterInput!) { register(input: $in) { id } }`,
				vars{"in": vars{"username": fmt.Sprint("racer", i), "email": addr, "password": testPassword}})
			switch len(r.Errors) {
			case 0:
				codes[i] = "OK"
			case 1:
				codes[i] = r.Errors[0].Code()
			default:
				codes[i] = r.Body
			}
		})
	}
	wg.Wait()
	ok := 0
	for _, c := range codes {
		switch c {
		case "OK":
			ok++
		case "CONFLICT":
		default:
			t.Fatalf("registration answered %s", c)
		}
	}
	if ok != 1 {
		t.Fatalf("%d registrations succeeded, want exactly 1 (%v)", ok, codes)
	}
	if n := e.countUsers(t); n != 1 {
		t.Fatalf("%d users stored, want 1", n)
	}
}

// TestConcurrentTaskWrites: after parallel creates, updates and deletes,
// me { stats } equals a recount of the tasks.
func TestConcurrentTaskWrites(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.mustRegister(t, "busy")
	const workers, rounds = 6, 5
	statuses := []string{"PENDING", "ONGOING", "COMPLETE"}
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*3)
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				var c struct{ CreateTask struct{ ID string } }
				r := e.post(t, a.Token, `mutation { createTask(input: {title: "job"}) { id } }`, nil)
				if len(r.Errors) > 0 {
					errs <- errors.New(r.Body)
					return
				}
				r.decode(t, &c)
				id := c.CreateTask.ID
				st := statuses[(w+i)%3]
				if r := e.post(t, a.Token, `mutation($id: ID!, $s: TaskStatus!) { updateTask(id: $id, input: {status: $s}) { id } }`,
					vars{"id": id, "s": st}); len(r.Errors) > 0 {
					errs <- errors.New(r.Body)
				}
				if (w+i)%4 == 0 {
					if r := e.post(t, a.Token, `mutation($id: ID!) { deleteTask(id: $id) }`, vars{"id": id}); len(r.Errors) > 0 {
						errs <- errors.New(r.Body)
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	var me struct {
		Me struct {
			Stats struct{ Pending, Ongoing, Complete, Total int }
		}
	}
	e.post(t, a.Token, `{ me { stats { pending ongoing complete total } } }`, nil).decode(t, &me)
	var want core.TaskStats
	for _, task := range e.tasksOf(t, a.ID) {
		want = want.Add(task.Status, 1)
	}
	got := me.Me.Stats
	if got.Pending != want.Pending() || got.Ongoing != want.Ongoing() || got.Complete != want.Complete() || got.Total != want.Total() {
		t.Fatalf("stats %+v, recount %+v (total %d)", got, want, want.Total())
	}
	if want.Total() == 0 || want.Total() == workers*rounds {
		t.Fatalf("recount %+v: the test should leave some tasks and delete others", want)
	}
}

// failingStore breaks on purpose, with an error text that must never reach
// a client.
type failingStore struct {
	core.Store
	panic bool
}

const secretDetail = "bolt: /var/lib/taskapi/secret-path.db: input/output error"

func (f failingStore) ListTasks(context.Context, string, core.TaskQuery) ([]core.Task, bool, error) {
	if f.panic {
		panic(secretDetail)
	}
	return nil, false, errors.New(secretDetail)
}

func (f failingStore) CreateTask(context.Context, core.Task, int) error {
	return fmt.Errorf("put: %w", context.DeadlineExceeded)
}

func TestInternalErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		panic bool
		query string
		log   string
	}{
		{"INTERNAL_SERVER_ERROR/StoreError", false, `{ tasks { totalCount } }`, secretDetail},
		{"INTERNAL_SERVER_ERROR/Panic", true, `{ tasks { totalCount } }`, secretDetail},
		{"INTERNAL_SERVER_ERROR/WrappedContextError", false, `mutation { createTask(input: {title: "t"}) { id } }`, "deadline exceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *envConfig) {
				c.internal = true
				c.wrap = func(s core.Store) core.Store { return failingStore{Store: s, panic: tc.panic} }
			})
			a := e.mustRegister(t, "unlucky")
			r := e.post(t, a.Token, tc.query, nil)
			wantCode(t, r, "INTERNAL_SERVER_ERROR")
			if r.Errors[0].Message != "internal server error" || strings.Contains(r.Body, "secret") || strings.Contains(r.Body, "deadline") {
				t.Fatalf("internal detail leaked: %s", r.Body)
			}
			if n := strings.Count(e.logs.String(), tc.log); n != 1 {
				t.Fatalf("detail logged %d times, want once:\n%s", n, e.logs.String())
			}
		})
	}
}
