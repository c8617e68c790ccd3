package cache_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/redis/go-redis/v9"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/store/cache"
)

func allow(t *testing.T, l *cache.LoginLimiter, keys ...string) time.Duration {
	t.Helper()
	wait, err := l.Allow(context.Background(), keys...)
	if err != nil {
		t.Fatalf("Allow(%q): %v", keys, err)
	}
	return wait
}

func TestLoginLimiter(t *testing.T) {
	_, rdb, _ := startRedis(t)

	t.Run("EleventhAttemptOnAnEmailWaits", func(t *testing.T) {
		l := cache.NewLoginLimiter(rdb, cache.LimiterOptions{Namespace: uniqueNamespace()})
		for i := range 10 {
			if wait := allow(t, l, "email:ann@example.com", "ip:192.0.2.1"); wait != 0 {
				t.Fatalf("attempt %d must wait %v, want 0", i+1, wait)
			}
		}
		wait := allow(t, l, "email:ann@example.com", "ip:192.0.2.1")
		if wait <= 0 || wait > 15*time.Minute || wait%time.Second != 0 {
			t.Errorf("attempt 11 must wait %v, want whole seconds in (0, 15m]", wait)
		}
		if wait := allow(t, l, "email:bob@example.com", "ip:192.0.2.1"); wait != 0 {
			t.Errorf("another email must wait %v, want 0", wait)
		}
	})

	t.Run("ManyEmailsFromOneAddressHitTheAddressLimit", func(t *testing.T) {
		l := cache.NewLoginLimiter(rdb, cache.LimiterOptions{Namespace: uniqueNamespace()})
		for i := range 50 {
			if wait := allow(t, l, "email:user"+strings.Repeat("x", i)+"@example.com", "ip:198.51.100.7"); wait != 0 {
				t.Fatalf("attempt %d must wait %v, want 0", i+1, wait)
			}
		}
		if wait := allow(t, l, "email:fresh@example.com", "ip:198.51.100.7"); wait <= 0 {
			t.Error("attempt 51 from one address was not limited")
		}
		if wait := allow(t, l, "email:fresh@example.com", "ip:198.51.100.8"); wait != 0 {
			t.Errorf("another address must wait %v, want 0", wait)
		}
	})

	t.Run("ConfiguredLimitsApply", func(t *testing.T) {
		l := cache.NewLoginLimiter(rdb, cache.LimiterOptions{
			Namespace: uniqueNamespace(),
			Limits:    map[string]cache.Limit{"email": {Attempts: 2, Window: time.Minute}},
		})
		allow(t, l, "email:c@example.com")
		allow(t, l, "email:c@example.com")
		wait := allow(t, l, "email:c@example.com")
		if wait < 29*time.Second || wait > 31*time.Second {
			t.Errorf("wait %v, want about 30s (one attempt back every Window/Attempts)", wait)
		}
	})

	t.Run("NoEmailOrAddressIsStoredInRedis", func(t *testing.T) {
		ns := uniqueNamespace()
		l := cache.NewLoginLimiter(rdb, cache.LimiterOptions{Namespace: ns})
		allow(t, l, "email:secret.person@example.com", "ip:203.0.113.9")
		keys, err := rdb.Keys(context.Background(), "*"+ns+"*").Result()
		if err != nil || len(keys) != 2 {
			t.Fatalf("keys = %v, %v; want 2", keys, err)
		}
		for _, k := range keys {
			if strings.Contains(k, "secret") || strings.Contains(k, "203.0") {
				t.Errorf("key %q names its email or address", k)
			}
			if ttl, _ := rdb.PTTL(context.Background(), k).Result(); ttl <= 0 || ttl > 15*time.Minute {
				t.Errorf("key %q lives %v, want bounded by the window", k, ttl)
			}
		}
	})

	t.Run("RedisDownIsAnErrorQuickly", func(t *testing.T) {
		dead := redis.NewClient(cache.ClientOptions(deadAddr(t)))
		t.Cleanup(func() { _ = dead.Close() })
		l := cache.NewLoginLimiter(dead, cache.LimiterOptions{})
		for i := range 10 {
			start := time.Now()
			_, err := l.Allow(context.Background(), "email:a@example.com")
			if err == nil {
				t.Fatalf("attempt %d: no error with Redis down", i)
			}
			if d := time.Since(start); d > requestBound {
				t.Errorf("attempt %d took %v", i, d)
			}
			if i >= cache.DefaultFailureThreshold && !errors.Is(err, cache.ErrUnavailable) {
				t.Errorf("attempt %d: %v, want the breaker's ErrUnavailable", i, err)
			}
		}
	})
}

// Through core.Service: the limit answers CodeRateLimited with a Retry-After,
// and a dead Redis lets logins through.
func TestLoginLimiterInService(t *testing.T) {
	_, rdb, _ := startRedis(t)
	dead := redis.NewClient(cache.ClientOptions(deadAddr(t)))
	t.Cleanup(func() { _ = dead.Close() })
	tests := []struct {
		name    string
		limiter *cache.LoginLimiter
		want    error
	}{
		{"RateLimitedAfterTheLimit", cache.NewLoginLimiter(rdb, cache.LimiterOptions{Namespace: uniqueNamespace()}), core.ErrRateLimited},
		{"RedisDownLetsTheAttemptThrough", cache.NewLoginLimiter(dead, cache.LimiterOptions{}), core.ErrUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := core.NewService(core.Config{
				Store:        openEmbedded(t),
				Hasher:       core.NewHasher("pepper", &argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}, 2),
				Tokens:       core.NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Hour, nil),
				CursorSecret: []byte("cursor"),
				Limiter:      tt.limiter,
			})
			ctx := core.WithRequest(context.Background(), "", "192.0.2.44")
			for range 10 {
				if _, err := svc.Login(ctx, "nobody@example.com", "wrong!"); !errors.Is(err, core.ErrUnauthenticated) {
					t.Fatalf("Login = %v, want ErrUnauthenticated", err)
				}
			}
			_, err := svc.Login(ctx, "nobody@example.com", "wrong!")
			if !errors.Is(err, tt.want) {
				t.Fatalf("11th Login = %v, want %v", err, tt.want)
			}
			if e, _ := core.AsError(err); tt.want == core.ErrRateLimited && e.RetryAfter <= 0 {
				t.Errorf("RetryAfter = %v, want > 0", e.RetryAfter)
			}
		})
	}
}
