package hardening_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/store/cache"
)

// persist is a request that asks the server to persist query (Apollo's
// persistedQuery extension).
func persist(query string, v vars) request {
	sum := sha256.Sum256([]byte(query))
	ext := vars{"persistedQuery": vars{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
	return request{method: http.MethodPost, path: "/graphql", body: jsonBody(nil, vars{"query": query, "variables": v, "extensions": ext})}
}

// redisKeys counts the keys of Redis matching pattern and the bytes they
// take (MEMORY USAGE).
func redisKeys(t testing.TB, rdb *redis.Client, pattern string) (int, int64) {
	t.Helper()
	ctx := context.Background()
	n, size := 0, int64(0)
	iter := rdb.Scan(ctx, 0, pattern, 1000).Iterator()
	for iter.Next(ctx) {
		n++
		b, _ := rdb.MemoryUsage(ctx, iter.Val()).Result()
		size += b
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return n, size
}

// TestFloodsStoreLittle: what an anonymous client can make the server
// store is bounded. Persisted queries are stored only once they validated,
// at most 2000 per day and never with a literal credential (nothing in
// Redis holds the password afterwards); the rate limits' own keys are
// bounded by the limits themselves.
func TestFloodsStoreLittle(t *testing.T) {
	st := openCached(t)
	e := newEnv(t, st)
	victim := e.mustUser(t, "flooded")
	apqKeys := func() int { n, _ := redisKeys(t, st.rdb, "hardening-apq:*:q:*"); return n }

	t.Run("PersistedQueries/InvalidAreNotStored", func(t *testing.T) {
		for i := range 1000 {
			for _, q := range []string{
				fmt.Sprintf("{ nope%d }", i),                                        // invalid
				fmt.Sprintf("{ me { id # %d", i),                                    // unparsable
				"{ " + strings.Repeat("__typename ", 70) + fmt.Sprintf("} # %d", i), // refused by the gate
			} {
				e.from(t, "192.0.2.1", persist(q, nil))
			}
		}
		if n := apqKeys(); n != 0 {
			t.Fatalf("3000 invalid queries stored %d persisted queries", n)
		}
	})
	t.Run("PersistedQueries/AtMost2000", func(t *testing.T) {
		for i := range 2500 {
			r := e.from(t, fmt.Sprintf("192.0.2.%d", i%250), persist(fmt.Sprintf("{ a%d: __typename }", i), nil))
			if r.status != http.StatusOK {
				t.Fatalf("a valid query: %s", r)
			}
		}
		n, size := redisKeys(t, st.rdb, "hardening-apq:*:q:*")
		t.Logf("2500 distinct valid queries: %d persisted, %d bytes in Redis", n, size)
		if n != cache.DefaultAPQMaxQueries {
			t.Fatalf("%d persisted, want %d", n, cache.DefaultAPQMaxQueries)
		}
	})
	t.Run("PersistedQueries/NoCredentialsInRedis", func(t *testing.T) {
		pw := "Pers1st!ed"
		if _, err := e.svc.UpdateUser(e.mustAdmin(t).ctx(), victim.ID, core.UpdateUserInput{Password: &pw}); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			`mutation { login(email: "` + victim.Email + `", password: "` + pw + `") { accessToken } }`,
			`mutation { register(input: {username: "p", email: "persisted@example.com", password: "` + pw + `"}) { id } }`,
		} {
			e.from(t, "192.0.2.9", persist(q, nil))
		}
		ctx := context.Background()
		iter := st.rdb.Scan(ctx, 0, "*", 1000).Iterator()
		for iter.Next(ctx) {
			v, err := st.rdb.Get(ctx, iter.Val()).Result()
			if err == nil && strings.Contains(v, pw) {
				t.Fatalf("Redis key %q holds the password", iter.Val())
			}
		}
	})
	t.Run("RateLimitKeys/Bounded", func(t *testing.T) {
		before, _ := redisKeys(t, st.rdb, "rate:hardening-limiter:*")
		for i := range 500 {
			e.from(t, "192.0.2.77", restLogin(fmt.Sprintf("nobody%d@example.com", i), "Wr0ng!pw"))
		}
		after, size := redisKeys(t, st.rdb, "rate:hardening-limiter:*")
		t.Logf("500 logins at distinct emails from one address: %d rate-limit keys, %d bytes", after-before, size)
		if after-before > 3*500 {
			t.Fatalf("%d keys for 500 attempts", after-before)
		}
	})
}

// TestFloodsCannotEvictRateLimits fills Redis past maxmemory while an
// attacker's address is locked out of an account: with the eviction
// policy ElastiCache's default parameter group has (volatile-lru) the
// limits' keys are evicted along with everything else, and with the one
// docs/cache.md asks for (noeviction) writes fail; either way the
// attacker stays locked out, the instance's own counts holding the limit.
func TestFloodsCannotEvictRateLimits(t *testing.T) {
	for _, policy := range []string{"volatile-lru", "noeviction"} {
		t.Run(policy, func(t *testing.T) {
			st := openCached(t)
			limits := core.DefaultLimits()
			e := newEnv(t, st, withLimits(limits))
			victim := e.mustUser(t, "locked")
			ctx := context.Background()
			n := attempts(t, 30, func(int) reply { return e.from(t, "198.51.100.66", restLogin(victim.Email, "Wr0ng!pw")) })
			if n != limits.LoginAccount.N {
				t.Fatalf("locked out after %d attempts, want %d", n, limits.LoginAccount.N)
			}
			used, err := st.rdb.Info(ctx, "memory").Result()
			if err != nil {
				t.Fatal(err)
			}
			mem := infoInt(used, "used_memory")
			must(t, st.rdb.ConfigSet(ctx, "maxmemory", strconv.FormatInt(mem+(2<<20), 10)).Err())
			must(t, st.rdb.ConfigSet(ctx, "maxmemory-policy", policy).Err())
			// Anything else that fills Redis: 8 MB of expiring values.
			value := strings.Repeat("x", 4<<10)
			failed := 0
			for i := range 2000 {
				if err := st.rdb.Set(ctx, fmt.Sprintf("hardening:flood:%d", i), value, time.Hour).Err(); err != nil {
					failed++
				}
			}
			stats, _ := st.rdb.Info(ctx, "stats").Result()
			limitKeys, _ := redisKeys(t, st.rdb, "rate:hardening-limiter:*")
			t.Logf("%s: %d of 2000 writes refused, %d keys evicted, %d rate-limit keys left in Redis", policy, failed, infoInt(stats, "evicted_keys"), limitKeys)
			for range 3 {
				if !limited(t, e.from(t, "198.51.100.66", restLogin(victim.Email, password))) {
					t.Fatal("after the flood, the locked-out address got in")
				}
			}
			if r := e.from(t, "198.51.100.67", restLogin(victim.Email, password)); r.status != http.StatusOK {
				t.Fatalf("the owner after the flood: %s", r)
			}
		})
	}
}

func infoInt(info, field string) int64 {
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
