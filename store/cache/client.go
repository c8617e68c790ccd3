package cache

import (
	"time"

	"github.com/redis/go-redis/v9"
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
