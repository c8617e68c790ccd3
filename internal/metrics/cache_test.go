//go:build !lambdaenv

package metrics_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/internal/metrics"
	"github.com/taskapi/taskapi/internal/testenv"
	"github.com/taskapi/taskapi/store/cache"
	"github.com/taskapi/taskapi/store/embedded"
)

// TestCacheMetrics: the cache counts each read where it decides (a miss
// fills, a hit is served, a read while Redis is down bypasses it), and the
// breaker's changes are counted as it opens.
func TestCacheMetrics(t *testing.T) {
	srv := testenv.Redis(t)
	// Deadlines far above what a loaded machine needs: the counts, not the
	// timeouts, are under test.
	o := cache.ClientOptions(srv.Addr())
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = 5*time.Second, 5*time.Second, 5*time.Second, 5*time.Second
	rdb := redis.NewClient(o)
	t.Cleanup(func() { _ = rdb.Close() })
	inner, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inner.Close() })
	m := metrics.New()
	st := cache.New(metrics.Store(inner, m), rdb, cache.Options{
		Namespace:  "metrics-test",
		Resilience: cache.Resilience{Observer: m, FailureThreshold: 2, Cooldown: time.Hour, Timeout: 5 * time.Second},
	})
	ctx := t.Context()
	email, fe := core.ParseEmail("email", "ann@example.com")
	if fe != nil {
		t.Fatal(fe)
	}
	u, err := st.CreateUser(ctx, core.User{ID: "VAH1", Email: email, Role: core.RoleUser, ActivationStatus: core.ActivationActive})
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		name   string
		before func(t *testing.T)
		reads  int
		metric string
		labels map[string]string
		delta  float64
	}{
		{"Miss", nil, 1, "taskapi_cache_reads_total", map[string]string{"result": "miss"}, 1},
		{"Hit", nil, 2, "taskapi_cache_reads_total", map[string]string{"result": "hit"}, 2},
		{"BypassWhileRedisIsDown", func(t *testing.T) {
			if err := srv.Kill(); err != nil {
				t.Fatal(err)
			}
		}, 3, "taskapi_cache_reads_total", map[string]string{"result": "bypass"}, 3},
	} {
		t.Run(step.name, func(t *testing.T) {
			if step.before != nil {
				step.before(t)
			}
			before := value(t, m, step.metric, step.labels)
			for range step.reads {
				if _, err := st.GetUser(ctx, u.ID); err != nil {
					t.Fatal(err)
				}
			}
			if got := value(t, m, step.metric, step.labels) - before; got != step.delta {
				t.Fatalf("%s%v moved by %v, want %v", step.metric, step.labels, got, step.delta)
			}
		})
	}
	// Two failures opened the breaker during the bypassed reads: counted once.
	if got := value(t, m, "taskapi_breaker_state_changes_total", map[string]string{"component": "cache", "state": "open"}); got != 1 {
		t.Fatalf("breaker opened %v times, want 1", got)
	}
}
