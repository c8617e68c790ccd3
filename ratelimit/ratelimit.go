// Package ratelimit keeps rate-limit counts in process: core.RateCounter
// for a single process (the embedded store's zero configuration), and the
// fallback of the Redis counter (store/cache) while Redis cannot answer.
package ratelimit

import (
	"context"
	"strconv"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"

	"github.com/taskapi/taskapi/core"
)

// DefaultKeys is how many keys a Local counter keeps by default: about
// 20 MB when full.
const DefaultKeys = 100_000

// Local is core.RateCounter in process: a token bucket
// (golang.org/x/time/rate) per key, in a least-recently-used set of at most
// a fixed number of keys, so a flood of distinct keys costs bounded memory.
// Forgetting a key forgets only counts no one has touched for the longest:
// a key in use, such as the address of someone guessing passwords, stays.
type Local struct {
	keys *lru.Cache[string, *rate.Limiter]
	mu   sync.Mutex // makes get-or-create atomic
	now  func() time.Time
}

var _ core.RateCounter = (*Local)(nil)

// NewLocal returns a Local counter keeping at most keys keys (DefaultKeys
// if keys <= 0).
func NewLocal(keys int) *Local {
	if keys <= 0 {
		keys = DefaultKeys
	}
	c, _ := lru.New[string, *rate.Limiter](keys) // only fails for a size <= 0
	return &Local{keys: c, now: time.Now}
}

// Allow records one event for key if r allows it now, and returns 0;
// otherwise it records nothing and returns how long until r would allow it.
func (l *Local) Allow(_ context.Context, key string, r core.Rate) time.Duration {
	if r.Unlimited() {
		return 0
	}
	key = strconv.Itoa(r.N) + "/" + r.Per.String() + " " + key // a bucket has one rate
	l.mu.Lock()
	lim, ok := l.keys.Get(key)
	if !ok {
		lim = rate.NewLimiter(rate.Limit(float64(r.N)/r.Per.Seconds()), r.N)
		l.keys.Add(key, lim)
	}
	l.mu.Unlock()
	now := l.now()
	res := lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d
	}
	return 0
}

// Len is how many keys l holds.
func (l *Local) Len() int { return l.keys.Len() }
