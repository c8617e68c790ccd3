package cache_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskapi/taskapi/store/cache"
)

const apqQuery = "query ListTasks { tasks { edges { node { id title } } } }"

func apqHashOf(q string) string {
	b := sha256.Sum256([]byte(q))
	return hex.EncodeToString(b[:])
}

func TestAPQ(t *testing.T) {
	_, rdb, _ := startRedis(t)
	ctx := context.Background()
	ns := func(t *testing.T) string { return "apq-test:" + t.Name() }

	t.Run("StoredQueriesAreSharedByInstances", func(t *testing.T) {
		apq := cache.NewAPQ(rdb, cache.APQOptions{Namespace: ns(t)})
		other := cache.NewAPQ(rdb, cache.APQOptions{Namespace: ns(t)})
		h := apqHashOf(apqQuery)
		if _, ok := apq.Get(ctx, h); ok {
			t.Fatal("an unknown hash hit")
		}
		apq.Add(ctx, h, apqQuery)
		if got, ok := other.Get(ctx, h); !ok || got != apqQuery {
			t.Fatalf("another instance got %q, %v", got, ok)
		}
	})

	t.Run("EntriesExpireAndLiveInTheirOwnNamespace", func(t *testing.T) {
		apq := cache.NewAPQ(rdb, cache.APQOptions{TTL: 30 * time.Second})
		h := apqHashOf(apqQuery + t.Name())
		apq.Add(ctx, h, apqQuery+t.Name())
		ttl, err := rdb.PTTL(ctx, cache.DefaultAPQNamespace+":q:"+h).Result()
		if err != nil || ttl <= 0 || ttl > 30*time.Second {
			t.Errorf("PTTL = %v, %v; want within 30s", ttl, err)
		}
		if !strings.HasPrefix(cache.DefaultAPQNamespace, "taskapi-apq") || strings.HasPrefix(cache.DefaultAPQNamespace, cache.DefaultNamespace) {
			t.Errorf("namespace %q is not the persisted queries' own", cache.DefaultAPQNamespace)
		}
	})

	t.Run("AtMostMaxQueriesPerTTL", func(t *testing.T) {
		apq := cache.NewAPQ(rdb, cache.APQOptions{Namespace: ns(t), MaxQueries: 10, TTL: time.Hour})
		for i := range 50 {
			q := fmt.Sprintf("{ a%d: __typename }", i)
			apq.Add(ctx, apqHashOf(q), q)
		}
		keys, err := rdb.Keys(ctx, ns(t)+":q:*").Result()
		if err != nil || len(keys) != 10 {
			t.Fatalf("%d queries stored (%v), want 10", len(keys), err)
		}
	})

	t.Run("MalformedHashesMissWithoutAskingRedis", func(t *testing.T) {
		_, rdb, sent := startRedis(t)
		apq := cache.NewAPQ(rdb, cache.APQOptions{})
		for _, h := range []string{"", "abc", strings.ToUpper(apqHashOf(apqQuery)), apqHashOf(apqQuery) + "0", strings.Repeat("g", 64)} {
			apq.Add(ctx, h, apqQuery)
			if _, ok := apq.Get(ctx, h); ok {
				t.Errorf("Get(%q) hit", h)
			}
		}
		if n := sent.n.Load(); n != 0 {
			t.Errorf("%d commands sent for malformed hashes", n)
		}
	})

	t.Run("LargeQueriesAreNotStored", func(t *testing.T) {
		apq := cache.NewAPQ(rdb, cache.APQOptions{Namespace: ns(t)})
		q := apqQuery + strings.Repeat(" ", cache.DefaultAPQMaxBytes)
		apq.Add(ctx, apqHashOf(q), q)
		if _, ok := apq.Get(ctx, apqHashOf(q)); ok {
			t.Error("a query over 8 KiB was stored")
		}
	})

	t.Run("RedisDownIsAMissQuickly", func(t *testing.T) {
		dead := redis.NewClient(cache.ClientOptions(deadAddr(t)))
		t.Cleanup(func() { _ = dead.Close() })
		apq := cache.NewAPQ(dead, cache.APQOptions{})
		h := apqHashOf(apqQuery)
		for range 10 {
			start := time.Now()
			apq.Add(ctx, h, apqQuery)
			if _, ok := apq.Get(ctx, h); ok {
				t.Fatal("hit with Redis down")
			}
			if d := time.Since(start); d > requestBound {
				t.Errorf("took %v", d)
			}
		}
	})
}
