//go:build !lambdaenv

package metrics_test

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"
	dto "github.com/prometheus/client_model/go"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/internal/metrics"
	"github.com/taskapi/taskapi/internal/testenv"
	"github.com/taskapi/taskapi/ratelimit"
	"github.com/taskapi/taskapi/server"
	"github.com/taskapi/taskapi/store/dynamo"
	"github.com/taskapi/taskapi/store/embedded"
)

// newServer is what cmd/taskapi builds with METRICS_ADDR set, on the
// embedded store: the metrics wired into core, the store and the handler.
func newServer(t *testing.T, limits core.Limits) (*httptest.Server, *metrics.Metrics) {
	t.Helper()
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m := metrics.New()
	svc := core.NewService(core.Config{
		Store:        metrics.Store(st, m),
		Hasher:       core.NewHasher("", &argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}, 0),
		Tokens:       core.NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Hour, nil),
		CursorSecret: []byte("cursor"),
		Limiter:      core.NewLimiter(ratelimit.NewLocal(0), limits),
		Observer:     m,
	})
	ts := httptest.NewServer(server.New(svc, server.Options{Requests: m}))
	t.Cleanup(ts.Close)
	return ts, m
}

// value is the value of the counter (or the count of the histogram) name
// with exactly labels, 0 if there is none.
func value(t *testing.T, m *metrics.Metrics, name string, labels map[string]string) float64 {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, mt := range f.GetMetric() {
			if matches(mt.GetLabel(), labels) {
				if h := mt.GetHistogram(); h != nil {
					return float64(h.GetSampleCount())
				}
				if g := mt.GetGauge(); g != nil {
					return g.GetValue()
				}
				return mt.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func matches(got []*dto.LabelPair, want map[string]string) bool {
	if len(got) != len(want) {
		return false
	}
	for _, l := range got {
		if want[l.GetName()] != l.GetValue() {
			return false
		}
	}
	return true
}

// TestMetricsAfterRealRequests: each kind of request through the real
// handler moves the counters it should, by the amount it should.
func TestMetricsAfterRealRequests(t *testing.T) {
	limits := core.DefaultLimits()
	limits.LoginAccount = core.Rate{N: 3, Per: time.Hour}
	ts, m := newServer(t, limits)

	const email, pw = "ann@example.com", "s3cret!pw"
	if code, out := send(t, ts, "POST", "/api/v1/auth/register", "", `{"username":"ann","email":"`+email+`","password":"`+pw+`"}`); code != 200 {
		t.Fatalf("register: %d %v", code, out)
	}
	_, out := send(t, ts, "POST", "/api/v1/auth/login", "", `{"email":"`+email+`","password":"`+pw+`"}`)
	token, _ := out["access_token"].(string)
	if token == "" {
		t.Fatalf("login: %v", out)
	}
	req := func(transport, operation, code string) map[string]string {
		return map[string]string{"transport": transport, "operation": operation, "code": code}
	}
	for _, tc := range []struct {
		name   string
		do     func(t *testing.T)
		metric string
		labels map[string]string
		delta  float64
	}{
		{"LoginFailure", func(t *testing.T) {
			if code, _ := send(t, ts, "POST", "/api/v1/auth/login", "", `{"email":"`+email+`","password":"wrong!pw1"}`); code != 401 {
				t.Fatalf("wrong password: %d", code)
			}
		}, "taskapi_login_failures_total", map[string]string{"reason": "bad_credentials"}, 1},
		{"LoginFailureCountedAsRequest", func(t *testing.T) {
			send(t, ts, "POST", "/api/v1/auth/login", "", `{"email":"nobody@example.com","password":"wrong!pw1"}`)
		}, "taskapi_requests_total", req("rest", "POST /api/v1/auth/login", "401"), 1},
		{"UnknownEmailIsAStoreNotFound", func(t *testing.T) {
			send(t, ts, "POST", "/api/v1/auth/login", "", `{"email":"nobody2@example.com","password":"wrong!pw1"}`)
		}, "taskapi_store_errors_total", map[string]string{"kind": "not_found"}, 1},
		{"GraphQLOperation", func(t *testing.T) {
			if code, out := send(t, ts, "POST", "/graphql", token, `{"query":"query Mine { me { id } }"}`); code != 200 || out["errors"] != nil {
				t.Fatalf("me: %d %v", code, out)
			}
		}, "taskapi_requests_total", req("graphql", "query.me", "OK"), 1},
		{"GraphQLErrorCode", func(t *testing.T) {
			send(t, ts, "POST", "/graphql", "", `{"query":"{ me { id } }"}`)
		}, "taskapi_requests_total", req("graphql", "query.me", "UNAUTHENTICATED"), 1},
		{"GraphQLSeveralRootFields", func(t *testing.T) {
			send(t, ts, "POST", "/graphql", token, `{"query":"{ me { id } tasks(first: 1) { totalCount } }"}`)
		}, "taskapi_requests_total", req("graphql", "query.multiple", "OK"), 1},
		{"GraphQLRefusedBeforeExecution", func(t *testing.T) {
			send(t, ts, "POST", "/graphql", token, `{"query":"{ nosuchfield }"}`)
		}, "taskapi_requests_total", req("graphql", "unknown", "400"), 1},
		{"GraphQLLatency", func(t *testing.T) {
			send(t, ts, "POST", "/graphql", token, `{"query":"{ me { id } }"}`)
		}, "taskapi_request_duration_seconds", map[string]string{"transport": "graphql"}, 1},
		{"RESTRouteTemplate", func(t *testing.T) {
			if code, _ := send(t, ts, "GET", "/api/v1/tasks/fetch-task", token, ""); code != 200 {
				t.Fatalf("fetch-task: %d", code)
			}
		}, "taskapi_requests_total", req("rest", "GET /api/v1/tasks/fetch-task", "200"), 1},
		{"RESTRouteWithAnIDIsItsTemplate", func(t *testing.T) {
			send(t, ts, "DELETE", "/api/v1/tasks/delete-task/00000000-0000-0000-0000-000000000000", token, "")
		}, "taskapi_requests_total", req("rest", "DELETE /api/v1/tasks/delete-task/{task_id}", "404"), 1},
		{"UnmatchedPath", func(t *testing.T) {
			send(t, ts, "GET", "/no/such/"+email, "", "")
		}, "taskapi_requests_total", req("other", "unmatched", "404"), 1},
		{"Healthz", func(t *testing.T) {
			send(t, ts, "GET", "/healthz", "", "")
		}, "taskapi_requests_total", req("other", "GET /healthz", "200"), 1},
		{"RateLimitRefusal", func(t *testing.T) {
			// Three attempts at one account from one address are allowed:
			// the login and the wrong password above used two, so of these
			// four, three are refused.
			for range 3 {
				send(t, ts, "POST", "/api/v1/auth/login", "", `{"email":"`+email+`","password":"wrong!pw2"}`)
			}
			if code, _ := send(t, ts, "POST", "/api/v1/auth/login", "", `{"email":"`+email+`","password":"wrong!pw2"}`); code != 429 {
				t.Fatalf("want a refusal, got %d", code)
			}
		}, "taskapi_rate_limited_total", map[string]string{"limit": "login_account"}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := value(t, m, tc.metric, tc.labels)
			tc.do(t)
			if got := value(t, m, tc.metric, tc.labels) - before; got != tc.delta {
				t.Fatalf("%s%v moved by %v, want %v", tc.metric, tc.labels, got, tc.delta)
			}
		})
	}
}

// TestNilMetrics: every method is safe on nil (metrics off).
func TestNilMetrics(t *testing.T) {
	var m *metrics.Metrics
	m.ObserveRequest("rest", "x", "200", time.Second)
	m.CacheRead("hit")
	m.BreakerChanged("cache", "open")
	m.RateLimited("login")
	m.LoginFailed("bad_credentials")
}

// TestDynamoDBCapacityAndThrottles: a store operation on DynamoDB Local,
// through a client observed by the metrics, moves the consumed-capacity
// counter of its operation and table; a throttled attempt counts as one.
func TestDynamoDBCapacityAndThrottles(t *testing.T) {
	m := metrics.New()
	client, err := dynamo.NewClient(t.Context(), dynamo.Options{Endpoint: testenv.DynamoDB(t), Region: "us-east-1", Observer: m})
	if err != nil {
		t.Fatal(err)
	}
	tables := dynamo.Tables{Users: "metrics-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-users"}
	tables.Tasks = strings.TrimSuffix(tables.Users, "-users") + "-tasks"
	s := dynamo.New(client, tables)
	if err := s.CreateTables(t.Context()); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"operation": "GetItem", "table": tables.Users}
	before := value(t, m, "taskapi_dynamodb_consumed_capacity_units_total", labels)
	if _, err := s.GetUser(t.Context(), "VAH1"); err == nil {
		t.Fatal("a user in fresh tables")
	}
	if got := value(t, m, "taskapi_dynamodb_consumed_capacity_units_total", labels) - before; got <= 0 {
		t.Errorf("GetItem on %s consumed %v units by the metrics, want more than 0", tables.Users, got)
	}
	m.DynamoDBThrottled("Query")
	if got := value(t, m, "taskapi_dynamodb_throttled_attempts_total", map[string]string{"operation": "Query"}); got != 1 {
		t.Errorf("throttled attempts %v, want 1", got)
	}
}

// TestSubscriptionGauge: the open subscriptions of this process, by kind,
// go up with each one and down when it ends.
func TestSubscriptionGauge(t *testing.T) {
	m := metrics.New()
	labels := map[string]string{"kind": core.SubscriptionTasks}
	m.Subscriptions(core.SubscriptionTasks, 1)
	m.Subscriptions(core.SubscriptionTasks, 1)
	if v := value(t, m, "taskapi_subscriptions", labels); v != 2 {
		t.Fatalf("open subscriptions %v, want 2", v)
	}
	m.Subscriptions(core.SubscriptionTasks, -1)
	if v := value(t, m, "taskapi_subscriptions", labels); v != 1 {
		t.Fatalf("open subscriptions %v, want 1", v)
	}
}

// TestSessionEvents: a login, a refresh and a logout through the real
// handler each count once.
func TestSessionEvents(t *testing.T) {
	ts, m := newServer(t, core.DefaultLimits())
	const email, pw = "sam@example.com", "s3cret!pw"
	if code, out := send(t, ts, "POST", "/api/v1/auth/register", "", `{"username":"sam","email":"`+email+`","password":"`+pw+`"}`); code != 200 {
		t.Fatalf("register: %d %v", code, out)
	}
	ev := func(e string) float64 {
		return value(t, m, "taskapi_session_events_total", map[string]string{"event": e})
	}
	_, out := send(t, ts, "POST", "/api/v1/auth/login", "", `{"email":"`+email+`","password":"`+pw+`"}`)
	refresh, _ := out["refresh_token"].(string)
	_, out = send(t, ts, "POST", "/api/v1/auth/refresh", "", `{"refresh_token":"`+refresh+`"}`)
	token, _ := out["access_token"].(string)
	if code, _ := send(t, ts, "POST", "/api/v1/auth/logout", token, ""); code != 200 {
		t.Fatalf("logout: %d", code)
	}
	for _, e := range []string{core.SessionLogin, core.SessionRefresh, core.SessionLogout} {
		if got := ev(e); got != 1 {
			t.Errorf("session events %s: %v, want 1", e, got)
		}
	}
}
