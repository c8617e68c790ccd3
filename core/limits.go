package core

import (
	"context"
	"net/netip"
	"time"
)

// Rate allows N events per Per for one key: a burst of N, then one more
// every Per/N. The zero Rate is no limit.
type Rate struct {
	N   int
	Per time.Duration
}

// Unlimited reports whether r limits nothing.
func (r Rate) Unlimited() bool { return r.N <= 0 || r.Per <= 0 }

// RateCounter keeps the counts behind rate limits: in process, or in Redis
// for every instance. Allow records one event for key and returns 0 when
// it is within r, else how long until it would be (the event is then not
// recorded). An implementation always decides: one that cannot reach its
// shared store decides with counts of its own, never by letting everything
// through.
type RateCounter interface {
	Allow(ctx context.Context, key string, r Rate) time.Duration
}

// Limits are the rate limits of the service (README: RATE_LIMIT_*).
type Limits struct {
	// LoginAddress: login attempts from one client address, whatever the
	// email (credential stuffing).
	LoginAddress Rate
	// LoginAccount: attempts at one email from one client address (guessing
	// one password). Strict, and only the guesser's address is refused.
	LoginAccount Rate
	// LoginEmail: attempts at one email from every address together. Much
	// higher, and over it attempts are slowed by LoginSlowdown, not
	// refused: a third party guessing from many addresses cannot lock the
	// owner out.
	LoginEmail    Rate
	LoginSlowdown time.Duration
	// Register: registrations from one client address; RegisterAll: from
	// every address together. An admin's registrations are not limited.
	Register    Rate
	RegisterAll Rate
	// Writes: task writes (create, update, delete) by one user.
	Writes Rate
}

// DefaultLimits are what taskapi applies unless configured otherwise.
func DefaultLimits() Limits {
	return Limits{
		LoginAddress:  Rate{50, 15 * time.Minute},
		LoginAccount:  Rate{10, 15 * time.Minute},
		LoginEmail:    Rate{100, 15 * time.Minute},
		LoginSlowdown: time.Second,
		Register:      Rate{10, time.Hour},
		RegisterAll:   Rate{1000, time.Hour},
		Writes:        Rate{300, time.Minute},
	}
}

// Limiter applies Limits with the counts of a RateCounter. A nil Limiter
// limits nothing (tests that are not about limits).
type Limiter struct {
	counter RateCounter
	limits  Limits
	sleep   func(context.Context, time.Duration)
	obs     Observer // nil: nobody counts refusals (set by NewService)
}

// NewLimiter returns a Limiter applying limits with counter's counts.
func NewLimiter(counter RateCounter, limits Limits) *Limiter {
	return &Limiter{counter: counter, limits: limits, sleep: sleep}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// allow counts one event for key under r, the limit called name, and
// returns how long until r would allow it (0: allowed now).
func (l *Limiter) allow(ctx context.Context, name, key string, r Rate) time.Duration {
	if r.Unlimited() {
		return 0
	}
	wait := l.counter.Allow(ctx, key, r)
	if wait > 0 && l.obs != nil {
		l.obs.RateLimited(name)
	}
	return wait
}

func rateLimited(msg string, wait time.Duration) error {
	if r := wait % time.Second; r != 0 {
		wait += time.Second - r // whole seconds, as Retry-After says them
	}
	return &Error{Code: CodeRateLimited, Message: msg, RetryAfter: wait}
}

// login counts a login attempt at email. The address is checked first, so
// an address over its limit adds no count for any email.
func (l *Limiter) login(ctx context.Context, email string) error {
	if l == nil {
		return nil
	}
	const msg = "Too many login attempts; try again later"
	addr := clientAddress(ctx)
	if wait := l.allow(ctx, LimitLogin, "login-address:"+addr, l.limits.LoginAddress); wait > 0 {
		return rateLimited(msg, wait)
	}
	if wait := l.allow(ctx, LimitLoginAccount, "login-account:"+addr+" "+email, l.limits.LoginAccount); wait > 0 {
		return rateLimited(msg, wait)
	}
	if wait := l.allow(ctx, LimitLoginEmail, "login-email:"+email, l.limits.LoginEmail); wait > 0 {
		l.sleep(ctx, min(wait, l.limits.LoginSlowdown))
	}
	return nil
}

// register counts a registration, unless admin says the caller is an admin.
func (l *Limiter) register(ctx context.Context, admin func() bool) error {
	if l == nil || (HasCredentials(ctx) && admin()) {
		return nil
	}
	const msg = "Too many registrations; try again later"
	if wait := l.allow(ctx, LimitRegister, "register-address:"+clientAddress(ctx), l.limits.Register); wait > 0 {
		return rateLimited(msg, wait)
	}
	if wait := l.allow(ctx, LimitRegisterAll, "register-all", l.limits.RegisterAll); wait > 0 {
		return rateLimited(msg, wait)
	}
	return nil
}

// write counts a task write by userID.
func (l *Limiter) write(ctx context.Context, userID string) error {
	if l == nil {
		return nil
	}
	if wait := l.allow(ctx, LimitWrites, "writes:"+userID, l.limits.Writes); wait > 0 {
		return rateLimited("Too many changes; try again later", wait)
	}
	return nil
}

// clientAddress is the request's client address as the limits count it:
// an IPv6 address by its /64 (what one subscriber usually gets, so
// rotating through it gains nothing), "unknown" when there is none.
func clientAddress(ctx context.Context) string {
	ip := state(ctx).clientIP
	a, err := netip.ParseAddr(ip)
	switch {
	case ip == "":
		return "unknown"
	case err != nil:
		return ip
	case a.Is4() || a.Is4In6():
		return a.Unmap().String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}
