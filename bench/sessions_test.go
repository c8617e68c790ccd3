package bench_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/internal/testenv"
	"github.com/taskapi/taskapi/store/cache"
	"github.com/taskapi/taskapi/store/dynamo"
	"github.com/taskapi/taskapi/store/embedded"
)

// What checking a token's session costs an authenticated request: the same
// `{ me { id } }` with an access token naming a session (sid, what login
// issues now) and with a token without one (what the legacy app and
// taskapi's first release issued, accepted until it expires and checked as
// before sessions, but for one comparison of its iat). Both read the one
// user record, which now carries the session set.
//
// Each iteration sends both, in alternating order, and times each: the
// machine's other load weighs on both alike. Reported: the median of each
// (µs) and their ratio; docs/performance.md has the figures.
//
//	go test -run '^$' -bench AuthenticatedMe -count 6 ./bench/

var graphqlMe = request{"POST", "/graphql", `{"query":"{ me { id } }"}`}

func BenchmarkAuthenticatedMe(b *testing.B) {
	stores := []struct {
		name string
		open func(testing.TB) (core.Store, *roundTrips)
	}{
		{"embedded", openEmbedded},
		{"embedded+redis", openEmbeddedRedis},
		{"dynamodb-local", openDynamoDBLocal},
	}
	for _, st := range stores {
		store, trips := st.open(b)
		e, _ := newUser(b, store)
		// One live session, then the most a user keeps (the longest set
		// to check).
		for _, sessions := range []int{1, core.MaxSessionsPerUser} {
			for e.sessions < sessions {
				e.login(b)
			}
			tokens := [2]string{e.token, legacyToken(b, e)}
			b.Run(fmt.Sprintf("store=%s/sessions=%d", st.name, sessions), func(b *testing.B) {
				for range 200 { // warm: tokens verified, caches filled, the JVM's JIT
					e.doAs(b, graphqlMe, tokens[0])
					e.doAs(b, graphqlMe, tokens[1])
				}
				var took [2][]time.Duration
				var before int64
				if trips != nil {
					before = trips.count(b)
				}
				i := 0
				for b.Loop() {
					for j := range 2 {
						k := (i + j) % 2
						start := time.Now()
						e.doAs(b, graphqlMe, tokens[k])
						took[k] = append(took[k], time.Since(start))
					}
					i++
				}
				withSession, legacy := median(took[0]), median(took[1])
				b.ReportMetric(0, "ns/op") // an iteration is two requests: the medians say more
				b.ReportMetric(float64(withSession.Nanoseconds())/1e3, "session-µs")
				b.ReportMetric(float64(legacy.Nanoseconds())/1e3, "legacy-µs")
				b.ReportMetric(float64(withSession)/float64(legacy), "session/legacy")
				if trips != nil {
					b.ReportMetric(float64(trips.count(b)-before)/float64(2*b.N), trips.unit)
				}
			})
		}
	}
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

// legacyToken is a token of e's user without a session, as taskapi issued
// before sessions (same secret, claims and lifetime, no sid).
func legacyToken(tb testing.TB, e *env) string {
	tb.Helper()
	c, err := e.tokens.Parse(e.token)
	if err != nil {
		tb.Fatal(err)
	}
	t, err := e.tokens.Issue(c.UserID, "")
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// roundTrips counts what a store sends over the network; nil: nothing (the
// embedded store).
type roundTrips struct {
	unit  string // the metric's name
	count func(testing.TB) int64
}

func openEmbedded(tb testing.TB) (core.Store, *roundTrips) {
	st, err := embedded.Open(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	return st, nil
}

// openEmbeddedRedis counts Redis commands as scripts/bench.sh does: the
// server's total_commands_processed (less the INFO that reads it).
func openEmbeddedRedis(tb testing.TB) (core.Store, *roundTrips) {
	srv := testenv.Redis(tb)
	rdb := redis.NewClient(cache.ClientOptions(srv.Addr()))
	tb.Cleanup(func() { _ = rdb.Close() })
	st, _ := openEmbedded(tb)
	commands := func(tb testing.TB) int64 {
		info, err := rdb.Info(tb.Context(), "stats").Result()
		if err != nil {
			tb.Fatal(err)
		}
		_, after, _ := strings.Cut(info, "total_commands_processed:")
		n, err := strconv.ParseInt(strings.TrimSpace(strings.SplitN(after, "\n", 2)[0]), 10, 64)
		if err != nil {
			tb.Fatalf("INFO stats: %v", err)
		}
		return n
	}
	var infos int64
	return cache.New(st, rdb, cache.Options{}), &roundTrips{"redis-commands/req", func(tb testing.TB) int64 {
		infos++
		return commands(tb) - infos
	}}
}

// openDynamoDBLocal is the DynamoDB store over fresh tables in DynamoDB
// Local ($TASKAPI_DYNAMODB_LOCAL_DIR or $TASKAPI_TEST_DYNAMODB_ENDPOINT),
// counting its round trips in calls.
func openDynamoDBLocal(tb testing.TB) (core.Store, *roundTrips) {
	var calls atomic.Int64
	endpoint := testenv.DynamoDB(tb)
	client, err := dynamo.NewClient(tb.Context(), dynamo.Options{Endpoint: endpoint, Region: "us-east-1", OnCall: func(string) { calls.Add(1) }})
	if err != nil {
		tb.Fatal(err)
	}
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	prefix := "taskapi-bench-" + hex.EncodeToString(suffix)
	s := dynamo.New(client, dynamo.Tables{Users: prefix + "-users", Tasks: prefix + "-tasks"})
	if err := s.CreateTables(tb.Context()); err != nil {
		tb.Fatal(err)
	}
	return s, &roundTrips{"dynamodb-calls/req", func(testing.TB) int64 { return calls.Load() }}
}
