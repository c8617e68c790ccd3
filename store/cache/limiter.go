package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/taskapi/taskapi/core"
)

// DefaultLimiterNamespace names the keys of the rate limits, apart from
// the cache's (DefaultNamespace) and the persisted queries'
// (DefaultAPQNamespace); redis_rate puts "rate:" before it, so they start
// with "rate:taskapi-rl:". Rate-limit keys must never be evicted while they
// count (docs/cache.md: the Redis eviction policy).
const DefaultLimiterNamespace = "taskapi-rl"

// LimiterOptions configures a RateCounter.
type LimiterOptions struct {
	// Namespace starts every key (DefaultLimiterNamespace).
	Namespace string
	// Fallback counts while Redis cannot answer (down, hung, breaker
	// open); required.
	Fallback core.RateCounter
	// Resilience bounds what Redis failures cost.
	Resilience
}

// RateCounter is core.RateCounter in Redis (github.com/go-redis/redis_rate:
// GCRA in a Lua script), so every instance shares the counts. Its Fallback
// (in process, ratelimit.Local) counts too, every event Redis allows: while
// Redis cannot answer (down, hung, breaker open) the Fallback decides
// alone, so the limits hold per instance rather than not at all; and an
// event Redis allows but the instance's own counts refuse is refused, so
// counts Redis lost (a restart, a flush) still bound what one instance
// lets through.
type RateCounter struct {
	rl       *redis_rate.Limiter
	g        *guard
	ns       string
	fallback core.RateCounter
}

var _ core.RateCounter = (*RateCounter)(nil)

// NewRateCounter returns a RateCounter on rdb.
func NewRateCounter(rdb redis.UniversalClient, o LimiterOptions) *RateCounter {
	if o.Namespace == "" {
		o.Namespace = DefaultLimiterNamespace
	}
	if o.Fallback == nil {
		panic("cache.NewRateCounter: LimiterOptions.Fallback is required")
	}
	return &RateCounter{rl: redis_rate.NewLimiter(rdb), g: newGuard("rate-limiter", o.Resilience, pinger(rdb)), ns: o.Namespace, fallback: o.Fallback}
}

// Allow counts one event for key under r. Keys are stored hashed, so no
// email or address appears in Redis.
func (c *RateCounter) Allow(ctx context.Context, key string, r core.Rate) time.Duration {
	if r.Unlimited() {
		return 0
	}
	sum := sha256.Sum256([]byte(strconv.Itoa(r.N) + "/" + r.Per.String() + " " + key))
	rk := c.ns + ":" + hex.EncodeToString(sum[:16])
	var res *redis_rate.Result
	err := c.g.do(ctx, func(ctx context.Context) (err error) {
		res, err = c.rl.Allow(ctx, rk, redis_rate.Limit{Rate: r.N, Burst: r.N, Period: r.Per})
		return err
	})
	if err == nil && res.Allowed == 0 {
		return max(res.RetryAfter, time.Nanosecond)
	}
	return c.fallback.Allow(ctx, key, r)
}
