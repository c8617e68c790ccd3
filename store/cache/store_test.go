package cache_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/store/cache"
	"github.com/taskapi/taskapi/store/storetest"
)

// The decorator is a core.Store like any other: the contract suite runs
// through it, each store with its own namespace in one shared Redis.
func TestContract(t *testing.T) {
	_, rdb, _ := startRedis(t)
	storetest.Run(t, func(t *testing.T) core.Store {
		return cache.New(openEmbedded(t), rdb, cache.Options{Namespace: uniqueNamespace()})
	})
}

func TestReadsAreServedFromRedisAfterTheFirst(t *testing.T) {
	_, rdb, _ := startRedis(t)
	tests := []struct {
		name  string
		read  func(*fixture, testing.TB)
		count func(*counting) int64
	}{
		{"GetUser", func(f *fixture, t testing.TB) { f.getUser(t) }, func(c *counting) int64 { return c.getUser.Load() }},
		{"ListTasks", func(f *fixture, t testing.TB) { f.titles(t) }, func(c *counting) int64 { return c.listTasks.Load() }},
		{"TaskStats", func(f *fixture, t testing.TB) { f.stats(t) }, func(c *counting) int64 { return c.taskStats.Load() }},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/OneStoreReadForThreeRequests", func(t *testing.T) {
			f := newFixture(t, rdb, cache.Options{}, 3)
			for range 3 {
				tt.read(f, t)
			}
			if n := tt.count(f.inner); n != 1 {
				t.Errorf("%d reads reached the store, want 1 (then hits)", n)
			}
		})
	}

	t.Run("HitsReturnWhatTheStoreReturned", func(t *testing.T) {
		f := newFixture(t, rdb, cache.Options{}, 3)
		storetest.MustSetStatus(t, f.inner, f.user.ID, f.tasks[1].ID, core.StatusComplete)
		ctx := context.Background()
		for _, q := range []core.TaskQuery{firstPage, {Limit: 2}, {Limit: 2, After: f.tasks[1].ID}, {Status: ptr(core.StatusComplete), Limit: 5}} {
			want, wantMore, err := f.inner.ListTasks(ctx, f.user.ID, q)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 2 { // miss, then hit
				got, more, err := f.cache.ListTasks(ctx, f.user.ID, q)
				if err != nil {
					t.Fatal(err)
				}
				if more != wantMore || !slices.EqualFunc(got, want, sameTask) {
					t.Errorf("read %d of %+v = %v, %v; want %v, %v", i, q, got, more, want, wantMore)
				}
			}
		}
		wantUser, _ := f.inner.GetUser(ctx, f.user.ID)
		wantUser.PasswordHash = "" // Redis keeps no password hash (docs/cache.md)
		for range 2 {
			if got := f.getUser(t); !sameUser(got, wantUser) {
				t.Errorf("GetUser = %+v, want %+v", got, wantUser)
			}
			if got := f.stats(t); got != (core.TaskStats{}.Add(core.StatusPending, 2).Add(core.StatusComplete, 1)) {
				t.Errorf("TaskStats = %+v", got)
			}
		}
	})

	t.Run("PagesOfDifferentQueriesAreDifferentEntries", func(t *testing.T) {
		f := newFixture(t, rdb, cache.Options{}, 3)
		ctx := context.Background()
		a, _, _ := f.cache.ListTasks(ctx, f.user.ID, core.TaskQuery{Limit: 1})
		b, _, _ := f.cache.ListTasks(ctx, f.user.ID, core.TaskQuery{Limit: 1, After: f.tasks[0].ID})
		c, _, _ := f.cache.ListTasks(ctx, f.user.ID, core.TaskQuery{Limit: 1, Status: ptr(core.StatusOngoing)})
		if len(a) != 1 || len(b) != 1 || a[0].ID != f.tasks[0].ID || b[0].ID != f.tasks[1].ID || len(c) != 0 {
			t.Errorf("pages mixed up: %v / %v / %v", a, b, c)
		}
	})

	t.Run("AnotherUsersEntriesStaySeparate", func(t *testing.T) {
		f := newFixture(t, rdb, cache.Options{}, 2)
		other := storetest.MustCreateUser(t, f.inner, storetest.UniqueEmail("other"))
		f.readAll(t)
		got, _, err := f.cache.ListTasks(context.Background(), other.ID, firstPage)
		if err != nil || len(got) != 0 {
			t.Errorf("other user's list = %v, %v; want empty", got, err)
		}
		if u, err := f.cache.GetUser(context.Background(), other.ID); err != nil || u.ID != other.ID {
			t.Errorf("other user = %+v, %v", u, err)
		}
	})

	t.Run("ErrNotFoundIsNotCached", func(t *testing.T) {
		f := newFixture(t, rdb, cache.Options{}, 0)
		for range 2 {
			if _, err := f.cache.GetUser(context.Background(), "VAH999999"); !errors.Is(err, core.ErrNotFound) {
				t.Fatalf("GetUser(unknown) = %v, want ErrNotFound", err)
			}
		}
		if n := f.inner.getUser.Load(); n != 2 {
			t.Errorf("%d store reads for two lookups of an unknown user, want 2", n)
		}
	})

	t.Run("GarbageIDsGoStraightToTheStore", func(t *testing.T) {
		f := newFixture(t, rdb, cache.Options{}, 0)
		for _, id := range []string{"", "VAH1}:x", strings.Repeat("A", 100), "a b", "ü"} {
			if _, err := f.cache.GetUser(context.Background(), id); !errors.Is(err, core.ErrNotFound) {
				t.Errorf("GetUser(%q) = %v, want ErrNotFound", id, err)
			}
		}
		keys, err := rdb.Keys(context.Background(), "*VAH1}:x*").Result()
		if err != nil || len(keys) != 0 {
			t.Errorf("keys made from a garbage id: %v, %v", keys, err)
		}
	})
}

func TestKeysAndValues(t *testing.T) {
	_, rdb, _ := startRedis(t)
	ns := uniqueNamespace()
	f := newFixture(t, rdb, cache.Options{Namespace: ns, TTL: 40 * time.Second, UserTTL: 20 * time.Second}, 2)
	f.readAll(t)
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	p := ns + ":{" + f.user.ID + "}:"
	want := []string{p + "tasks:page:*::20", p + "tasks:stats", p + "tasks:ver", p + "user", p + "user:ver"}
	if !slices.Equal(keys, want) {
		t.Fatalf("keys = %q\nwant   %q", keys, want)
	}

	t.Run("EveryKeyExpires", func(t *testing.T) {
		for _, k := range keys {
			ttl, err := rdb.PTTL(ctx, k).Result()
			if err != nil || ttl <= 0 || ttl > time.Hour {
				t.Errorf("PTTL(%s) = %v, %v; want bounded", k, ttl, err)
			}
		}
		if ttl, _ := rdb.PTTL(ctx, p+"user").Result(); ttl > 20*time.Second {
			t.Errorf("user entry lives %v, want at most UserTTL", ttl)
		}
		if ttl, _ := rdb.PTTL(ctx, p+"tasks:stats").Result(); ttl > 40*time.Second {
			t.Errorf("stats entry lives %v, want at most TTL", ttl)
		}
	})

	t.Run("ValuesAreVersionedJSON", func(t *testing.T) {
		raw, err := rdb.Get(ctx, p+"tasks:stats").Result()
		if err != nil {
			t.Fatal(err)
		}
		var e struct {
			V  string         `json:"v"`
			At int64          `json:"at"`
			D  map[string]int `json:"d"`
		}
		if err := json.Unmarshal([]byte(raw), &e); err != nil {
			t.Fatalf("stats entry %q is not JSON: %v", raw, err)
		}
		ver, _ := rdb.Get(ctx, p+"tasks:ver").Result()
		if e.V != ver || e.At == 0 || e.D["pending"] != 2 {
			t.Errorf("stats entry %q, version %q", raw, ver)
		}
	})
}

// Every write path makes the next read show it, on a warm cache.
func TestWritesInvalidate(t *testing.T) {
	_, rdb, _ := startRedis(t)
	ctx := context.Background()
	tests := []struct {
		name  string
		write func(t *testing.T, f *fixture)
		check func(t *testing.T, f *fixture)
	}{
		{
			name: "CreateTaskShowsInListAndStats",
			write: func(t *testing.T, f *fixture) {
				if err := f.cache.CreateTask(ctx, storetest.NewTask(t, f.user.ID, "new one"), 0); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, f *fixture) {
				if got := f.titles(t); len(got) != 3 || got[2] != "new one/pending" {
					t.Errorf("list = %v, want the new task last", got)
				}
				if got := f.stats(t); got.Pending() != 3 {
					t.Errorf("stats = %+v, want 3 pending", got)
				}
			},
		},
		{
			name: "UpdateTaskShowsInListAndStats",
			write: func(t *testing.T, f *fixture) {
				if _, err := f.cache.UpdateTask(ctx, f.user.ID, f.tasks[0].ID, core.TaskPatch{Title: ptr[core.Title]("renamed"), Status: ptr(core.StatusOngoing), UpdatedAt: time.Now()}); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, f *fixture) {
				if got := f.titles(t); got[0] != "renamed/ongoing" {
					t.Errorf("list = %v, want the change", got)
				}
				if got := f.stats(t); got != (core.TaskStats{}.Add(core.StatusPending, 1).Add(core.StatusOngoing, 1)) {
					t.Errorf("stats = %+v", got)
				}
				got, _, _ := f.cache.ListTasks(ctx, f.user.ID, core.TaskQuery{Status: ptr(core.StatusOngoing), Limit: 20})
				if len(got) != 1 {
					t.Errorf("ongoing page = %v, want the moved task", got)
				}
			},
		},
		{
			name: "DeleteTaskShowsInListAndStats",
			write: func(t *testing.T, f *fixture) {
				if _, err := f.cache.DeleteTask(ctx, f.user.ID, f.tasks[0].ID); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, f *fixture) {
				if got := f.titles(t); len(got) != 1 || got[0] != "task 1/pending" {
					t.Errorf("list = %v, want only task 1", got)
				}
				if got := f.stats(t); got.Total() != 1 {
					t.Errorf("stats = %+v, want 1 task", got)
				}
			},
		},
		{
			name: "UpdateUserDeactivationAndRoleApplyAtOnce",
			write: func(t *testing.T, f *fixture) {
				if _, err := f.cache.UpdateUser(ctx, f.user.ID, core.UserPatch{ActivationStatus: ptr(core.ActivationInactive), Role: ptr(core.RoleAdmin), Username: ptr[core.Username]("renamed")}); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, f *fixture) {
				if u := f.getUser(t); u.IsActive() || !u.IsAdmin() || u.Username != "renamed" {
					t.Errorf("user = %+v, want inactive admin 'renamed'", u)
				}
			},
		},
		{
			name: "UpdateUserPasswordShowsInGetUserByEmail",
			write: func(t *testing.T, f *fixture) {
				if _, err := f.cache.UpdateUser(ctx, f.user.ID, core.UserPatch{PasswordHash: ptr("$argon2id$new")}); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, f *fixture) {
				if u, err := f.cache.GetUserByEmail(ctx, f.user.Email.Key()); err != nil || u.PasswordHash != "$argon2id$new" {
					t.Errorf("hash not updated: %v", err)
				}
			},
		},
		{
			name: "CreateUserShowsInGetUserAndListUsers",
			write: func(t *testing.T, f *fixture) {
				u, err := f.cache.CreateUser(ctx, storetest.NewUser("newcomer@example.com"))
				if err != nil {
					t.Fatal(err)
				}
				if got, err := f.cache.GetUser(ctx, u.ID); err != nil || got.Email != "newcomer@example.com" {
					t.Errorf("GetUser(new) = %+v, %v", got, err)
				}
			},
			check: func(t *testing.T, f *fixture) {
				users, _, err := f.cache.ListUsers(ctx, "", 10)
				if err != nil || len(users) != 2 {
					t.Errorf("ListUsers = %v, %v; want both users", users, err)
				}
				if u, err := f.cache.GetUserByEmail(ctx, core.KeyOf("newcomer@example.com")); err != nil || u.Email != "newcomer@example.com" {
					t.Errorf("GetUserByEmail = %+v, %v", u, err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, rdb, cache.Options{}, 2)
			f.readAll(t) // warm
			f.readAll(t) // served from Redis
			tt.write(t, f)
			tt.check(t, f)
		})
	}

	t.Run("FailedWriteChangesNothingAndKeepsTheCacheWarm", func(t *testing.T) {
		f := newFixture(t, rdb, cache.Options{}, 2)
		f.readAll(t)
		before := f.inner.reads()
		if _, err := f.cache.UpdateTask(ctx, f.user.ID, storetest.NewTaskID(t), core.TaskPatch{Title: ptr[core.Title]("x"), UpdatedAt: time.Now()}); !errors.Is(err, core.ErrNotFound) {
			t.Fatalf("UpdateTask(unknown) = %v, want ErrNotFound", err)
		}
		f.readAll(t)
		if n := f.inner.reads() - before; n != 0 {
			t.Errorf("%d store reads after a write that changed nothing, want 0", n)
		}
	})

	t.Run("ConcurrentReadersNeverPinAnOldList", func(t *testing.T) {
		// Readers filling the cache race a writer; once the writer is done,
		// every read shows every write.
		f := newFixture(t, rdb, cache.Options{}, 0)
		done := make(chan struct{})
		errc := make(chan error, 4)
		for range 4 {
			go func() {
				for {
					select {
					case <-done:
						errc <- nil
						return
					default:
					}
					if _, _, err := f.cache.ListTasks(ctx, f.user.ID, firstPage); err != nil {
						errc <- err
						return
					}
					if _, err := f.cache.TaskStats(ctx, f.user.ID); err != nil {
						errc <- err
						return
					}
				}
			}()
		}
		for i := range 15 {
			if err := f.cache.CreateTask(ctx, storetest.NewTask(t, f.user.ID, "t"), 0); err != nil {
				t.Fatal(err)
			}
			if got := len(f.titles(t)); got != i+1 {
				t.Fatalf("after write %d the list has %d tasks", i+1, got)
			}
			if got := f.stats(t).Total(); got != i+1 {
				t.Fatalf("after write %d the stats count %d tasks", i+1, got)
			}
		}
		close(done)
		for range 4 {
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestEntriesOlderThanTheirTTLAreNotServed(t *testing.T) {
	_, rdb, _ := startRedis(t)
	clock := newFakeClock()
	f := newFixture(t, rdb, cache.Options{TTL: time.Minute, UserTTL: 30 * time.Second, Now: clock.Now}, 1)
	f.readAll(t)
	f.readAll(t)
	if n := f.inner.reads(); n != 3 {
		t.Fatalf("%d store reads, want 3", n)
	}
	// Redis still holds the entries (its own expiry runs on real time), but
	// they are older than the TTL by this instance's clock.
	clock.Advance(31 * time.Second)
	f.readAll(t)
	if n := f.inner.getUser.Load(); n != 2 {
		t.Errorf("user read from the store %d times, want 2 (UserTTL passed)", n)
	}
	if n := f.inner.listTasks.Load() + f.inner.taskStats.Load(); n != 2 {
		t.Errorf("task reads reached the store %d times, want 2 (TTL not passed)", n)
	}
	clock.Advance(30 * time.Second)
	f.readAll(t)
	if n := f.inner.listTasks.Load() + f.inner.taskStats.Load(); n != 4 {
		t.Errorf("task reads reached the store %d times, want 4 (TTL passed)", n)
	}
}

func TestLargePagesAreNotCached(t *testing.T) {
	_, rdb, _ := startRedis(t)
	f := newFixture(t, rdb, cache.Options{MaxValueBytes: 512}, 5)
	f.titles(t)
	f.titles(t)
	if n := f.inner.listTasks.Load(); n != 2 {
		t.Errorf("%d store reads, want 2 (a 5-task page is over 512 bytes)", n)
	}
	f.stats(t)
	f.stats(t)
	if n := f.inner.taskStats.Load(); n != 1 {
		t.Errorf("%d stats reads, want 1 (small values are still cached)", n)
	}
}

func sameTask(a, b core.Task) bool {
	return a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt) &&
		a.ID == b.ID && a.UserID == b.UserID && a.Title == b.Title && a.Description == b.Description && a.Status == b.Status
}

func sameUser(a, b core.User) bool {
	ok := a.CreatedAt.Equal(b.CreatedAt)
	a.CreatedAt, b.CreatedAt = time.Time{}, time.Time{}
	return ok && a == b
}
