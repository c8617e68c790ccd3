package cache_test

import (
	"context"
	"testing"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/store/cache"
	"github.com/taskapi/taskapi/store/storetest"
)

// GetUserVersion is what response caches key on: it must change with every
// write to the user's record or tasks, through any instance, cost the one
// round trip GetUser costs, and vouch for nothing when Redis is away.
func TestGetUserVersion(t *testing.T) {
	srv, rdb, cc := startRedis(t)
	f := newFixture(t, rdb, cache.Options{}, 3)
	ctx := context.Background()
	version := func(t *testing.T) string {
		t.Helper()
		u, v, err := f.cache.GetUserVersion(ctx, f.user.ID)
		if err != nil || u.ID != f.user.ID || u.Email != f.user.Email {
			t.Fatalf("GetUserVersion = %+v, %q, %v", u, v, err)
		}
		return v
	}
	v1 := version(t)
	if v1 == "" {
		t.Fatal("no version with Redis up")
	}

	t.Run("StableWithoutWrites", func(t *testing.T) {
		if v := version(t); v != v1 {
			t.Fatalf("version changed from %q to %q with no write", v1, v)
		}
	})
	t.Run("OneRoundTripWhenWarm", func(t *testing.T) {
		n := cc.n.Load()
		version(t)
		if got := cc.since(n); len(got) != 1 {
			t.Fatalf("GetUserVersion sent %v; want one MGET", got)
		}
	})
	t.Run("ChangesWithEachWrite", func(t *testing.T) {
		seen := map[string]bool{version(t): true}
		title, role := core.Title("renamed"), core.RoleAdmin
		writes := map[string]func() error{
			"CreateTask": func() error { return f.cache.CreateTask(ctx, storetest.NewTask(t, f.user.ID, "new"), 0) },
			"UpdateTask": func() error {
				_, err := f.cache.UpdateTask(ctx, f.user.ID, f.tasks[0].ID, core.TaskPatch{Title: &title})
				return err
			},
			"DeleteTask": func() error { _, err := f.cache.DeleteTask(ctx, f.user.ID, f.tasks[1].ID); return err },
			"UpdateUser": func() error {
				_, err := f.cache.UpdateUser(ctx, f.user.ID, core.UserPatch{Role: &role})
				return err
			},
		}
		for _, name := range []string{"CreateTask", "UpdateTask", "DeleteTask", "UpdateUser"} {
			if err := writes[name](); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			v := version(t)
			if seen[v] {
				t.Fatalf("after %s the version is %q, seen before", name, v)
			}
			seen[v] = true
		}
		if u, _, _ := f.cache.GetUserVersion(ctx, f.user.ID); u.Role != core.RoleAdmin {
			t.Fatalf("user after UpdateUser: %+v", u)
		}
	})
	t.Run("EmptyWhenRedisIsDown", func(t *testing.T) {
		if err := srv.Kill(); err != nil {
			t.Fatal(err)
		}
		u, v, err := f.cache.GetUserVersion(ctx, f.user.ID)
		if err != nil || u.ID != f.user.ID {
			t.Fatalf("GetUserVersion with Redis down = %+v, %v; want the user from the store", u, err)
		}
		if v != "" {
			t.Fatalf("version %q with Redis down: nothing can vouch for it", v)
		}
	})
}
