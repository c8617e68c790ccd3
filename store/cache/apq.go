package cache

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/redis/go-redis/v9"
)

// Defaults of APQOptions.
const (
	// DefaultAPQNamespace starts every key of the persisted queries: apart
	// from the cache's (DefaultNamespace) and the rate limits'
	// (DefaultLimiterNamespace), so each can be told apart, measured and
	// flushed on its own.
	DefaultAPQNamespace = "taskapi-apq"
	// DefaultAPQTTL: clients resend a query whose hash was forgotten, so a
	// short life only costs one round trip.
	DefaultAPQTTL = 24 * time.Hour
	// DefaultAPQMaxQueries is how many new queries may be stored in one
	// TTL: a client needs a few dozen, and anyone can send valid queries,
	// so together with DefaultAPQMaxBytes it bounds what persisted queries
	// can take of Redis (at most two TTLs' worth: 32 MiB).
	DefaultAPQMaxQueries = 2000
	// DefaultAPQMaxBytes: a larger query is not stored (its clients send it
	// in full).
	DefaultAPQMaxBytes = 8 << 10
)

// APQOptions configures an APQ. Zero values take the defaults.
type APQOptions struct {
	Namespace  string
	TTL        time.Duration
	MaxQueries int
	MaxBytes   int
	Logger     *slog.Logger // one line per circuit breaker state change (nil discards)
}

// APQ is the store of Automatic Persisted Queries in Redis, shared by every
// instance: query text by its SHA-256. What to store is the GraphQL
// handler's decision (it stores only queries that validated and carry no
// credentials); APQ bounds how much: at most MaxQueries new queries per TTL,
// each at most MaxBytes. Every failure is a miss, and the client resends the
// full query.
type APQ struct {
	rdb redis.UniversalClient
	g   *guard
	o   APQOptions
	now func() time.Time
}

var _ graphql.Cache[string] = (*APQ)(nil)

// NewAPQ returns an APQ on rdb.
func NewAPQ(rdb redis.UniversalClient, o APQOptions) *APQ {
	if o.Namespace == "" {
		o.Namespace = DefaultAPQNamespace
	}
	if o.TTL <= 0 {
		o.TTL = DefaultAPQTTL
	}
	if o.MaxQueries <= 0 {
		o.MaxQueries = DefaultAPQMaxQueries
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultAPQMaxBytes
	}
	return &APQ{rdb: rdb, g: newGuard("apq", Resilience{Logger: o.Logger}, pinger(rdb)), o: o, now: time.Now}
}

// Get returns the query stored under hash, if Redis has it and answers.
func (a *APQ) Get(ctx context.Context, hash string) (string, bool) {
	if !apqHash(hash) {
		return "", false
	}
	var q string
	err := a.g.do(ctx, func(ctx context.Context) (err error) {
		q, err = a.rdb.Get(ctx, a.key(hash)).Result()
		return err
	})
	return q, err == nil
}

// Add stores query under hash (the caller has checked that hash is its
// SHA-256), unless it is too large or this TTL's count of new queries is
// reached.
func (a *APQ) Add(ctx context.Context, hash, query string) {
	if !apqHash(hash) || len(query) > a.o.MaxBytes {
		return
	}
	_ = a.g.do(ctx, func(ctx context.Context) error {
		// One counter per TTL-long window: at most MaxQueries are added in
		// each, and each lives one TTL, so at most twice that many exist.
		counter := a.o.Namespace + ":count:" + strconv.FormatInt(a.now().UnixNano()/int64(a.o.TTL), 10)
		var n *redis.IntCmd
		if _, err := a.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			n = p.Incr(ctx, counter)
			p.ExpireNX(ctx, counter, 2*a.o.TTL)
			return nil
		}); err != nil {
			return err
		}
		if n.Val() > int64(a.o.MaxQueries) {
			return nil
		}
		return a.rdb.Set(ctx, a.key(hash), query, a.o.TTL).Err()
	})
}

func (a *APQ) key(hash string) string { return a.o.Namespace + ":q:" + hash }

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
