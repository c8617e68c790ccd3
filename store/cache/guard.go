package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"
)

// Defaults shared by the cache, the login limiter and the APQ cache.
const (
	DefaultNamespace        = "taskapi:v3" // v2: users carry their sessions; v3: tasks their due dates (codec.go)
	DefaultTimeout          = 100 * time.Millisecond
	DefaultFailureThreshold = 5
	DefaultCooldown         = 5 * time.Second
)

// ErrUnavailable is returned (wrapped) when Redis was not asked because the
// circuit breaker is open, or a probe is already under way.
var ErrUnavailable = errors.New("redis unavailable (circuit open)")

// Resilience bounds what a slow, hung or dead Redis costs a request.
type Resilience struct {
	// Timeout bounds each Redis command, dial included (DefaultTimeout).
	Timeout time.Duration
	// FailureThreshold consecutive failures open the breaker
	// (DefaultFailureThreshold); while open, Redis is not asked at all.
	FailureThreshold int
	// Cooldown is how long the breaker stays open before one probe request
	// may try Redis again (DefaultCooldown).
	Cooldown time.Duration
	// Logger receives one line per breaker state change; nil discards.
	Logger *slog.Logger
	// Observer is told of every breaker state change and, by the cache,
	// of every read's hit, miss or bypass (internal/metrics); nil: nobody.
	Observer Observer
}

// Observer counts what the cache decides, where it decides it.
type Observer interface {
	// CacheRead: a cached read was a "hit", a "miss" (read from the store
	// and filled) or a "bypass" (read from the store without asking Redis,
	// or after Redis failed).
	CacheRead(result string)
	// BreakerChanged: the breaker of component ("cache", "rate-limiter",
	// "apq") went to state ("open", "half-open", "closed").
	BreakerChanged(component, state string)
}

func (r Resilience) withDefaults() Resilience {
	if r.Timeout <= 0 {
		r.Timeout = DefaultTimeout
	}
	if r.FailureThreshold <= 0 {
		r.FailureThreshold = DefaultFailureThreshold
	}
	if r.Cooldown <= 0 {
		r.Cooldown = DefaultCooldown
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	return r
}

// JudgeTimeout is how long Redis has to answer the PING that judges a
// timed-out command: a Redis that cannot answer it in two seconds is hung,
// whatever the load of the host (a saturated process answers one within a
// second).
const JudgeTimeout = 2 * time.Second

// guard runs Redis commands under a per-command timeout and a circuit
// breaker, and logs each breaker state change once.
//
// The breaker judges Redis, not the host. A refused connection or an error
// reply counts against Redis at once (FailureThreshold in a row open the
// breaker). A timeout does not: on a CPU-saturated process a healthy
// Redis's reply can wait past the 100 ms deadline in the socket buffer, or
// the command behind busy pool connections, and counting those opened the
// breaker under load and sent everything to the store. A timeout starts
// one judge instead, a PING under JudgeTimeout: if it fails the breaker
// opens at once, if it answers Redis was fine and nothing is counted.
// While the judge runs, commands bypass Redis (ErrUnavailable), so a hung
// Redis costs one timeout per command in flight, then a bypass, as an open
// breaker does.
type guard struct {
	timeout time.Duration
	cb      *gobreaker.CircuitBreaker[struct{}]
	ping    func(context.Context) error

	judging atomic.Bool // a timeout is being judged: bypass Redis
	hung    atomic.Bool // the judge found Redis unresponsive: trip now

	mu      sync.Mutex
	lastErr error // the latest failure, for the "open" log line
}

// callerGone marks an error caused by the caller's own context ending: it
// says nothing about Redis, so the breaker ignores it.
type callerGone struct{ err error }

func (e callerGone) Error() string { return e.err.Error() }
func (e callerGone) Unwrap() error { return e.err }

// timedOut marks a command that ran out of time: the judge, not the
// breaker's count, decides whether Redis is at fault.
type timedOut struct{ err error }

func (e timedOut) Error() string { return e.err.Error() }
func (e timedOut) Unwrap() error { return e.err }

// isTimeout reports whether err is a deadline (the command's, a socket's,
// or the pool's wait for a connection) rather than Redis refusing.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.Is(err, redis.ErrPoolTimeout) || (errors.As(err, &ne) && ne.Timeout())
}

// newGuard guards the commands of one component; ping asks its Redis for a
// PONG (the judge of timeouts).
func newGuard(name string, r Resilience, ping func(context.Context) error) *guard {
	r = r.withDefaults()
	g := &guard{timeout: r.Timeout, ping: ping}
	log := r.Logger.With("component", name)
	threshold := uint32(r.FailureThreshold)
	g.cb = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        name,
		MaxRequests: 1, // one probe while half-open; the rest bypass Redis
		Timeout:     r.Cooldown,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= threshold || g.hung.Load() },
		// Any error but a miss counts: an error reply (AUTH, OOM, LOADING…)
		// makes Redis as useless as a timeout, and should be logged as such.
		IsSuccessful: func(err error) bool { return err == nil || errors.Is(err, redis.Nil) },
		IsExcluded: func(err error) bool {
			var gone callerGone
			var slow timedOut
			return errors.As(err, &gone) || errors.As(err, &slow)
		},
		OnStateChange: func(_ string, from, to gobreaker.State) {
			if r.Observer != nil {
				r.Observer.BreakerChanged(name, to.String())
			}
			ctx := context.Background()
			switch {
			case to == gobreaker.StateOpen && from == gobreaker.StateClosed:
				log.WarnContext(ctx, "redis unavailable: circuit breaker opened, serving without redis",
					"consecutive_failures", threshold, "ping_failed", g.hung.Load(), "retry_in", r.Cooldown, "err", g.lastError())
			case to == gobreaker.StateClosed:
				log.InfoContext(ctx, "redis available again: circuit breaker closed")
			default: // open → half-open → open while the outage lasts
				log.DebugContext(ctx, "redis circuit breaker state changed", "from", from.String(), "to", to.String())
			}
		},
	})
	return g
}

func (g *guard) setLastError(err error) {
	g.mu.Lock()
	g.lastErr = err
	g.mu.Unlock()
}

func (g *guard) lastError() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.lastErr == nil {
		return ""
	}
	return g.lastErr.Error()
}

// do runs f with a context bounded by the command timeout, unless the
// breaker is open, a timeout is being judged, or ctx is already done. Its
// error is nil, a Redis error, or wraps ErrUnavailable.
func (g *guard) do(ctx context.Context, f func(ctx context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if g.judging.Load() {
		return fmt.Errorf("%w: a timeout is being judged", ErrUnavailable)
	}
	_, err := g.cb.Execute(func() (struct{}, error) {
		cctx, cancel := context.WithTimeout(ctx, g.timeout)
		defer cancel()
		err := f(cctx)
		switch {
		case err == nil || errors.Is(err, redis.Nil):
			return struct{}{}, err
		case ctx.Err() != nil:
			return struct{}{}, callerGone{err}
		case isTimeout(err):
			g.judge(err)
			return struct{}{}, timedOut{err}
		}
		g.setLastError(err)
		return struct{}{}, err
	})
	switch {
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	var gone callerGone
	if errors.As(err, &gone) {
		return gone.err
	}
	var slow timedOut
	if errors.As(err, &slow) {
		return slow.err
	}
	return err
}

// judge starts the one PING that decides whether a timeout was Redis's
// (guard), unless one is running.
func (g *guard) judge(cause error) {
	if g.ping == nil || !g.judging.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer g.judging.Store(false)
		_, _ = g.cb.Execute(func() (struct{}, error) {
			ctx, cancel := context.WithTimeout(context.Background(), JudgeTimeout)
			defer cancel()
			err := g.ping(ctx)
			// A timeout before the PING was read says nothing of Redis yet:
			// no free connection (the commands holding them end within
			// their timeout), or a dial that a saturated host did not
			// finish in its 100 ms. Redis has until JudgeTimeout to answer;
			// a hung one times out reading at that deadline, a dead one
			// refuses at once.
			for isTimeout(err) && ctx.Err() == nil {
				time.Sleep(10 * time.Millisecond)
				err = g.ping(ctx)
			}
			if err != nil {
				g.setLastError(fmt.Errorf("%w; then PING: %w", cause, err))
				g.hung.Store(true) // this failure trips the breaker (ReadyToTrip)
			}
			return struct{}{}, err
		})
		g.hung.Store(false)
	}()
}

// state is the breaker's state, for tests and health reporting.
func (g *guard) state() gobreaker.State { return g.cb.State() }

// pinger is the judge's PING on rdb.
func pinger(rdb redis.UniversalClient) func(context.Context) error {
	return func(ctx context.Context) error { return rdb.Ping(ctx).Err() }
}
