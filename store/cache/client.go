package cache

import (
	"time"

	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"
)

// ClientOptions returns go-redis options for addr ("host:port") tuned for a
// cache on the request path: a dead or hung Redis costs each command at
// most about DefaultTimeout, never a retry loop. Set TLSConfig, Username
// and Password on the result as the deployment needs, then
// redis.NewClient(opts).
func ClientOptions(addr string) *redis.Options {
	const t = 100 * time.Millisecond
	return &redis.Options{
		Addr:                  addr,
		DialTimeout:           t,
		DialerRetries:         1, // one dial attempt (the default is 5, 100 ms apart)
		ReadTimeout:           t,
		WriteTimeout:          t,
		ContextTimeoutEnabled: true, // the per-command deadlines of this package apply
		MaxRetries:            -1,   // no retries: a failed command falls back to the store
		PoolTimeout:           t,    // do not queue behind a stuck pool
		ConnMaxIdleTime:       5 * time.Minute,
		// RESP2: the cache needs none of RESP3's push messages, and with
		// RESP3 the client checks for them around every command.
		Protocol: 2,
	}
}

// Instrument makes a span of each Redis command and pipeline of rdb
// (redisotel), under the request's span. The command's text is left out
// (WithDBStatement(false)): it holds keys and cached records, and a user
// record holds an email. So is the caller's code location, a
// runtime.Callers walk per command.
func Instrument(rdb *redis.Client, tp trace.TracerProvider) error {
	return redisotel.InstrumentTracing(rdb, redisotel.WithTracerProvider(tp),
		redisotel.WithDBStatement(false), redisotel.WithCallerEnabled(false))
}
