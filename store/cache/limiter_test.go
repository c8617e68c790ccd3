package cache_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/ratelimit"
	"github.com/taskapi/taskapi/store/cache"
)

func TestRateCounter(t *testing.T) {
	_, rdb, _ := startRedis(t)
	ctx := context.Background()
	ten := core.Rate{N: 10, Per: 15 * time.Minute}

	t.Run("TheEleventhEventWaits", func(t *testing.T) {
		c := cache.NewRateCounter(rdb, cache.LimiterOptions{Namespace: uniqueNamespace(), Fallback: ratelimit.NewLocal(0)})
		for i := range 10 {
			if wait := c.Allow(ctx, "k", ten); wait != 0 {
				t.Fatalf("event %d waits %v, want 0", i+1, wait)
			}
		}
		if wait := c.Allow(ctx, "k", ten); wait <= 0 || wait > 90*time.Second+time.Second {
			t.Errorf("event 11 waits %v, want about 90s (one back every Per/N)", wait)
		}
		if wait := c.Allow(ctx, "other", ten); wait != 0 {
			t.Errorf("another key waits %v", wait)
		}
	})

	t.Run("CountsAreSharedByInstances", func(t *testing.T) {
		ns := uniqueNamespace()
		a := cache.NewRateCounter(rdb, cache.LimiterOptions{Namespace: ns, Fallback: ratelimit.NewLocal(0)})
		b := cache.NewRateCounter(rdb, cache.LimiterOptions{Namespace: ns, Fallback: ratelimit.NewLocal(0)})
		for range 5 {
			a.Allow(ctx, "k", ten)
			b.Allow(ctx, "k", ten)
		}
		if a.Allow(ctx, "k", ten) == 0 || b.Allow(ctx, "k", ten) == 0 {
			t.Error("ten events on two instances did not reach the limit")
		}
	})

	t.Run("NoKeyIsStoredInClearAndEachExpires", func(t *testing.T) {
		ns := uniqueNamespace()
		c := cache.NewRateCounter(rdb, cache.LimiterOptions{Namespace: ns, Fallback: ratelimit.NewLocal(0)})
		c.Allow(ctx, "login-account:203.0.113.9 secret.person@example.com", ten)
		keys, err := rdb.Keys(ctx, "rate:"+ns+":*").Result() // redis_rate puts "rate:" first
		if err != nil || len(keys) != 1 {
			t.Fatalf("keys = %v, %v; want 1", keys, err)
		}
		if strings.Contains(keys[0], "secret") || strings.Contains(keys[0], "203.0") {
			t.Errorf("key %q names its email or address", keys[0])
		}
		if ttl, _ := rdb.PTTL(ctx, keys[0]).Result(); ttl <= 0 || ttl > 15*time.Minute {
			t.Errorf("key lives %v, want bounded by the window", ttl)
		}
		if !strings.HasPrefix(cache.DefaultLimiterNamespace, "taskapi-rl") || strings.HasPrefix(cache.DefaultLimiterNamespace, cache.DefaultNamespace) {
			t.Errorf("namespace %q is not the limits' own", cache.DefaultLimiterNamespace)
		}
	})

	// Redis down or hung: the instance's own counts decide, quickly; never
	// everything allowed.
	t.Run("RedisDownFallsBackToLocalCounts", func(t *testing.T) {
		dead := redis.NewClient(cache.ClientOptions(deadAddr(t)))
		t.Cleanup(func() { _ = dead.Close() })
		c := cache.NewRateCounter(dead, cache.LimiterOptions{Fallback: ratelimit.NewLocal(0)})
		for i := range 10 {
			start := time.Now()
			if wait := c.Allow(ctx, "k", ten); wait != 0 {
				t.Fatalf("event %d waits %v", i+1, wait)
			}
			if d := time.Since(start); d > requestBound {
				t.Errorf("event %d took %v", i+1, d)
			}
		}
		if c.Allow(ctx, "k", ten) == 0 {
			t.Fatal("with Redis down, the limit let an eleventh event through")
		}
	})
	t.Run("RedisHungFallsBackToLocalCounts", func(t *testing.T) {
		srv, rdb, _ := startRedis(t)
		c := cache.NewRateCounter(rdb, cache.LimiterOptions{Namespace: uniqueNamespace(), Fallback: ratelimit.NewLocal(0)})
		c.Allow(ctx, "k", ten) // counted in Redis and locally
		if err := srv.Pause(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = srv.Resume() })
		for i := range 9 {
			start := time.Now()
			if wait := c.Allow(ctx, "k", ten); wait != 0 {
				t.Fatalf("event %d waits %v", i+2, wait)
			}
			if d := time.Since(start); d > requestBound {
				t.Errorf("event %d took %v", i+2, d)
			}
		}
		if c.Allow(ctx, "k", ten) == 0 {
			t.Fatal("with Redis hung, the limit let an eleventh event through")
		}
	})

	// Counts Redis lost (flushed, restarted empty, evicted) still bound
	// what one instance lets through.
	t.Run("CountsRedisLostStillHoldPerInstance", func(t *testing.T) {
		c := cache.NewRateCounter(rdb, cache.LimiterOptions{Namespace: uniqueNamespace(), Fallback: ratelimit.NewLocal(0)})
		for range 10 {
			c.Allow(ctx, "lost", ten)
		}
		if err := rdb.FlushAll(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		if c.Allow(ctx, "lost", ten) == 0 {
			t.Fatal("after Redis lost its counts, the instance let an eleventh event through")
		}
	})
}
