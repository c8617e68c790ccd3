package main_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/internal/testenv"
	"github.com/taskapi/taskapi/store/dynamo"
)

// TestAKilledDeletionIsFinishedByVerify deletes an account of 5,000 tasks
// on DynamoDB Local, SIGKILLs the server in the middle, and shows what is
// left: an account nobody can use, exact counters, and `taskapi verify`
// reporting it until `taskapi verify -repair` finishes it; then the
// address registers again under a new id.
func TestAKilledDeletionIsFinishedByVerify(t *testing.T) {
	if testing.Short() {
		t.Skip("starts DynamoDB Local and writes 5,000 tasks")
	}
	endpoint := testenv.DynamoDB(t)
	env, users, tasks := dynamoEnv(endpoint, "del", "0123456789abcdef0123456789abcdef-del")
	tables := dynamo.Tables{Users: users, Tasks: tasks}
	cli := func(args ...string) (string, int) { return runCLI(t, env, args...) }
	if out, code := cli("create-tables"); code != 0 {
		t.Fatalf("create-tables: %s", out)
	}
	client, err := dynamo.NewClient(t.Context(), dynamo.Options{Endpoint: endpoint})
	if err != nil {
		t.Fatal(err)
	}
	st := dynamo.New(client, tables)

	s := start(t, binary(t), env...)
	call := func(s *server, method, path, token, body string) (int, map[string]any) {
		code, m, _ := s.rest(method, path, token, body)
		return code, m
	}
	const email, pw = "leaver@example.com", "s3cret!pw"
	code, user := call(s, "POST", "/api/v1/auth/register", "", `{"username":"leaver","email":"`+email+`","password":"`+pw+`"}`)
	if code != 200 {
		t.Fatalf("register: %d %v", code, user)
	}
	id := user["user_id"].(string)
	code, tok := call(s, "POST", "/api/v1/auth/login", "", `{"email":"`+email+`","password":"`+pw+`"}`)
	if code != 200 {
		t.Fatalf("login: %d %v", code, tok)
	}
	access, refresh := tok["access_token"].(string), tok["refresh_token"].(string)

	// 5,000 tasks, written through the store (the API would take minutes).
	const n = 5000
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				tid, _ := uuid.NewV7()
				now := time.Now().UTC()
				status := core.TaskStatuses[i%len(core.TaskStatuses)]
				task := core.Task{ID: tid.String(), UserID: id, Title: core.Title(fmt.Sprint("task ", i)), Status: status, CreatedAt: now, UpdatedAt: now}
				if err := st.CreateTask(t.Context(), task, 0); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total := func() int {
		stats, err := st.TaskStats(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return stats.Total()
	}
	if got := total(); got != n {
		t.Fatalf("counters say %d tasks, want %d", got, n)
	}

	// Delete, and kill the server once the first batches are gone.
	began := time.Now()
	go call(s, "DELETE", "/api/v1/auth/user", access, `{"password":"`+pw+`"}`)
	for total() == n {
		if time.Since(began) > time.Minute {
			t.Fatalf("the deletion did not start\n%s", s.logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-s.done
	left := total()
	if left == 0 || left >= n {
		t.Fatalf("killed with %d tasks left: not in the middle", left)
	}
	// The counters are exact at the kill: they match the tasks left.
	var counted core.TaskStats
	for after := ""; ; {
		page, more, err := st.ListTasks(context.Background(), id, core.TaskQuery{After: after, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range page {
			counted = counted.Add(task.Status, 1)
		}
		if !more {
			break
		}
		after = page[len(page)-1].ID
	}
	if stats, _ := st.TaskStats(context.Background(), id); stats != counted {
		t.Fatalf("counters %+v, tasks %+v", stats, counted)
	}
	t.Logf("killed after %v with %d of %d tasks left", time.Since(began).Round(time.Millisecond), left, n)

	out, code := cli("verify")
	if code != 1 || !strings.Contains(out, id+": deletion begun") {
		t.Fatalf("verify: exit %d\n%s", code, out)
	}
	began = time.Now()
	out, code = cli("verify", "-repair")
	if code != 0 || !strings.Contains(out, id+": deletion begun") || !strings.Contains(out, ": finished") {
		t.Fatalf("verify -repair: exit %d\n%s", code, out)
	}
	t.Logf("verify -repair removed %d tasks in %v", left, time.Since(began).Round(time.Millisecond))
	if out, code := cli("verify"); code != 0 {
		t.Fatalf("verify after the repair: exit %d\n%s", code, out)
	}
	if _, err := st.GetUser(context.Background(), id); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("the user is still stored: %v", err)
	}

	s = start(t, binary(t), env...)
	if code, _ := call(s, "GET", "/api/v1/auth/user", access, ""); code != 401 {
		t.Errorf("the old access token: %d", code)
	}
	if code, _ := call(s, "POST", "/api/v1/auth/refresh", "", `{"refresh_token":"`+refresh+`"}`); code != 401 {
		t.Errorf("the old refresh token: %d", code)
	}
	if code, _ := call(s, "POST", "/api/v1/auth/login", "", `{"email":"`+email+`","password":"`+pw+`"}`); code != 401 {
		t.Errorf("the old password: %d", code)
	}
	code, again := call(s, "POST", "/api/v1/auth/register", "", `{"username":"back","email":"`+email+`","password":"`+pw+`"}`)
	if code != 200 || again["user_id"] == id {
		t.Fatalf("register again: %d %v (old id %s)", code, again, id)
	}
	s.stop(t)
}
