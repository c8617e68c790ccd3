package hardening_test

import (
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskapi/taskapi/internal/respcache"
	"github.com/taskapi/taskapi/internal/testenv"
	"github.com/taskapi/taskapi/store/cache"
)

// TestStalenessBoundsAcrossInstances runs two instances of the service, A
// and B, over one store and one Redis, and has A write while it cannot
// reach Redis: Redis hangs (SIGSTOP) for the write, A's breaker opens, Redis
// comes back, and A stays idle with its breaker open, so B is never told.
// B must see each change within the bound docs/cache.md states for it,
// measured from the write's answer: a deactivation, a revocation of every
// session and a demotion take effect within cache.DefaultUserTTL (5 s); a
// changed username shows within that plus respcache.DefaultMaxAge (10 s).
// Task lists and stats (cache.DefaultTTL plus respcache.DefaultMaxAge) are
// held to theirs with a fake clock in store/cache, a minute being too long
// to wait here.
func TestStalenessBoundsAcrossInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for each bound: about 40 s")
	}
	srv := testenv.Redis(t)
	rdb := redis.NewClient(cache.ClientOptions(srv.Addr()))
	t.Cleanup(func() { _ = rdb.Close() })
	inner := openEmbedded(t)
	ns := "staleness:" + randomHex(t, 4)
	instance := func() (*env, *cache.Store) {
		c := cache.New(inner.truth, rdb, cache.Options{Namespace: ns})
		return newEnv(t, stores{served: c, truth: inner.truth, rdb: rdb, redis: srv}), c
	}
	a, aCache := instance()
	b, _ := instance()
	admin := a.mustAdmin(t)

	userBound := cache.DefaultUserTTL
	cases := []struct {
		name  string
		bound time.Duration
		// write is A's mutation (by its admin) on victim; seen reports
		// whether B's answer to victim's read shows it.
		write string
		read  func(victim account) (token, query string)
		seen  func(r gqlReply) bool
	}{
		{"Deactivation", userBound,
			`mutation($id: ID!) { updateUser(id: $id, input: {activationStatus: INACTIVE}) { id } }`,
			func(v account) (string, string) { return v.Token, `{ me { id } }` },
			func(r gqlReply) bool { return len(r.Errors) > 0 }},
		{"SessionsRevoked", userBound,
			`mutation($id: ID!) { updateUser(id: $id, input: {password: "an0ther-Passw0rd"}) { id } }`,
			func(v account) (string, string) { return v.Token, `{ me { id } }` },
			func(r gqlReply) bool { return len(r.Errors) > 0 }},
		{"Demotion", userBound,
			`mutation($id: ID!) { updateUser(id: $id, input: {role: USER}) { id } }`,
			func(v account) (string, string) { return v.Token, `{ users(first: 1) { edges { node { id } } } }` },
			func(r gqlReply) bool { return len(r.Errors) > 0 }},
		{"Username", userBound + respcache.DefaultMaxAge,
			`mutation($id: ID!) { updateUser(id: $id, input: {username: "renamed"}) { id } }`,
			func(v account) (string, string) { return v.Token, `{ me { username } }` },
			func(r gqlReply) bool { return strings.Contains(string(r.Data), "renamed") }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			victim := a.mustUser(t, "victim")
			if c.name == "Demotion" {
				victim = a.mustAdmin(t)
			}
			token, query := c.read(victim)
			for range 2 { // B has the victim's record, and its answer, cached
				if r := b.gql(t, token, query, nil); !r.ok() || c.seen(r) {
					t.Fatalf("B before the write: %s", r)
				}
			}

			must(t, srv.Pause())
			w := a.gql(t, admin.Token, c.write, vars{"id": victim.ID})
			written := time.Now()
			if !w.ok() {
				_ = srv.Resume()
				t.Fatalf("A's write: %s", w)
			}
			// A's bump timed out; once the judge's PING has failed too,
			// A's breaker is open and A will not deliver it while idle.
			deadline := time.Now().Add(cache.JudgeTimeout + time.Second)
			for aCache.BreakerState() == "closed" && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			must(t, srv.Resume())
			if s := aCache.BreakerState(); s == "closed" {
				t.Fatalf("A's breaker is %s after its write with Redis hung", s)
			}

			var took time.Duration
			for {
				r := b.gql(t, token, query, nil)
				if c.seen(r) {
					took = time.Since(written)
					break
				}
				if time.Since(written) > c.bound+3*time.Second {
					t.Fatalf("B still shows the state before the write %v after it (bound %v): %s", time.Since(written).Round(time.Millisecond), c.bound, r)
				}
				time.Sleep(50 * time.Millisecond)
			}
			t.Logf("B saw the write %v after it (bound %v)", took.Round(time.Millisecond), c.bound)
			// 500 ms for the polling and a loaded machine's scheduling.
			if took > c.bound+500*time.Millisecond {
				t.Errorf("B saw the write %v after it, beyond its bound of %v", took.Round(time.Millisecond), c.bound)
			}
			// A's breaker closes after its cooldown (5 s) on its next
			// request, which delivers the bump: leave A closed for the next
			// case.
			time.Sleep(cache.DefaultCooldown)
			a.gql(t, admin.Token, `{ me { id } }`, nil)
		})
	}
}
