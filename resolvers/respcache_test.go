package resolvers_test

import (
	"context"
	"testing"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/store/storetest"
)

// With a store that versions each user's data (the Redis cache does), a
// repeated query of one's own data is answered from the response cache;
// every write, by anyone's hand, is visible at the next read, and nobody
// ever gets someone else's answer.
func TestResponseCache(t *testing.T) {
	var vs *storetest.Versioned
	e := newEnv(t, func(c *envConfig) {
		c.wrap = func(s core.Store) core.Store { vs = storetest.NewVersioned(s); return vs }
	})
	alice, bob := e.mustRegister(t, "alice"), e.mustRegister(t, "bob")
	e.mustCreateTask(t, alice, "first")
	const q = `query { me { id stats { total } } tasks(first: 20) { edges { node { id title } } totalCount } }`
	type page struct {
		Me    struct{ Stats struct{ Total int } }
		Tasks struct {
			Edges []struct {
				Node struct{ ID, Title string }
			}
			TotalCount int
		}
	}
	get := func(t *testing.T, a account) page {
		t.Helper()
		var p page
		e.post(t, a.Token, q, nil).decode(t, &p)
		return p
	}
	first := e.post(t, alice.Token, q, nil)

	t.Run("RepeatedReadServedFromCache", func(t *testing.T) {
		reads := vs.Reads()
		again := e.post(t, alice.Token, q, nil)
		if again.Body != first.Body {
			t.Fatalf("second answer differs:\n%s\n%s", first.Body, again.Body)
		}
		if n := vs.Reads() - reads; n != 0 {
			t.Fatalf("the repeated query read the store %d times", n)
		}
	})
	t.Run("OtherUserGetsTheirOwn", func(t *testing.T) {
		if p := get(t, bob); p.Tasks.TotalCount != 0 || len(p.Tasks.Edges) != 0 || p.Me.Stats.Total != 0 {
			t.Fatalf("bob got %+v", p)
		}
	})
	t.Run("MutationVisibleAtOnce", func(t *testing.T) {
		r := e.post(t, alice.Token, `mutation { createTask(input: {title: "second"}) { id } }`, nil)
		if len(r.Errors) > 0 {
			t.Fatal(r.Body)
		}
		if p := get(t, alice); p.Tasks.TotalCount != 2 || len(p.Tasks.Edges) != 2 || p.Me.Stats.Total != 2 {
			t.Fatalf("after createTask: %+v", p)
		}
	})
	t.Run("StoreWriteVisibleAtOnce", func(t *testing.T) {
		get(t, alice)
		title := core.Title("renamed elsewhere")
		tasks := e.tasksOf(t, alice.ID)
		if _, err := vs.UpdateTask(context.Background(), alice.ID, tasks[0].ID, core.TaskPatch{Title: &title}); err != nil {
			t.Fatal(err)
		}
		if p := get(t, alice); p.Tasks.Edges[0].Node.Title != string(title) {
			t.Fatalf("after another instance's write: %+v", p)
		}
	})
	t.Run("VariablesAreKeyed", func(t *testing.T) {
		const pq = `query($n: Int) { tasks(first: $n) { edges { node { id } } } }`
		for _, n := range []int{1, 2, 1} {
			var p page
			e.post(t, alice.Token, pq, vars{"n": n}).decode(t, &p)
			if len(p.Tasks.Edges) != n {
				t.Fatalf("first: %d gave %d tasks", n, len(p.Tasks.Edges))
			}
		}
	})
	t.Run("ErrBadCursorEveryTime", func(t *testing.T) {
		for range 2 {
			wantCode(t, e.post(t, alice.Token, `{ tasks(after: "bogus") { totalCount } }`, nil), "BAD_USER_INPUT")
		}
	})
	t.Run("ErrUnauthenticatedWithoutToken", func(t *testing.T) {
		r := e.post(t, "", q, nil)
		if len(r.Errors) == 0 || r.Errors[0].Code() != "UNAUTHENTICATED" || string(r.Data) != "null" {
			t.Fatalf("an anonymous query answered: %s", r.Body)
		}
	})
	t.Run("ErrUnauthenticatedOnceDeactivated", func(t *testing.T) {
		get(t, alice)
		inactive := core.ActivationInactive
		if _, err := vs.UpdateUser(context.Background(), alice.ID, core.UserPatch{ActivationStatus: &inactive}); err != nil {
			t.Fatal(err)
		}
		r := e.post(t, alice.Token, q, nil)
		if len(r.Errors) == 0 || r.Errors[0].Code() != "UNAUTHENTICATED" {
			t.Fatalf("a deactivated user's query answered: %s", r.Body)
		}
	})
	t.Run("AdminQueriesNotCached", func(t *testing.T) {
		admin := e.mustAdmin(t)
		const uq = `{ users(first: 5) { edges { node { id } } } }`
		e.post(t, admin.Token, uq, nil)
		reads := vs.Reads()
		e.post(t, admin.Token, uq, nil)
		if vs.Reads() == reads {
			t.Fatal("a users query was answered from the cache: it depends on every user's data")
		}
	})
}
