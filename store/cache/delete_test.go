package cache_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/store/cache"
)

// A deleted account leaves nothing in Redis: not its record, its task
// pages or its counts (the contract suite shows the store side).
func TestDeleteUserLeavesNoEntry(t *testing.T) {
	_, rdb, _ := startRedis(t)
	ns := uniqueNamespace()
	f := newFixture(t, rdb, cache.Options{Namespace: ns}, 3)
	f.readAll(t)
	f.cache.ListTasks(context.Background(), f.user.ID, core.TaskQuery{Limit: 2}) // a second page key
	userKeys := func() []string {
		keys, err := rdb.Keys(context.Background(), ns+":{"+f.user.ID+"}:*").Result()
		if err != nil {
			t.Fatal(err)
		}
		var entries []string
		for _, k := range keys {
			if !strings.HasSuffix(k, ":ver") { // versions hold no data, and expire
				entries = append(entries, k)
			}
		}
		return entries
	}
	if len(userKeys()) < 3 {
		t.Fatalf("the reads cached only %v", userKeys())
	}
	now := time.Now()
	if _, err := f.cache.UpdateUser(t.Context(), f.user.ID, core.UserPatch{
		ActivationStatus: ptr(core.ActivationInactive), EndSessionsAt: now, MarkDeleted: now,
	}); err != nil {
		t.Fatal(err)
	}
	for {
		n, err := f.cache.DeleteTasks(t.Context(), f.user.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	if err := f.cache.DeleteUser(t.Context(), f.user.ID); err != nil {
		t.Fatal(err)
	}
	if left := userKeys(); len(left) > 0 {
		t.Fatalf("entries left in Redis after the deletion: %v", left)
	}
	if _, err := f.cache.GetUser(t.Context(), f.user.ID); err == nil {
		t.Fatal("the deleted user is still served")
	}
}

// No password hash ever reaches Redis (internal/hardening's secrets battery
// checks the same from outside).
func TestRedisHoldsNoPasswordHash(t *testing.T) {
	_, rdb, _ := startRedis(t)
	ns := uniqueNamespace()
	f := newFixture(t, rdb, cache.Options{Namespace: ns}, 2)
	f.readAll(t)
	f.readAll(t) // served from Redis
	if u := f.getUser(t); u.PasswordHash != "" {
		t.Fatalf("a cached read carries the hash %q", u.PasswordHash)
	}
	keys, err := rdb.Keys(context.Background(), ns+":*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys %v, %v", keys, err)
	}
	for _, k := range keys {
		v, _ := rdb.Get(context.Background(), k).Result()
		if strings.Contains(v, "argon2id") || strings.Contains(v, "password") {
			t.Fatalf("%s holds %s", k, v)
		}
	}
}
