package metrics_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/redis/go-redis/v9"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/internal/metrics"
	"github.com/taskapi/taskapi/internal/metrics/emftest"
	"github.com/taskapi/taskapi/internal/testenv"
	"github.com/taskapi/taskapi/ratelimit"
	"github.com/taskapi/taskapi/server"
	"github.com/taskapi/taskapi/store/cache"
	"github.com/taskapi/taskapi/store/embedded"
)

const testNamespace = "taskapi/test"

// lines is a concurrency-safe writer keeping what each Write wrote.
type lines struct {
	mu     sync.Mutex
	writes [][]byte
}

func (l *lines) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes = append(l.writes, bytes.Clone(b))
	return len(b), nil
}

// take returns the writes since the last take.
func (l *lines) take() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.writes
	l.writes = nil
	return w
}

// parse validates every line of writes against the EMF specification and
// returns their samples.
func parse(t *testing.T, writes [][]byte) []emftest.Sample {
	t.Helper()
	var out []emftest.Sample
	for _, w := range writes {
		if !bytes.HasSuffix(w, []byte("\n")) {
			t.Errorf("write %q does not end a line", w)
		}
		for _, line := range bytes.Split(bytes.TrimSuffix(w, []byte("\n")), []byte("\n")) {
			doc, err := emftest.Parse(line)
			if err != nil {
				t.Fatalf("not a valid EMF document: %v\n%s", err, line)
			}
			out = append(out, doc.Samples...)
		}
	}
	return out
}

// sum is the sum of the values of the samples of metric name with exactly
// dims, and how many values they hold.
func sum(samples []emftest.Sample, name string, dims map[string]string) (total float64, n int) {
	for _, s := range samples {
		if s.Name == name && maps.Equal(s.Dimensions, dims) {
			for _, v := range s.Values {
				total += v
			}
			n += len(s.Values)
		}
	}
	return total, n
}

// send is one request to ts and its JSON answer (metrics_test.go's call,
// which the Lambda image's build does not compile).
func send(t *testing.T, ts *httptest.Server, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

// newEMFServer is what cmd/taskapi builds inside Lambda on the embedded
// store: the EMF writer wired into core, the store and the handler, and
// flushed after each request.
func newEMFServer(t *testing.T, limits core.Limits) (*httptest.Server, *lines) {
	t.Helper()
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	out := &lines{}
	e := metrics.NewEMF(out, testNamespace)
	svc := core.NewService(core.Config{
		Store:        metrics.Store(st, e),
		Hasher:       core.NewHasher("", &argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}, 0),
		Tokens:       core.NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Hour, nil),
		CursorSecret: []byte("cursor"),
		Limiter:      core.NewLimiter(ratelimit.NewLocal(0), limits),
		Observer:     e,
	})
	ts := httptest.NewServer(e.FlushEach(server.New(svc, server.Options{Requests: e})))
	t.Cleanup(ts.Close)
	return ts, out
}

// TestEMFAfterRealRequests: each kind of request through the real handler
// writes, when it ends, valid EMF lines with the metrics it should, by the
// amount it should, under the dimensions the Prometheus labels name.
func TestEMFAfterRealRequests(t *testing.T) {
	limits := core.DefaultLimits()
	limits.LoginAccount = core.Rate{N: 3, Per: time.Hour}
	ts, out := newEMFServer(t, limits)

	const email, pw = "ann@example.com", "s3cret!pw"
	if code, body := send(t, ts, "POST", "/api/v1/auth/register", "", `{"username":"ann","email":"`+email+`","password":"`+pw+`"}`); code != 200 {
		t.Fatalf("register: %d %v", code, body)
	}
	_, body := send(t, ts, "POST", "/api/v1/auth/login", "", `{"email":"`+email+`","password":"`+pw+`"}`)
	token, _ := body["access_token"].(string)
	if token == "" {
		t.Fatalf("login: %v", body)
	}
	out.take()
	req := func(transport, operation, code string) map[string]string {
		return map[string]string{"transport": transport, "operation": operation, "code": code}
	}
	for _, tc := range []struct {
		name   string
		do     func(t *testing.T)
		metric string
		dims   map[string]string
		want   float64
	}{
		{"LoginFailure", func(t *testing.T) {
			if code, _ := send(t, ts, "POST", "/api/v1/auth/login", "", `{"email":"`+email+`","password":"wrong!pw1"}`); code != 401 {
				t.Fatalf("wrong password: %d", code)
			}
		}, metrics.EMFLoginFailed, map[string]string{"reason": "bad_credentials"}, 1},
		{"LoginFailureCountedAsRequest", func(t *testing.T) {
			send(t, ts, "POST", "/api/v1/auth/login", "", `{"email":"nobody@example.com","password":"wrong!pw1"}`)
		}, metrics.EMFRequests, req("rest", "POST /api/v1/auth/login", "401"), 1},
		{"UnknownEmailIsAStoreNotFound", func(t *testing.T) {
			send(t, ts, "POST", "/api/v1/auth/login", "", `{"email":"nobody2@example.com","password":"wrong!pw1"}`)
		}, metrics.EMFStoreErrors, map[string]string{"kind": "not_found"}, 1},
		{"GraphQLOperation", func(t *testing.T) {
			if code, body := send(t, ts, "POST", "/graphql", token, `{"query":"query Mine { me { id } }"}`); code != 200 || body["errors"] != nil {
				t.Fatalf("me: %d %v", code, body)
			}
		}, metrics.EMFRequests, req("graphql", "query.me", "OK"), 1},
		{"GraphQLErrorCode", func(t *testing.T) {
			send(t, ts, "POST", "/graphql", "", `{"query":"{ me { id } }"}`)
		}, metrics.EMFRequests, req("graphql", "query.me", "UNAUTHENTICATED"), 1},
		{"GraphQLRefusedBeforeExecution", func(t *testing.T) {
			send(t, ts, "POST", "/graphql", token, `{"query":"{ nosuchfield }"}`)
		}, metrics.EMFRequests, req("graphql", "unknown", "400"), 1},
		{"RESTRouteWithAnIDIsItsTemplate", func(t *testing.T) {
			send(t, ts, "DELETE", "/api/v1/tasks/delete-task/00000000-0000-0000-0000-000000000000", token, "")
		}, metrics.EMFRequests, req("rest", "DELETE /api/v1/tasks/delete-task/{task_id}", "404"), 1},
		{"UnmatchedPath", func(t *testing.T) {
			send(t, ts, "GET", "/no/such/"+email, "", "")
		}, metrics.EMFRequests, req("other", "unmatched", "404"), 1},
		{"Healthz", func(t *testing.T) {
			send(t, ts, "GET", "/healthz", "", "")
		}, metrics.EMFRequests, req("other", "GET /healthz", "200"), 1},
		{"RateLimitRefusal", func(t *testing.T) {
			// Three attempts at one account from one address are allowed:
			// the login and the wrong password above used two.
			for range 3 {
				send(t, ts, "POST", "/api/v1/auth/login", "", `{"email":"`+email+`","password":"wrong!pw2"}`)
			}
		}, metrics.EMFRateLimited, map[string]string{"limit": "login_account"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.do(t)
			writes := out.take()
			samples := parse(t, writes)
			if got, _ := sum(samples, tc.metric, tc.dims); got != tc.want {
				t.Fatalf("%s%v = %v, want %v; lines:\n%s", tc.metric, tc.dims, got, tc.want, bytes.Join(writes, nil))
			}
			// Every request wrote its own line: one Requests and one
			// Latency per request, Latency under its transport alone.
			reqs, lat := 0.0, 0
			for _, s := range samples {
				switch s.Name {
				case metrics.EMFRequests:
					reqs += s.Values[0]
					if s.Unit != "Count" || len(s.Dimensions) != 3 {
						t.Errorf("Requests: unit %s, dimensions %v", s.Unit, s.Dimensions)
					}
				case metrics.EMFLatency:
					lat += len(s.Values)
					if s.Unit != "Milliseconds" || len(s.Dimensions) != 1 || s.Dimensions["transport"] == "" {
						t.Errorf("Latency: unit %s, dimensions %v", s.Unit, s.Dimensions)
					}
				}
				if s.Namespace != testNamespace {
					t.Errorf("namespace %q, want %q", s.Namespace, testNamespace)
				}
			}
			if int(reqs) != len(writes) || lat != len(writes) {
				t.Errorf("%d requests wrote %d Requests and %d Latency values", len(writes), int(reqs), lat)
			}
		})
	}
}

// TestEMFCache: the cache's reads by result, and its breaker opening, as
// EMF lines.
func TestEMFCache(t *testing.T) {
	srv := testenv.Redis(t)
	o := cache.ClientOptions(srv.Addr())
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = 5*time.Second, 5*time.Second, 5*time.Second, 5*time.Second
	rdb := redis.NewClient(o)
	t.Cleanup(func() { _ = rdb.Close() })
	inner, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inner.Close() })
	out := &lines{}
	e := metrics.NewEMF(out, testNamespace)
	st := cache.New(metrics.Store(inner, e), rdb, cache.Options{
		Namespace:  "emf-test",
		Resilience: cache.Resilience{Observer: e, FailureThreshold: 2, Cooldown: time.Hour, Timeout: 5 * time.Second},
	})
	ctx := t.Context()
	email, fe := core.ParseEmail("email", "ann@example.com")
	if fe != nil {
		t.Fatal(fe)
	}
	u, err := st.CreateUser(ctx, core.User{ID: "VAH1", Email: email, Role: core.RoleUser, ActivationStatus: core.ActivationActive})
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		name   string
		before func(t *testing.T)
		reads  int
		metric string
		dims   map[string]string
		want   float64
	}{
		{"Miss", nil, 1, metrics.EMFCacheReads, map[string]string{"result": "miss"}, 1},
		{"HitsAggregated", nil, 3, metrics.EMFCacheReads, map[string]string{"result": "hit"}, 3},
		{"BypassWhileRedisIsDown", func(t *testing.T) {
			if err := srv.Kill(); err != nil {
				t.Fatal(err)
			}
		}, 3, metrics.EMFCacheReads, map[string]string{"result": "bypass"}, 3},
		{"BreakerOpened", nil, 0, metrics.EMFBreakerState, map[string]string{"component": "cache", "state": "open"}, 1},
	} {
		t.Run(step.name, func(t *testing.T) {
			if step.before != nil {
				step.before(t)
			}
			for range step.reads {
				if _, err := st.GetUser(ctx, u.ID); err != nil {
					t.Fatal(err)
				}
			}
			if step.name == "BreakerOpened" {
				// The bypassed reads opened it; their flush is the one below.
				return
			}
			if err := e.Flush(); err != nil {
				t.Fatal(err)
			}
			writes := out.take()
			samples := parse(t, writes)
			if got, _ := sum(samples, step.metric, step.dims); got != step.want {
				t.Fatalf("%s%v = %v, want %v; lines:\n%s", step.metric, step.dims, got, step.want, bytes.Join(writes, nil))
			}
			if step.name == "BypassWhileRedisIsDown" {
				if got, _ := sum(samples, metrics.EMFBreakerState, map[string]string{"component": "cache", "state": "open"}); got != 1 {
					t.Fatalf("breaker opened %v times, want 1; lines:\n%s", got, bytes.Join(writes, nil))
				}
			}
			if len(writes) != 1 {
				t.Errorf("one flush made %d writes, want 1", len(writes))
			}
		})
	}
}

// TestEMFWriter: what no request makes happen but the writer must still
// get right.
func TestEMFWriter(t *testing.T) {
	tests := []struct {
		name  string
		do    func(e *metrics.EMF)
		lines int
		check func(t *testing.T, samples []emftest.Sample)
	}{
		{"NothingCountedWritesNothing", func(*metrics.EMF) {}, 0, nil},
		{"RequestsOfOneDimensionSetShareALine", func(e *metrics.EMF) {
			e.ObserveRequest("rest", "GET /api/v1/tasks/fetch-task", "200", 1500*time.Microsecond)
			e.ObserveRequest("rest", "GET /api/v1/tasks/fetch-task", "200", 2*time.Millisecond)
		}, 1, func(t *testing.T, s []emftest.Sample) {
			dims := map[string]string{"transport": "rest", "operation": "GET /api/v1/tasks/fetch-task", "code": "200"}
			if got, _ := sum(s, metrics.EMFRequests, dims); got != 2 {
				t.Errorf("Requests = %v, want 2", got)
			}
			if got, n := sum(s, metrics.EMFLatency, map[string]string{"transport": "rest"}); got != 3.5 || n != 2 {
				t.Errorf("Latency = %v over %d values, want 3.5 ms over 2", got, n)
			}
		}},
		{"OverAHundredLatenciesSplitIntoLines", func(e *metrics.EMF) {
			for range 250 {
				e.ObserveRequest("graphql", "query.me", "OK", time.Millisecond)
			}
		}, 3, func(t *testing.T, s []emftest.Sample) {
			if got, _ := sum(s, metrics.EMFRequests, map[string]string{"transport": "graphql", "operation": "query.me", "code": "OK"}); got != 250 {
				t.Errorf("Requests = %v, want 250 (counted once)", got)
			}
			if _, n := sum(s, metrics.EMFLatency, map[string]string{"transport": "graphql"}); n != 250 {
				t.Errorf("%d latencies, want 250", n)
			}
		}},
		{"OneLinePerDimensionSet", func(e *metrics.EMF) {
			e.CacheRead("hit")
			e.CacheRead("miss")
			e.CacheRead("hit")
			e.BreakerChanged("rate-limiter", "half-open")
			e.RateLimited("writes")
			e.LoginFailed("inactive")
			e.StoreError("unavailable")
		}, 6, func(t *testing.T, s []emftest.Sample) {
			for _, w := range []struct {
				name string
				dims map[string]string
				want float64
			}{
				{metrics.EMFCacheReads, map[string]string{"result": "hit"}, 2},
				{metrics.EMFCacheReads, map[string]string{"result": "miss"}, 1},
				{metrics.EMFBreakerState, map[string]string{"component": "rate-limiter", "state": "half-open"}, 1},
				{metrics.EMFRateLimited, map[string]string{"limit": "writes"}, 1},
				{metrics.EMFLoginFailed, map[string]string{"reason": "inactive"}, 1},
				{metrics.EMFStoreErrors, map[string]string{"kind": "unavailable"}, 1},
			} {
				if got, _ := sum(s, w.name, w.dims); got != w.want {
					t.Errorf("%s%v = %v, want %v", w.name, w.dims, got, w.want)
				}
			}
		}},
		{"ValuesThatNeedEscapingStayValidJSON", func(e *metrics.EMF) {
			e.ObserveRequest("rest", "GET /a\"b\\c\n\x01\xff", "200", time.Millisecond)
		}, 1, func(t *testing.T, s []emftest.Sample) {
			if got, _ := sum(s, metrics.EMFRequests, map[string]string{"transport": "rest", "operation": "GET /a\"b\\c\n\x01\ufffd", "code": "200"}); got != 1 {
				t.Errorf("the escaped operation did not come back: %+v", s)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := &lines{}
			e := metrics.NewEMF(out, testNamespace)
			tc.do(e)
			if err := e.Flush(); err != nil {
				t.Fatal(err)
			}
			writes := out.take()
			if tc.lines == 0 {
				if len(writes) != 0 {
					t.Fatalf("wrote %q", writes)
				}
				return
			}
			if len(writes) != 1 {
				t.Fatalf("%d writes, want 1", len(writes))
			}
			if n := bytes.Count(writes[0], []byte("\n")); n != tc.lines {
				t.Errorf("%d lines, want %d:\n%s", n, tc.lines, writes[0])
			}
			tc.check(t, parse(t, writes))
			// A flush forgets what it wrote.
			if err := e.Flush(); err != nil || len(out.take()) != 0 {
				t.Errorf("a second flush wrote again (err %v)", err)
			}
		})
	}
}

// TestEMFConcurrentUse: events from many goroutines, flushed while they
// happen, add up exactly (run with -race).
func TestEMFConcurrentUse(t *testing.T) {
	out := &lines{}
	e := metrics.NewEMF(out, testNamespace)
	const workers, each = 8, 200
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				e.ObserveRequest("other", "GET /healthz", "200", time.Microsecond)
				e.CacheRead("hit")
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			_ = e.Flush()
		}
	})
	wg.Wait()
	_ = e.Flush()
	s := parse(t, out.take())
	if got, _ := sum(s, metrics.EMFRequests, map[string]string{"transport": "other", "operation": "GET /healthz", "code": "200"}); got != workers*each {
		t.Errorf("Requests = %v, want %d", got, workers*each)
	}
	if got, _ := sum(s, metrics.EMFCacheReads, map[string]string{"result": "hit"}); got != workers*each {
		t.Errorf("CacheReads = %v, want %d", got, workers*each)
	}
}

// TestEMFNil: every method is safe on nil (outside Lambda).
func TestEMFNil(t *testing.T) {
	var e *metrics.EMF
	e.ObserveRequest("rest", "x", "200", time.Second)
	e.CacheRead("hit")
	e.BreakerChanged("cache", "open")
	e.RateLimited("login")
	e.LoginFailed("bad_credentials")
	e.StoreError("other")
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	h := http.NotFoundHandler()
	if got := e.FlushEach(h); fmt.Sprint(got) != fmt.Sprint(h) {
		t.Error("FlushEach on nil wraps the handler")
	}
}

// TestEMFMetricsListsWhatIsWritten: EMFMetrics, which internal/infratest
// holds terraform/ to, is exactly what the lines carry.
func TestEMFMetricsListsWhatIsWritten(t *testing.T) {
	out := &lines{}
	e := metrics.NewEMF(out, testNamespace)
	e.ObserveRequest("rest", "GET /healthz", "200", time.Millisecond)
	e.CacheRead("hit")
	e.BreakerChanged("cache", "open")
	e.RateLimited("login")
	e.LoginFailed("inactive")
	e.StoreError("conflict")
	e.SessionEvent("login")
	_ = e.Flush()
	written := map[string][]string{}
	for _, s := range parse(t, out.take()) {
		keys := slices.Sorted(maps.Keys(s.Dimensions))
		written[s.Name+" "+strings.Join(keys, ",")] = keys
	}
	listed := map[string][]string{}
	for _, m := range metrics.EMFMetrics() {
		for _, set := range m.Dimensions {
			keys := slices.Sorted(slices.Values(set))
			listed[m.Name+" "+strings.Join(keys, ",")] = keys
		}
	}
	if !maps.EqualFunc(written, listed, slices.Equal) {
		t.Errorf("written %v, EMFMetrics lists %v", slices.Sorted(maps.Keys(written)), slices.Sorted(maps.Keys(listed)))
	}
}

// TestEMFValidator: the validator refuses what the specification forbids
// (so that a passing test means something).
func TestEMFValidator(t *testing.T) {
	now := time.Now().UnixMilli()
	doc := func(aws string, members string) string {
		return fmt.Sprintf(`{"_aws":%s%s}`, aws, members)
	}
	directive := func(dims, metrics string) string {
		return fmt.Sprintf(`{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":%s,"Metrics":%s}]}`, now, dims, metrics)
	}
	ok := directive(`[["d"]]`, `[{"Name":"m","Unit":"Count"}]`)
	many := func(n int, f func(i int) string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = f(i)
		}
		return strings.Join(parts, ",")
	}
	tests := []struct {
		name, line string
		want       string // part of the error; "" for valid
	}{
		{"OK", doc(ok, `,"d":"v","m":1`), ""},
		{"OKValuesArray", doc(ok, `,"d":"v","m":[1,2.5]`), ""},
		{"OKEmptyDimensionSet", doc(directive(`[[]]`, `[{"Name":"m"}]`), `,"m":1`), ""},
		{"ErrTrailingData", doc(ok, `,"d":"v","m":1`) + " x", "not one JSON object"},
		{"ErrNotAnObject", `[1]`, "not one JSON object"},
		{"ErrNoAWS", `{"m":1}`, `no "_aws"`},
		{"ErrNoTimestamp", doc(`{"CloudWatchMetrics":[]}`, ""), "no Timestamp"},
		{"ErrTimestampInSeconds", doc(fmt.Sprintf(`{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[{"Name":"m"}]}]}`, now/1000), `,"m":1`), "milliseconds"},
		{"ErrTimestampNotInteger", doc(`{"Timestamp":1.5e12,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[{"Name":"m"}]}]}`, `,"m":1`), "not an integer"},
		{"ErrExtraAWSMember", doc(fmt.Sprintf(`{"Timestamp":%d,"X":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[{"Name":"m"}]}]}`, now), `,"m":1`), `member "X"`},
		{"ErrNoNamespace", doc(fmt.Sprintf(`{"Timestamp":%d,"CloudWatchMetrics":[{"Dimensions":[[]],"Metrics":[{"Name":"m"}]}]}`, now), `,"m":1`), "Namespace"},
		{"ErrNoDimensions", doc(directive(`[]`, `[{"Name":"m"}]`), `,"m":1`), "Dimensions is empty"},
		{"ErrDimensionMissing", doc(ok, `,"m":1`), `dimension "d" has no root member`},
		{"ErrDimensionNotString", doc(ok, `,"d":1,"m":1`), "not a string"},
		{"ErrTooManyDimensionKeys", doc(directive(`[[`+many(31, func(i int) string { return fmt.Sprintf(`"d%d"`, i) })+`]]`, `[{"Name":"m"}]`),
			`,"m":1,`+many(31, func(i int) string { return fmt.Sprintf(`"d%d":"v"`, i) })), "31 keys, over 30"},
		{"ErrTooManyMetrics", doc(directive(`[[]]`, `[`+many(101, func(i int) string { return fmt.Sprintf(`{"Name":"m%d"}`, i) })+`]`),
			","+many(101, func(i int) string { return fmt.Sprintf(`"m%d":1`, i) })), "101 definitions, over 100"},
		{"ErrMetricWithoutValue", doc(ok, `,"d":"v"`), "no root member holds its value"},
		{"ErrMetricNotNumber", doc(ok, `,"d":"v","m":"1"`), "neither a number"},
		{"ErrTooManyValues", doc(ok, `,"d":"v","m":[`+many(101, func(int) string { return "1" })+`]`), "101 members"},
		{"ErrNestedTarget", doc(ok, `,"d":"v","m":{"a":1}`), "neither a number"},
		{"ErrBadUnit", doc(directive(`[[]]`, `[{"Name":"m","Unit":"ms"}]`), `,"m":1`), "not a CloudWatch unit"},
		{"ErrDuplicateMember", doc(ok, `,"d":"v","m":1,"m":2`), "appears twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := emftest.Parse([]byte(tc.line))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("valid document refused: %v\n%s", err, tc.line)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err %v, want %q\n%s", err, tc.want, tc.line)
			}
		})
	}
}

// BenchmarkEMF is what EMF adds to one Lambda invocation: the events of a
// typical authenticated GraphQL request (three lines) and their flush, to
// memory (the formatting alone) and to a file (plus the write(2) that
// stdout costs in Lambda).
func BenchmarkEMF(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "stdout"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = f.Close() })
	for _, w := range []struct {
		name string
		w    io.Writer
	}{{"Discard", io.Discard}, {"File", f}} {
		b.Run(w.name, func(b *testing.B) {
			e := metrics.NewEMF(w.w, "taskapi/prod")
			b.ReportAllocs()
			for b.Loop() {
				e.CacheRead("hit")
				e.CacheRead("miss")
				e.ObserveRequest("graphql", "query.tasks", "OK", 3*time.Millisecond)
				_ = e.Flush()
			}
		})
	}
}
