package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/taskapi/taskapi/core"
)

// Limit allows Attempts per Window for one key: a burst of Attempts, then
// one more every Window/Attempts (GCRA, so no burst at window edges).
type Limit struct {
	Attempts int
	Window   time.Duration
}

// Default login limits, by the kind of key core.Service sends.
var (
	DefaultEmailLimit = Limit{Attempts: 10, Window: 15 * time.Minute}
	DefaultIPLimit    = Limit{Attempts: 50, Window: 15 * time.Minute}
)

// LimiterOptions configures a LoginLimiter. Zero values take the defaults.
type LimiterOptions struct {
	// Namespace starts every key (DefaultNamespace).
	Namespace string
	// Limits by key kind, the part of a key before its first ':' ("email",
	// "ip"); default: email DefaultEmailLimit, ip DefaultIPLimit.
	Limits map[string]Limit
	// Default is the limit of any other kind (DefaultEmailLimit).
	Default Limit
	// Resilience bounds what Redis failures cost.
	Resilience
}

// LoginLimiter is core.LoginLimiter over Redis (github.com/go-redis/redis_rate,
// GCRA in a Lua script), so every instance shares the counts.
type LoginLimiter struct {
	rl     *redis_rate.Limiter
	g      *guard
	ns     string
	limits map[string]Limit
	def    Limit
}

var _ core.LoginLimiter = (*LoginLimiter)(nil)

// NewLoginLimiter returns a LoginLimiter on rdb.
func NewLoginLimiter(rdb redis.UniversalClient, o LimiterOptions) *LoginLimiter {
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.Limits == nil {
		o.Limits = map[string]Limit{"email": DefaultEmailLimit, "ip": DefaultIPLimit}
	}
	if o.Default.Attempts <= 0 || o.Default.Window <= 0 {
		o.Default = DefaultEmailLimit
	}
	return &LoginLimiter{
		rl:     redis_rate.NewLimiter(rdb),
		g:      newGuard("login-limiter", o.Resilience),
		ns:     o.Namespace,
		limits: o.Limits,
		def:    o.Default,
	}
}

// Allow counts one attempt against every key and returns how long to wait
// when any of them is over its limit (0: go ahead). Keys are stored hashed,
// so no email or address appears in Redis. An error means Redis could not
// decide (down, hung, breaker open); core then lets the attempt through.
func (l *LoginLimiter) Allow(ctx context.Context, keys ...string) (time.Duration, error) {
	var wait time.Duration
	for _, key := range keys {
		kind, _, _ := strings.Cut(key, ":")
		lim, ok := l.limits[kind]
		if !ok || lim.Attempts <= 0 || lim.Window <= 0 {
			lim = l.def
		}
		sum := sha256.Sum256([]byte(key))
		rk := l.ns + ":login:" + hex.EncodeToString(sum[:16])
		var res *redis_rate.Result
		err := l.g.do(ctx, func(ctx context.Context) (err error) {
			res, err = l.rl.Allow(ctx, rk, redis_rate.Limit{Rate: lim.Attempts, Burst: lim.Attempts, Period: lim.Window})
			return err
		})
		if err != nil {
			return 0, fmt.Errorf("login limiter: %w", err)
		}
		if res.Allowed == 0 {
			wait = max(wait, res.RetryAfter, time.Nanosecond)
		}
	}
	if r := wait % time.Second; r != 0 {
		wait += time.Second - r // whole seconds, as Retry-After says them
	}
	return wait, nil
}
