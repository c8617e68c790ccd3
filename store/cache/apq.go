package cache

import (
	"context"
	"log/slog"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/redis/go-redis/v9"
)

// DefaultAPQTTL is a sensible ttl for NewAPQ: clients resend a query whose
// hash was forgotten, so a short life only costs one round trip.
const DefaultAPQTTL = 24 * time.Hour

// maxAPQQueryBytes skips storing larger queries (clients then always send
// them in full).
const maxAPQQueryBytes = 64 << 10

// APQ is gqlgen's Automatic Persisted Queries cache in Redis, shared by
// every instance: query text by its SHA-256. Every failure is a miss, and
// the client resends the full query.
type APQ struct {
	rdb redis.UniversalClient
	g   *guard
	ns  string
	ttl time.Duration
}

var _ graphql.Cache[string] = (*APQ)(nil)

// NewAPQ returns an APQ cache on rdb keeping queries for ttl
// (DefaultAPQTTL if ttl <= 0) under DefaultNamespace; log (nil discards)
// gets one line per circuit breaker state change.
func NewAPQ(rdb redis.UniversalClient, ttl time.Duration, log *slog.Logger) *APQ {
	if ttl <= 0 {
		ttl = DefaultAPQTTL
	}
	return &APQ{rdb: rdb, g: newGuard("apq", Resilience{Logger: log}), ns: DefaultNamespace, ttl: ttl}
}

// Get returns the query stored under hash, if Redis has it and answers.
func (a *APQ) Get(ctx context.Context, hash string) (string, bool) {
	if !apqHash(hash) {
		return "", false
	}
	var q string
	err := a.g.do(ctx, func(ctx context.Context) (err error) {
		q, err = a.rdb.Get(ctx, a.ns+":apq:"+hash).Result()
		return err
	})
	return q, err == nil
}

// Add stores query under hash (gqlgen has checked that hash is its SHA-256).
func (a *APQ) Add(ctx context.Context, hash, query string) {
	if !apqHash(hash) || len(query) > maxAPQQueryBytes {
		return
	}
	_ = a.g.do(ctx, func(ctx context.Context) error {
		return a.rdb.Set(ctx, a.ns+":apq:"+hash, query, a.ttl).Err()
	})
}

// apqHash accepts a lowercase hex SHA-256, the only key gqlgen uses.
func apqHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for _, c := range []byte(h) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
