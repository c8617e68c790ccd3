package hardening_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/taskapi/taskapi/internal/testenv"
	"github.com/taskapi/taskapi/store/cache"
)

// faultPhase is how long each phase of a fault test lasts: a third of the
// load duration, at least 2s.
func faultPhase(t testing.TB) time.Duration { return max(2*time.Second, loadDuration(t)/3) }

// sleep waits d or until t ends.
func sleep(t testing.TB, d time.Duration) {
	select {
	case <-t.Context().Done():
	case <-time.After(d):
	}
}

// waitWhole polls the service (a request that reads the store) until it
// answers, and returns how long that took.
func waitWhole(t testing.TB, e *env, token string, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
		r, err := e.send(ctx, request{method: http.MethodGet, path: "/api/v1/auth/user", token: token})
		cancel()
		if err == nil && r.status == http.StatusOK {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			t.Fatalf("the service is not whole %v after the fault ended: %v %s", limit, err, r)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestDynamoDBOutageUnderLoad stops DynamoDB Local under a running load and
// starts it again. While it is down every request fails fast with a clear
// "temporarily unavailable" (503, SERVICE_UNAVAILABLE), never a hang, a 500
// or a leak of internals; once it is back the service is whole with no
// restart of taskapi, and the audit finds every acknowledged write, no
// half-written task and no counter that disagrees with its tasks.
func TestDynamoDBOutageUnderLoad(t *testing.T) {
	srv := testenv.StartDynamoDB(t, testenv.DynamoDBOptions{Persist: true})
	e := newEnv(t, openDynamoAt(t, srv.Endpoint(), 0)) // production's timeouts
	run := newLoadRun(t, e, loadConfig{clients: max(4, loadClients(t)/2), outageOK: true, hang: 20 * time.Second})
	phase := faultPhase(t)
	var recovery time.Duration
	run.execute(t, func() {
		sleep(t, phase)
		run.event("DynamoDB Local stopped")
		if err := srv.Stop(); err != nil {
			t.Errorf("stop DynamoDB Local: %v", err)
		}
		if srv.ForcedStops() > 0 {
			// Its acknowledged writes may be lost: a missing task below
			// would then be the emulator's, not the service's.
			run.event("DynamoDB Local did not exit within 30s of SIGTERM and was killed")
		}
		sleep(t, phase)
		run.event("DynamoDB Local starting")
		if err := srv.Start(); err != nil {
			t.Errorf("start DynamoDB Local: %v", err)
			return
		}
		run.event("DynamoDB Local answering")
		recovery = waitWhole(t, e, run.admin.Token, time.Minute)
		run.event("service whole again (%v after DynamoDB Local answered); no unavailable answer accepted from now on", recovery.Round(time.Millisecond))
		run.strictFromNow()
		sleep(t, phase)
	})
	run.audit(t)
	f := run.report(t, "fault-dynamodb")
	if n := run.unexpectedCount(); n > 0 {
		t.Fatalf("%d unexpected errors, the first: %v", n, errorsJoin(run.unexpected, 10))
	}
	if f.Outages == 0 {
		t.Fatal("no request met the outage: the test proved nothing")
	}
	if run.outageMax > 5*time.Second {
		t.Errorf("the slowest unavailable answer took %v: requests must fail fast while DynamoDB is down", run.outageMax)
	}
}

// TestRedisHangAndKillUnderLoad hangs Redis (SIGSTOP), lets it go, kills
// it and starts an empty one, all under a running load on the cache (and
// the login limiter and persisted queries, which use the same Redis): no
// request fails, no client ever reads stale data (each checks its own
// writes), the audit is exact through the cache and under it, and the
// cache is back in use once Redis is.
func TestRedisHangAndKillUnderLoad(t *testing.T) {
	st := openCached(t)
	e := newEnv(t, st)
	cached := st.served.(*cache.Store)
	run := newLoadRun(t, e, loadConfig{clients: loadClients(t), hang: 5 * time.Second})
	phase := faultPhase(t)
	run.execute(t, func() {
		sleep(t, phase)
		run.event("Redis paused (hung)")
		if err := st.redis.Pause(); err != nil {
			t.Errorf("pause Redis: %v", err)
		}
		sleep(t, phase)
		if err := st.redis.Resume(); err != nil {
			t.Errorf("resume Redis: %v", err)
		}
		run.event("Redis resumed")
		sleep(t, phase/2)
		run.event("Redis killed")
		if err := st.redis.Kill(); err != nil {
			t.Errorf("kill Redis: %v", err)
		}
		sleep(t, phase)
		if err := st.redis.Restart(); err != nil {
			t.Errorf("restart Redis: %v", err)
			return
		}
		run.event("Redis restarted (empty)")
		// The breaker probes Redis again after its cooldown.
		deadline := time.Now().Add(cache.DefaultCooldown + 10*time.Second)
		for cached.BreakerState() != "closed" && time.Now().Before(deadline) {
			sleep(t, 100*time.Millisecond)
		}
		run.event("cache breaker %s", cached.BreakerState())
		sleep(t, phase)
	})
	run.audit(t)
	run.report(t, "fault-redis")
	if n := run.unexpectedCount(); n > 0 {
		t.Fatalf("%d failed requests, the first: %v", n, errorsJoin(run.unexpected, 10))
	}
	if s := cached.BreakerState(); s != "closed" {
		t.Errorf("cache breaker %s after Redis came back: the cache is not in use again", s)
	}
	if n, err := st.rdb.DBSize(t.Context()).Result(); err != nil || n == 0 {
		t.Errorf("Redis holds %d keys after the load (%v): the cache was not used again", n, err)
	}
}
