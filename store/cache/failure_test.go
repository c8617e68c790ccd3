package cache_test

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/store/cache"
	"github.com/taskapi/taskapi/store/storetest"
)

// requestBound is what one request may take while Redis fails: a few
// command timeouts (100 ms each) with a wide margin for a busy machine.
const requestBound = 2 * time.Second

const threshold = 3

// outage is how a test makes Redis fail.
type outage struct {
	name  string
	start func(t *testing.T, srv redisServer)
	end   func(t *testing.T, srv redisServer)
}

type redisServer interface {
	Pause() error
	Resume() error
	Kill() error
	Restart() error
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var outages = []outage{
	{
		name:  "Hung",
		start: func(t *testing.T, srv redisServer) { must(t, srv.Pause()); t.Cleanup(func() { _ = srv.Resume() }) },
		end:   func(t *testing.T, srv redisServer) { must(t, srv.Resume()) },
	},
	{
		name:  "Killed",
		start: func(t *testing.T, srv redisServer) { must(t, srv.Kill()) },
		end:   func(t *testing.T, srv redisServer) { must(t, srv.Restart()) },
	},
}

// While Redis fails every request still succeeds, from the store, and
// quickly: after FailureThreshold failures the breaker stops asking Redis,
// with one log line when it opens and one when Redis is back.
func TestRequestsSucceedWhileRedisFails(t *testing.T) {
	for _, o := range outages {
		t.Run(o.name, func(t *testing.T) {
			srv, rdb, sent := startRedis(t)
			logs := &logBuffer{}
			const cooldown = 500 * time.Millisecond
			f := newFixture(t, rdb, cache.Options{Resilience: cache.Resilience{
				FailureThreshold: threshold, Cooldown: cooldown, Logger: newLogger(logs),
			}}, 2)
			f.readAll(t)
			f.readAll(t)
			want := f.titles(t)

			o.start(t, srv)
			before := sent.n.Load()
			start := time.Now()
			for i := range 30 {
				t0 := time.Now()
				if got := f.titles(t); !slices.Equal(got, want) {
					t.Fatalf("request %d: list %v, want %v", i, got, want)
				}
				if got := f.stats(t); got.Pending() != 2 {
					t.Fatalf("request %d: stats %+v", i, got)
				}
				if got := f.getUser(t); got.ID != f.user.ID {
					t.Fatalf("request %d: user %+v", i, got)
				}
				if d := time.Since(t0); d > requestBound {
					t.Errorf("request %d took %v with Redis %s, want under %v", i, d, o.name, requestBound)
				}
			}
			elapsed := time.Since(start)
			// threshold commands open the breaker; each cooldown that passed
			// lets one probe through.
			if n, max := sent.n.Load()-before, int64(threshold+1+int(elapsed/cooldown)); n > max {
				t.Errorf("%d commands sent to a failing Redis in %v, want at most %d: %v", n, elapsed, max, sent.since(before))
			}
			// A hung Redis opens it once the judge's PING has failed: until
			// then the requests bypassed Redis.
			if s := waitBreakerOpen(f.cache); s == "closed" {
				t.Errorf("breaker %s after 30 requests with Redis %s", s, o.name)
			}
			if n := logs.count("level=WARN", "circuit breaker opened"); n != 1 {
				t.Errorf("%d 'opened' lines, want 1:\n%v", n, logs.lines())
			}

			o.end(t, srv)
			time.Sleep(cooldown + 50*time.Millisecond)
			for range 3 {
				f.readAll(t)
			}
			if s := f.cache.BreakerState(); s != "closed" {
				t.Errorf("breaker %s after Redis came back", s)
			}
			if n := logs.count("level=INFO", "circuit breaker closed"); n != 1 {
				t.Errorf("%d 'closed' lines, want 1:\n%v", n, logs.lines())
			}
			if n := len(logs.lines()) - logs.count("level=DEBUG"); n != 2 {
				t.Errorf("%d lines above debug for one outage, want 2:\n%v", n, logs.lines())
			}
			// Redis serves hits again.
			reads := f.inner.reads()
			f.readAll(t)
			if n := f.inner.reads() - reads; n != 0 {
				t.Errorf("%d store reads after recovery, want 0 (hits)", n)
			}
		})
	}
}

// A write whose invalidation cannot reach Redis is still visible to the
// writer's next read, during the outage and after it, although Redis comes
// back holding the old entries under the current version.
func TestWriteDuringOutageIsNeverReadStale(t *testing.T) {
	for _, o := range outages {
		t.Run(o.name, func(t *testing.T) {
			srv, rdb, _ := startRedis(t)
			const cooldown = 300 * time.Millisecond
			ns := uniqueNamespace()
			opts := cache.Options{Namespace: ns, Resilience: cache.Resilience{FailureThreshold: threshold, Cooldown: cooldown}}
			a := newFixture(t, rdb, opts, 2)
			// b is another instance of the service on the same store and Redis.
			b := &fixture{inner: a.inner, cache: cache.New(a.inner, rdb, opts), user: a.user, tasks: a.tasks}
			a.readAll(t)
			b.readAll(t)
			old := a.titles(t)

			o.start(t, srv)
			for range threshold {
				a.readAll(t) // opens a's breaker (hung: once the judge's PING fails)
			}
			if s := waitBreakerOpen(a.cache); s == "closed" {
				t.Fatalf("breaker %s with Redis %s", s, o.name)
			}
			ctx := context.Background()
			if _, err := a.cache.UpdateTask(ctx, a.user.ID, a.tasks[0].ID, core.TaskPatch{Title: ptr[core.Title]("changed"), Status: ptr(core.StatusComplete), UpdatedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
			if _, err := a.cache.UpdateUser(ctx, a.user.ID, core.UserPatch{ActivationStatus: ptr(core.ActivationInactive)}); err != nil {
				t.Fatal(err)
			}
			wantFresh := func(f *fixture, who string) {
				t.Helper()
				if got := f.titles(t); got[0] != "changed/complete" {
					t.Errorf("%s: list %v, want the write", who, got)
				}
				if got := f.stats(t); got != (core.TaskStats{}.Add(core.StatusPending, 1).Add(core.StatusComplete, 1)) {
					t.Errorf("%s: stats %+v, want the write", who, got)
				}
				if got := f.getUser(t); got.IsActive() {
					t.Errorf("%s: user still active", who)
				}
			}
			wantFresh(a, "writer during the outage")

			o.end(t, srv)
			wantFresh(a, "writer right after Redis came back")
			if o.name == "Hung" {
				// The old entries survived, valid under the current version:
				// an instance that never saw the write reads them until the
				// writer reaches Redis again (at most TTL, see below).
				if got := b.titles(t); !slices.Equal(got, old) {
					t.Fatalf("other instance: list %v; the test expected Redis to still hold %v", got, old)
				}
			}
			time.Sleep(cooldown + 50*time.Millisecond)
			wantFresh(a, "writer after its breaker closed")
			wantFresh(b, "other instance after the writer's next request")
		})
	}

	t.Run("WriteTimesOutWithBreakerClosed", func(t *testing.T) {
		srv, rdb, _ := startRedis(t)
		f := newFixture(t, rdb, cache.Options{Resilience: cache.Resilience{FailureThreshold: 100}}, 1)
		f.readAll(t)
		must(t, srv.Pause())
		t.Cleanup(func() { _ = srv.Resume() })
		if _, err := f.cache.DeleteTask(context.Background(), f.user.ID, f.tasks[0].ID); err != nil {
			t.Fatal(err)
		}
		must(t, srv.Resume())
		if got := f.titles(t); len(got) != 0 {
			t.Errorf("list %v after the delete", got)
		}
		if got := f.stats(t); got.Total() != 0 {
			t.Errorf("stats %+v after the delete", got)
		}
	})
}

// When the writer never reaches Redis again, another instance serves the old
// entry for at most TTL (UserTTL for user records).
func TestMissedInvalidationIsBoundedByTTL(t *testing.T) {
	srv, rdb, _ := startRedis(t)
	clock := newFakeClock()
	ns := uniqueNamespace()
	writer := newFixture(t, rdb, cache.Options{Namespace: ns, Resilience: cache.Resilience{FailureThreshold: 1, Cooldown: time.Hour}}, 1)
	other := &fixture{inner: writer.inner, user: writer.user, tasks: writer.tasks,
		cache: cache.New(writer.inner, rdb, cache.Options{Namespace: ns, TTL: time.Minute, UserTTL: 30 * time.Second, Now: clock.Now})}
	other.readAll(t)
	must(t, srv.Pause())
	writer.getUser(t) // opens the writer's breaker for good, once the judge's PING fails
	if s := waitBreakerOpen(writer.cache); s == "closed" {
		t.Fatalf("breaker %s with Redis hung", s)
	}
	must(t, srv.Resume())
	if _, err := writer.cache.UpdateTask(context.Background(), writer.user.ID, writer.tasks[0].ID, core.TaskPatch{Title: ptr[core.Title]("changed"), UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := writer.cache.UpdateUser(context.Background(), writer.user.ID, core.UserPatch{ActivationStatus: ptr(core.ActivationInactive)}); err != nil {
		t.Fatal(err)
	}
	if got := other.titles(t); got[0] != "task 0/pending" {
		t.Fatalf("other instance: %v; expected the old entry (the writer never told Redis)", got)
	}
	clock.Advance(30 * time.Second)
	if other.getUser(t).IsActive() {
		t.Error("deactivation not seen after UserTTL")
	}
	clock.Advance(30 * time.Second)
	if got := other.titles(t); got[0] != "changed/pending" {
		t.Errorf("other instance after TTL: %v, want the write", got)
	}
}

func TestBreakerIgnoresCallersThatGiveUp(t *testing.T) {
	_, rdb, sent := startRedis(t)
	f := newFixture(t, rdb, cache.Options{Resilience: cache.Resilience{FailureThreshold: 1}}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 3 {
		if _, _, err := f.cache.ListTasks(ctx, f.user.ID, firstPage); err == nil {
			t.Error("ListTasks with a canceled context succeeded")
		}
	}
	if n := sent.n.Load(); n != 0 {
		t.Errorf("%d commands sent for a canceled request", n)
	}
	f.readAll(t)
	if s := f.cache.BreakerState(); s != "closed" {
		t.Errorf("breaker %s after canceled requests, want closed", s)
	}
}

func TestRedisNeverReachableStillServes(t *testing.T) {
	rdb := redis.NewClient(cache.ClientOptions(deadAddr(t)))
	t.Cleanup(func() { _ = rdb.Close() })
	f := newFixture(t, rdb, cache.Options{}, 2)
	ctx := context.Background()
	for range 10 {
		f.readAll(t)
	}
	if err := f.cache.CreateTask(ctx, storetest.NewTask(t, f.user.ID, "x"), 0); err != nil {
		t.Fatal(err)
	}
	if got := f.titles(t); len(got) != 3 {
		t.Errorf("list %v, want 3 tasks", got)
	}
	if s := f.cache.BreakerState(); s != "open" {
		t.Errorf("breaker %s, want open", s)
	}
}

// waitBreakerOpen waits until c's breaker has left the closed state (a
// timeout is judged by a PING within cache.JudgeTimeout) and returns its
// state.
func waitBreakerOpen(c *cache.Store) string {
	deadline := time.Now().Add(cache.JudgeTimeout + time.Second)
	for c.BreakerState() == "closed" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return c.BreakerState()
}

// TestBreakerStaysClosedOnABusyHost saturates this process's CPU (spinning
// goroutines beside 64 concurrent readers: more runnable goroutines than
// the scheduler serves within a command's 100 ms deadline) while Redis is
// healthy. Commands time out on the host's account, and the breaker, which
// judges Redis by a PING, must stay closed. Before, five timeouts in a row
// opened it and sent every read to the store for the cooldown (this test
// failed so).
func TestBreakerStaysClosedOnABusyHost(t *testing.T) {
	_, rdb, _ := startRedis(t)
	logs := &logBuffer{}
	f := newFixture(t, rdb, cache.Options{Resilience: cache.Resilience{Logger: newLogger(logs)}}, 3)
	f.readAll(t)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for range 2 * runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for ctx.Err() == nil { // spin
			}
		})
	}
	var reads atomic.Int64
	for range 64 {
		wg.Go(func() {
			for ctx.Err() == nil {
				if _, err := f.cache.GetUser(context.Background(), f.user.ID); err != nil {
					t.Errorf("GetUser: %v", err)
					return
				}
				reads.Add(1)
			}
		})
	}
	wg.Wait()
	t.Logf("%d reads with the CPU saturated", reads.Load())
	if n := logs.count("circuit breaker opened"); n != 0 {
		t.Errorf("the breaker opened %d times with Redis healthy: %v", n, logs.lines())
	}
	if s := f.cache.BreakerState(); s != "closed" {
		t.Errorf("breaker %s after the load, want closed", s)
	}
}
