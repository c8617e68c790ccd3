package rest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/store/storetest"
)

// With a store that versions each user's data (the Redis cache does), the
// legacy reads clients repeat on every screen are answered from the
// response cache until the caller's data changes, and never to anyone else.
func TestResponseCache(t *testing.T) {
	var vs *storetest.Versioned
	e := newEnv(t, withStore(func(s core.Store) core.Store { vs = storetest.NewVersioned(s); return vs }))
	alice, bob := e.mustUser(t, "alice"), e.mustUser(t, "bob")
	e.mustTask(t, alice, "first", core.StatusPending)
	fetch := func(t *testing.T, a account) []map[string]any {
		t.Helper()
		r := e.do(t, req{method: http.MethodGet, path: "/api/v1/tasks/fetch-task", token: a.token})
		if r.status != http.StatusOK {
			t.Fatalf("fetch-task: %d %s", r.status, r.raw)
		}
		var tasks []map[string]any
		if err := json.Unmarshal([]byte(r.raw), &tasks); err != nil {
			t.Fatal(err)
		}
		return tasks
	}
	stats := func(t *testing.T, a account) float64 {
		t.Helper()
		r := e.do(t, req{method: http.MethodGet, path: "/api/v1/auth/user", token: a.token})
		var body struct {
			TaskData struct{ Total float64 } `json:"task_data"`
		}
		if r.status != http.StatusOK || json.Unmarshal([]byte(r.raw), &body) != nil {
			t.Fatalf("auth/user: %d %s", r.status, r.raw)
		}
		return body.TaskData.Total
	}
	fetch(t, alice)
	stats(t, alice)

	t.Run("RepeatedReadsServedFromCache", func(t *testing.T) {
		reads := vs.Reads()
		if got := fetch(t, alice); len(got) != 1 {
			t.Fatalf("fetch-task = %v", got)
		}
		if got := stats(t, alice); got != 1 {
			t.Fatalf("total = %v", got)
		}
		if n := vs.Reads() - reads; n != 0 {
			t.Fatalf("repeated reads reached the store %d times", n)
		}
	})
	t.Run("OtherUserGetsTheirOwn", func(t *testing.T) {
		if got := fetch(t, bob); len(got) != 0 {
			t.Fatalf("bob fetched %v", got)
		}
		if got := stats(t, bob); got != 0 {
			t.Fatalf("bob's total = %v", got)
		}
	})
	t.Run("WriteVisibleAtOnce", func(t *testing.T) {
		r := e.do(t, req{method: http.MethodPost, path: "/api/v1/tasks/create-task", token: alice.token, body: `{"title":"second","description":""}`})
		if r.status != http.StatusOK {
			t.Fatalf("create-task: %d %s", r.status, r.raw)
		}
		if got := fetch(t, alice); len(got) != 2 {
			t.Fatalf("after create-task, fetch-task = %v", got)
		}
		if got := stats(t, alice); got != 2 {
			t.Fatalf("after create-task, total = %v", got)
		}
	})
	t.Run("Err401OnceDeactivated", func(t *testing.T) {
		inactive := core.ActivationInactive
		if _, err := vs.UpdateUser(context.Background(), alice.ID, core.UserPatch{ActivationStatus: &inactive}); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/api/v1/tasks/fetch-task", "/api/v1/auth/user"} {
			if r := e.do(t, req{method: http.MethodGet, path: path, token: alice.token}); r.status != http.StatusUnauthorized {
				t.Fatalf("%s for a deactivated user: %d %s", path, r.status, r.raw)
			}
		}
	})
	t.Run("Err401WithoutToken", func(t *testing.T) {
		if r := e.do(t, req{method: http.MethodGet, path: "/api/v1/tasks/fetch-task"}); r.status != http.StatusUnauthorized {
			t.Fatalf("fetch-task without a token: %d %s", r.status, r.raw)
		}
	})
}
