package server

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Defaults of /readyz.
const (
	// ReadyCheckTimeout bounds each dependency's check: a load balancer's
	// probe gives up after a few seconds, and a store that takes longer
	// than this to answer an empty read is not ready to serve anyway.
	ReadyCheckTimeout = 500 * time.Millisecond
	// readyCacheFor is how long one round of checks answers every probe:
	// a flood of probes costs at most one round per second per process.
	readyCacheFor = time.Second
)

// ReadyCheck is one dependency /readyz reports: Ping nil means the
// dependency is not configured (Redis without REDIS_HOST), which is ready.
type ReadyCheck struct {
	Name string // "store", "redis"
	Ping func(context.Context) error
	// Advisory: the service still answers without it (Redis: every read
	// falls back to the store), so its outage shows as "degraded" with 200,
	// never as 503 — a load balancer must not take every instance out
	// because the cache is down.
	Advisory bool
}

// Answers of one check, as /readyz shows them.
const (
	checkOK            = "ok"
	checkUnreachable   = "unreachable"
	checkNotConfigured = "not configured"
)

type readyBody struct {
	Status string            `json:"status"` // "ready", "degraded" (an advisory check failed) or "unavailable"
	Checks map[string]string `json:"checks"`
}

// readiness runs the checks at most once per readyCacheFor and answers
// every probe in between with the last round's result. The checks run on a
// context of their own (the request's values, not its cancellation): a
// probe that hangs up must not leave a failure cached for everyone else.
type readiness struct {
	checks []ReadyCheck
	log    *slog.Logger
	now    func() time.Time

	mu   sync.Mutex // held during a round: concurrent probes wait for it, not start their own
	at   time.Time
	last readyBody
	ok   bool
}

func newReadiness(checks []ReadyCheck, log *slog.Logger) *readiness {
	return &readiness{checks: checks, log: log, now: time.Now}
}

func (rd *readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := rd.result(r.Context())
	status := http.StatusOK
	if !ok {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, body)
}

// result is the cached round, or a new one when it is older than
// readyCacheFor.
func (rd *readiness) result(ctx context.Context) (readyBody, bool) {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if !rd.at.IsZero() && rd.now().Sub(rd.at) < readyCacheFor {
		return rd.last, rd.ok
	}
	ctx = context.WithoutCancel(ctx)
	answers := make([]string, len(rd.checks))
	var wg sync.WaitGroup
	for i, c := range rd.checks {
		if c.Ping == nil {
			answers[i] = checkNotConfigured
			continue
		}
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, ReadyCheckTimeout)
			defer cancel()
			answers[i] = checkOK
			if err := c.Ping(cctx); err != nil {
				// The cause (a host name, an SDK message) goes to the log
				// only: /readyz is reachable by whoever reaches the API.
				rd.log.WarnContext(ctx, "readiness check failed", "check", c.Name, "err", err)
				answers[i] = checkUnreachable
			}
		})
	}
	wg.Wait()
	body := readyBody{Status: "ready", Checks: make(map[string]string, len(rd.checks))}
	ok := true
	for i, c := range rd.checks {
		body.Checks[c.Name] = answers[i]
		switch {
		case answers[i] != checkUnreachable:
		case c.Advisory:
			body.Status = "degraded"
		default:
			ok = false
		}
	}
	if !ok {
		body.Status = "unavailable"
	}
	rd.at, rd.last, rd.ok = rd.now(), body, ok
	return body, ok
}
