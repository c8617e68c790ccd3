package cache_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/redis/go-redis/v9"

	"github.com/taskapi/taskapi/store/cache"
)

const apqQuery = "query ListTasks { tasks { edges { node { id title } } } }"

func apqHashOf(q string) string {
	b := sha256.Sum256([]byte(q))
	return hex.EncodeToString(b[:])
}

// apqRequest runs gqlgen's APQ extension on one request and returns the
// query it resolved, or its error message.
func apqRequest(t *testing.T, c graphql.Cache[string], query, hash string) (string, string) {
	t.Helper()
	ctx := graphql.WithOperationContext(context.Background(), &graphql.OperationContext{})
	p := &graphql.RawParams{
		Query:      query,
		Extensions: map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}},
	}
	if err := (extension.AutomaticPersistedQuery{Cache: c}).MutateOperationParameters(ctx, p); err != nil {
		return "", err.Message
	}
	return p.Query, ""
}

func TestAPQ(t *testing.T) {
	_, rdb, _ := startRedis(t)
	hash := apqHashOf(apqQuery)

	t.Run("HashAloneIsNotFoundUntilTheQueryWasSent", func(t *testing.T) {
		apq := cache.NewAPQ(rdb, time.Minute, nil)
		other := cache.NewAPQ(rdb, time.Minute, nil) // another instance
		q := apqQuery + " # " + t.Name()
		h := apqHashOf(q)
		if _, msg := apqRequest(t, apq, "", h); msg != "PersistedQueryNotFound" {
			t.Fatalf("unknown hash: %q, want PersistedQueryNotFound", msg)
		}
		if got, msg := apqRequest(t, apq, q, h); msg != "" || got != q {
			t.Fatalf("query with hash: %q, %q", got, msg)
		}
		if got, msg := apqRequest(t, other, "", h); msg != "" || got != q {
			t.Errorf("hash alone on another instance: %q, %q; want the query", got, msg)
		}
	})

	t.Run("EntriesExpire", func(t *testing.T) {
		apq := cache.NewAPQ(rdb, 30*time.Second, nil)
		apq.Add(context.Background(), hash, apqQuery)
		ttl, err := rdb.PTTL(context.Background(), cache.DefaultNamespace+":apq:"+hash).Result()
		if err != nil || ttl <= 0 || ttl > 30*time.Second {
			t.Errorf("PTTL = %v, %v; want within 30s", ttl, err)
		}
	})

	t.Run("WrongHashIsRefusedAndNotStored", func(t *testing.T) {
		apq := cache.NewAPQ(rdb, time.Minute, nil)
		bogus := strings.Repeat("0", 64)
		if _, msg := apqRequest(t, apq, apqQuery, bogus); msg == "" {
			t.Fatal("a query with a hash not its own was accepted")
		}
		if _, ok := apq.Get(context.Background(), bogus); ok {
			t.Error("the mismatched query was stored")
		}
	})

	t.Run("MalformedHashesMissWithoutAskingRedis", func(t *testing.T) {
		_, rdb, sent := startRedis(t)
		apq := cache.NewAPQ(rdb, time.Minute, nil)
		for _, h := range []string{"", "abc", strings.ToUpper(hash), hash + "0", strings.Repeat("g", 64)} {
			apq.Add(context.Background(), h, apqQuery)
			if _, ok := apq.Get(context.Background(), h); ok {
				t.Errorf("Get(%q) hit", h)
			}
		}
		if n := sent.n.Load(); n != 0 {
			t.Errorf("%d commands sent for malformed hashes", n)
		}
	})

	t.Run("HugeQueriesAreNotStored", func(t *testing.T) {
		apq := cache.NewAPQ(rdb, time.Minute, nil)
		q := apqQuery + strings.Repeat(" ", 100<<10)
		apq.Add(context.Background(), apqHashOf(q), q)
		if _, ok := apq.Get(context.Background(), apqHashOf(q)); ok {
			t.Error("a 100 KiB query was stored")
		}
	})

	t.Run("RedisDownIsAMissAndTheFullQueryStillWorks", func(t *testing.T) {
		dead := redis.NewClient(cache.ClientOptions(deadAddr(t)))
		t.Cleanup(func() { _ = dead.Close() })
		apq := cache.NewAPQ(dead, time.Minute, nil)
		for range 10 {
			start := time.Now()
			if _, msg := apqRequest(t, apq, "", hash); msg != "PersistedQueryNotFound" {
				t.Fatalf("hash alone with Redis down: %q, want PersistedQueryNotFound", msg)
			}
			if got, msg := apqRequest(t, apq, apqQuery, hash); msg != "" || got != apqQuery {
				t.Fatalf("full query with Redis down: %q, %q", got, msg)
			}
			if d := time.Since(start); d > requestBound {
				t.Errorf("took %v", d)
			}
		}
	})
}
